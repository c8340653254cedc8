//===- Strategies.cpp - Random sampling and regularized evolution ---------===//
//
// The two baselines a learned controller has to beat, over the controller's
// own token space. Evolution is Real et al.'s aging variant (AAAI 2019): a
// tournament picks the parent, a child differs from it in one token or one
// whole unit, and the oldest member (not the worst) leaves the population,
// which keeps lucky evaluations from ruling forever. Two options follow
// Lion's search (Chen et al. 2023): a warm start from given rules, and a
// restart from the best rule when the best stops improving.
//
//===----------------------------------------------------------------------===//
#include "nos/search/Strategies.h"
#include "nos/search/Controller.h"

#include <nlohmann/json.hpp>

#include <cmath>
#include <deque>
#include <sstream>
#include <stdexcept>

namespace nos::search {

Strategy::~Strategy() = default;

Actions sampleUniform(const Space &space, Rng &rng) {
  Actions out(space.length());
  for (int pos = 0; pos < space.length(); ++pos)
    out[pos] = space.valid(pos)[rng.below(space.valid(pos).size())];
  return out;
}

namespace {
nlohmann::json parseState(const std::string &bytes, const char *kind) {
  nlohmann::json j = nlohmann::json::parse(bytes, nullptr, false);
  if (j.is_discarded() || j.value("strategy", "") != kind)
    throw std::runtime_error(std::string("the stored state is not a ") + kind +
                             " strategy's");
  return j;
}

class RandomStrategy : public Strategy {
public:
  RandomStrategy(const StrategyOptions &o, const Space &space)
      : space_(space), rng_(o.seed) {}

  std::vector<Actions> propose(int count) override {
    std::vector<Actions> out;
    for (int i = 0; i < count; ++i)
      out.push_back(sampleUniform(space_, rng_));
    return out;
  }
  void learn(const std::vector<Actions> &, const std::vector<double> &,
             const std::vector<bool> &) override {}
  std::string saveState() const override {
    return nlohmann::json{{"strategy", "random"}, {"rng", rng_.engine().save()}}
        .dump();
  }
  void loadState(const std::string &bytes) override {
    if (!rng_.engine().load(parseState(bytes, "random").value("rng", "")))
      throw std::runtime_error("the stored random state is damaged");
  }

private:
  const Space &space_;
  Rng rng_;
};

class EvolutionStrategy : public Strategy {
public:
  EvolutionStrategy(const StrategyOptions &o, const Space &space)
      : o_(o), space_(space), rng_(o.seed) {
    if (o.population < 2 || o.tournament < 1 || o.tournament > o.population)
      throw std::invalid_argument("evolution needs population >= 2 and "
                                  "1 <= tournament <= population");
    if (o.restartAfter < 0)
      throw std::invalid_argument("evolution's restart-after must be >= 0");
    if (o.copyMembers != "rescore" && o.copyMembers != "join")
      throw std::invalid_argument("evolution's copy-members must be rescore "
                                  "or join, not '" +
                                  o.copyMembers + "'");
    for (const std::string &tokens : o.warmStart) {
      warm_.push_back(space.parse(tokens));
      if (warm_.back().empty())
        throw std::invalid_argument("warm-start rule '" + tokens +
                                    "' is not in the search space (" +
                                    std::to_string(space.units()) +
                                    " units of 5 tokens, each valid "
                                    "at its position)");
    }
  }

  std::vector<Actions> propose(int count) override {
    std::vector<Actions> out;
    for (int i = 0; i < count; ++i)
      if (warmProposed_ < warm_.size())
        out.push_back(warm_[warmProposed_++]);
      else if (int(population_.size()) < o_.population)
        out.push_back(refill());
      else
        out.push_back(mutate(population_[tournament()].first));
    return out;
  }

  void learn(const std::vector<Actions> &batch,
             const std::vector<double> &rewards,
             const std::vector<bool> &copies) override {
    for (size_t i = 0; i < batch.size(); ++i) {
      if (std::isnan(rewards[i]))
        continue; // a copy: the population keeps distinct members
      if (!copies.empty() && copies[i] && o_.copiesRescore()) {
        promoted(batch[i], rewards[i]);
        continue;
      }
      population_.push_back({batch[i], rewards[i]});
      if (int(population_.size()) > o_.population)
        population_.pop_front(); // aging: the oldest goes
      if (best_.first.empty() || rewards[i] > best_.second) {
        best_ = population_.back();
        sinceBest_ = 0;
      } else if (o_.restartAfter > 0 && ++sinceBest_ >= o_.restartAfter) {
        restart();
      }
    }
  }

  std::string saveState() const override {
    nlohmann::json j{{"strategy", "evolution"},
                     {"rng", rng_.engine().save()},
                     {"population", members(population_)},
                     {"warm_proposed", warmProposed_},
                     {"since_best", sinceBest_},
                     {"restarts", restarts_}};
    if (!best_.first.empty())
      j["best"] = memberJson(best_);
    return j.dump();
  }

  void loadState(const std::string &bytes) override {
    nlohmann::json j = parseState(bytes, "evolution");
    std::deque<Member> population;
    for (const nlohmann::json &m : j.at("population"))
      population.push_back(member(m));
    if (!rng_.engine().load(j.value("rng", "")))
      throw std::runtime_error("the stored evolution state is damaged");
    population_ = std::move(population);
    // States stored before warm starts and restarts had neither.
    warmProposed_ = j.value("warm_proposed", size_t(0));
    sinceBest_ = j.value("since_best", 0);
    restarts_ = j.value("restarts", 0);
    best_ = j.contains("best") ? member(j.at("best")) : bestOf(population_);
  }

  std::string describe() const override {
    double best = population_.empty() ? 0 : bestOf(population_).second;
    std::string line = "population " + std::to_string(population_.size()) +
                       ", best " + std::to_string(best).substr(0, 6);
    if (restarts_ > 0)
      line += ", restarts " + std::to_string(restarts_);
    return line;
  }

private:
  using Member = std::pair<Actions, double>;

  static nlohmann::json memberJson(const Member &m) {
    return {{"actions", m.first}, {"reward", m.second}};
  }

  static nlohmann::json members(const std::deque<Member> &population) {
    nlohmann::json out = nlohmann::json::array();
    for (const Member &m : population)
      out.push_back(memberJson(m));
    return out;
  }

  Member member(const nlohmann::json &m) const {
    Actions a = m.at("actions").get<Actions>();
    if (!space_.contains(a))
      throw std::runtime_error("a stored evolution member is not in the "
                               "search space");
    return {a, m.at("reward").get<double>()};
  }

  static Member bestOf(const std::deque<Member> &population) {
    Member best;
    for (const Member &m : population)
      if (best.first.empty() || m.second > best.second)
        best = m;
    return best;
  }

  /// A child while the population is not full: a uniform sample, or once
  /// warm-started (or restarted) a mutant of a member, of a warm-start
  /// rule while there is none.
  Actions refill() {
    if (warm_.empty() && restarts_ == 0)
      return sampleUniform(space_, rng_);
    if (!population_.empty())
      return mutate(population_[rng_.below(population_.size())].first);
    return mutate(warm_[rng_.below(warm_.size())]);
  }

  /// The plateau's end: only the best rule found stays, and the population
  /// refills with its mutants, as Lion's search restarted from its best.
  /// (Beginning afresh instead when the best had not moved since the last
  /// restart was tried, e1db33b, and did worse: docs/search.md.)
  void restart() {
    population_ = {best_};
    sinceBest_ = 0;
    ++restarts_;
  }

  /// A copy's reward, which the funnel gave the rule it copies: news of a
  /// rule already evaluated, so it rescores that rule where it is a member
  /// and may become the best, but adds no member and is no try towards the
  /// plateau. (Counted as tries, a 100-minute run's copies of promoted
  /// rules restarted the population 3,972 times and filled it with copies:
  /// docs/search.md; --copy-members join keeps that behaviour.)
  void promoted(const Actions &rule, double reward) {
    for (Member &m : population_)
      if (m.first == rule)
        m.second = reward;
    if (best_.first.empty() || reward > best_.second) {
      best_ = {rule, reward};
      sinceBest_ = 0;
    }
  }

  /// Index of the best of `tournament` members drawn with replacement.
  size_t tournament() {
    size_t best = rng_.below(population_.size());
    for (int k = 1; k < o_.tournament; ++k) {
      size_t i = rng_.below(population_.size());
      if (population_[i].second > population_[best].second)
        best = i;
    }
    return best;
  }

  Actions mutate(Actions a) {
    if (rng_.uniform() < o_.unitMutation) {
      int unit = int(rng_.below(size_t(space_.units())));
      for (int k = 0; k < Space::kUnitLength; ++k) {
        int pos = unit * Space::kUnitLength + k;
        a[pos] = space_.valid(pos)[rng_.below(space_.valid(pos).size())];
      }
      return a;
    }
    int pos = int(rng_.below(size_t(space_.length())));
    const std::vector<int> &ok = space_.valid(pos);
    int choice = ok[rng_.below(ok.size() - 1)]; // one of the others
    a[pos] = choice == a[pos] ? ok.back() : choice;
    return a;
  }

  StrategyOptions o_;
  const Space &space_;
  Rng rng_;
  std::deque<Member> population_;
  std::vector<Actions> warm_;
  size_t warmProposed_ = 0; // warm-start rules proposed so far
  Member best_;             // the best member so far (empty: none yet)
  int sinceBest_ = 0;       // members since the best last improved
  int restarts_ = 0;
};
} // namespace

const std::vector<std::string> &strategyNames() {
  static const std::vector<std::string> names = {"ppo", "reinforce", "random",
                                                 "evolution"};
  return names;
}

std::unique_ptr<Strategy> makeStrategy(const StrategyOptions &options,
                                       const Space &space) {
  if (options.name == "random")
    return std::make_unique<RandomStrategy>(options, space);
  if (options.name == "evolution")
    return std::make_unique<EvolutionStrategy>(options, space);
  if (options.name == "ppo" || options.name == "reinforce")
    return makeController(options, space);
  throw std::invalid_argument("unknown strategy '" + options.name +
                              "'; expected ppo, reinforce, random or "
                              "evolution");
}

} // namespace nos::search
