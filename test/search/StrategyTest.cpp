//===- StrategyTest.cpp - The search strategies on toy rewards ------------===//
//
// Validity of every sample, determinism, resumability, and learning: on a
// reward whose best answer is known (agreement with PowerSign's tokens), the
// controller must clearly beat uniform sampling within a few hundred
// samples.
//
//===----------------------------------------------------------------------===//
#include "nos/Parser.h"
#include "nos/Tokens.h"
#include "nos/search/Strategies.h"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <set>

using namespace nos;
using namespace nos::search;

namespace {
const char *const kPowerSign = "sign(g) sign(m) x x mul ; o1 g exp x mul";

/// Share of positions holding PowerSign's token.
double tokenReward(const Space &space, const Actions &a) {
  static const Actions target = space.parse(kPowerSign);
  int same = 0;
  for (size_t i = 0; i < a.size(); ++i)
    same += a[i] == target[i];
  return double(same) / double(a.size());
}

/// The number after `label` in the strategy's progress line.
double figureOf(const Strategy &s, const std::string &label) {
  std::string d = s.describe();
  size_t at = d.find(label + " ");
  REQUIRE(at != std::string::npos);
  return std::stod(d.substr(at + label.size() + 1));
}

/// `rounds` batches proposed and learnt from with the token reward; the
/// proposals and their rewards, in order.
std::pair<std::vector<Actions>, std::vector<double>>
play(Strategy &strategy, const Space &space, int rounds, int batchSize) {
  std::vector<Actions> proposed;
  std::vector<double> earned;
  for (int round = 0; round < rounds; ++round) {
    auto batch = strategy.propose(batchSize);
    std::vector<double> rewards;
    for (const Actions &a : batch)
      rewards.push_back(tokenReward(space, a));
    strategy.learn(batch, rewards);
    proposed.insert(proposed.end(), batch.begin(), batch.end());
    earned.insert(earned.end(), rewards.begin(), rewards.end());
  }
  return {proposed, earned};
}

/// Like play(), with a rule proposed before earning `copy` (NaN: teaches
/// nothing; else its reward again): the distinct rules of the last `tail`
/// proposals and the best reward found.
std::pair<size_t, double> playCopies(Strategy &strategy, const Space &space,
                                     int rounds, int tail, bool nan) {
  std::set<Actions> seen, recent;
  double best = 0;
  for (int round = 0; round < rounds; ++round) {
    auto batch = strategy.propose(10);
    std::vector<double> rewards;
    for (const Actions &a : batch) {
      double r = tokenReward(space, a);
      best = std::max(best, r);
      rewards.push_back(!seen.insert(a).second && nan ? NAN : r);
      if ((rounds - round) * 10 <= tail)
        recent.insert(a);
    }
    strategy.learn(batch, rewards);
  }
  return {recent.size(), best};
}

/// Mean reward of the last `tail` of `samples` proposed in batches of 10.
double learnToy(const std::string &name, int samples, int tail,
                uint64_t seed = 3) {
  Space space(2);
  StrategyOptions o;
  o.name = name, o.seed = seed;
  auto strategy = makeStrategy(o, space);
  std::vector<double> all = play(*strategy, space, samples / 10, 10).second;
  double sum = 0;
  for (int i = int(all.size()) - tail; i < int(all.size()); ++i)
    sum += all[i];
  return sum / tail;
}
} // namespace

TEST_CASE("every sampled rule is valid, for every strategy", "[search]") {
  for (int units = Space::kMinUnits; units <= Space::kMaxUnits; ++units) {
    Space space(units);
    for (const std::string &name : strategyNames()) {
      StrategyOptions o;
      o.name = name, o.seed = 11, o.population = 8, o.tournament = 3;
      auto strategy = makeStrategy(o, space);
      for (int round = 0; round < 25; ++round) {
        auto batch = strategy->propose(40);
        std::vector<double> rewards;
        for (const Actions &a : batch) {
          REQUIRE(space.contains(a));
          ParseResult parsed = parseTokens(space.tokens(a));
          INFO(name << ": " << space.tokens(a) << ": " << parsed.error.str());
          REQUIRE(parsed);
          REQUIRE(space.parse(space.tokens(a)) == a);
          rewards.push_back(double(a[0] % 7) / 7);
        }
        strategy->learn(batch, rewards);
      }
    }
  }
}

TEST_CASE("the space offers only earlier units' outputs", "[search]") {
  Space space(3);
  auto has = [&](int pos, const std::string &token) {
    for (int id : space.valid(pos))
      if (space.vocabulary()[id] == token)
        return true;
    return false;
  };
  CHECK_FALSE(has(0, "o1"));
  CHECK(has(5, "o1"));
  CHECK_FALSE(has(5, "o2"));
  CHECK(has(11, "o2"));
  CHECK(has(2, "x"));
  CHECK_FALSE(has(4, "x"));
  CHECK(has(4, "mul"));
  CHECK(space.parse("g g x x add") == Actions{}); // one unit, space has 3
  CHECK_THROWS_AS(Space(4), std::invalid_argument);
}

// Without the optimizer operands no strategy can propose adam or rmsprop,
// and a stored rule that uses them is not in the space; everything else is.
TEST_CASE("the no-optimizers space leaves out adam and rmsprop only",
          "[search]") {
  Space paper(2), bare(2, "no-optimizers");
  std::vector<std::string> missing;
  for (const std::string &token : paper.vocabulary())
    if (std::find(bare.vocabulary().begin(), bare.vocabulary().end(), token) ==
        bare.vocabulary().end())
      missing.push_back(token);
  CHECK(missing == std::vector<std::string>{"adam", "rmsprop"});
  CHECK(bare.parse("adam g x x add ; o1 g x x add").empty());
  CHECK_FALSE(bare.parse("sign(g) sign(m) x x mul ; o1 g exp x mul").empty());
  for (const std::string &name : strategyNames()) {
    StrategyOptions o;
    o.name = name, o.seed = 5, o.population = 8, o.tournament = 3;
    auto strategy = makeStrategy(o, bare);
    for (int round = 0; round < 20; ++round) {
      std::vector<Actions> batch = strategy->propose(16);
      std::vector<double> rewards;
      for (const Actions &a : batch) {
        std::string tokens = bare.tokens(a);
        INFO(name << ": " << tokens);
        REQUIRE(tokens.find("adam") == std::string::npos);
        REQUIRE(tokens.find("rmsprop") == std::string::npos);
        rewards.push_back(double(a[0] % 5) / 5);
      }
      strategy->learn(batch, rewards);
    }
  }
  CHECK_THROWS_WITH(Space(2, "tiny"),
                    Catch::Contains("unknown space 'tiny'; expected paper or "
                                    "no-optimizers"));
}

TEST_CASE("same seed, same candidates; another seed, others", "[search]") {
  Space space(2);
  for (const std::string &name : strategyNames()) {
    auto run = [&](uint64_t seed) {
      StrategyOptions o;
      o.name = name, o.seed = seed, o.population = 6, o.tournament = 2;
      auto s = makeStrategy(o, space);
      return play(*s, space, 5, 8).first;
    };
    INFO(name);
    CHECK(run(5) == run(5));
    CHECK(run(5) != run(6));
  }
}

TEST_CASE("a restored strategy proposes what the original would", "[search]") {
  Space space(2);
  for (const std::string &name : strategyNames()) {
    StrategyOptions o;
    o.name = name, o.seed = 9, o.population = 6, o.tournament = 2;
    auto original = makeStrategy(o, space);
    play(*original, space, 4, 8);
    std::string state = original->saveState();
    auto copy = makeStrategy(o, space);
    copy->loadState(state);
    INFO(name);
    CHECK(copy->propose(16) == original->propose(16));
    CHECK(copy->describe() == original->describe());
    if (name == "random" || name == "evolution") // torch archives carry ids
      CHECK(copy->saveState() == original->saveState());
    StrategyOptions other = o;
    other.name = name == "random" ? "evolution" : "random";
    CHECK_THROWS_AS(makeStrategy(other, space)->loadState(state),
                    std::runtime_error);
    CHECK_THROWS_AS(copy->loadState("not a state"), std::runtime_error);
  }
}

// The controller samples a batch in one pass, drawing its uniforms in the
// order one-at-a-time sampling drew them: the batch is the same rules.
TEST_CASE("a batch of samples is the samples one at a time", "[search]") {
  Space space(2);
  StrategyOptions o;
  o.name = "ppo", o.seed = 4;
  auto batched = makeStrategy(o, space), single = makeStrategy(o, space);
  for (int round = 0; round < 3; ++round) {
    std::vector<Actions> each;
    for (int i = 0; i < 16; ++i)
      each.push_back(single->propose(1).at(0));
    std::vector<Actions> all = batched->propose(16);
    CHECK(all == each);
    std::vector<double> rewards(16);
    for (size_t i = 0; i < rewards.size(); ++i)
      rewards[i] = double(all[i][0] % 3);
    batched->learn(all, rewards), single->learn(each, rewards);
  }
}

TEST_CASE("PPO and REINFORCE beat random on a toy reward", "[search]") {
  double random = learnToy("random", 400, 100);
  double ppo = learnToy("ppo", 400, 100);
  double reinforce = learnToy("reinforce", 400, 100);
  double evolution = learnToy("evolution", 400, 100);
  INFO("random " << random << " ppo " << ppo << " reinforce " << reinforce
                 << " evolution " << evolution);
  CHECK(random < 0.15); // chance agreement of 10 tokens
  CHECK(ppo > random + 0.2);
  CHECK(reinforce > random + 0.1);
  CHECK(evolution > random + 0.1);
}

// A copy that teaches nothing: no advantage, no population place. On the
// toy reward the controller that learns from copies collapses onto a few
// rules; learning from new rules only, it keeps proposing new ones and
// still finds the answer.
TEST_CASE("copies that teach nothing keep the controller exploring",
          "[search]") {
  // PPO (REINFORCE collapses later than this test's 1,500 samples).
  Space space(2);
  StrategyOptions o;
  o.name = "ppo", o.seed = 3, o.hidden = 32; // small, for a quick test
  auto cached = makeStrategy(o, space), fresh = makeStrategy(o, space);
  auto [cachedDistinct, cachedBest] =
      playCopies(*cached, space, 150, 200, false);
  auto [freshDistinct, freshBest] = playCopies(*fresh, space, 150, 200, true);
  INFO("distinct of the last 200, best: copies rewarded "
       << cachedDistinct << ", " << cachedBest << "; copies NaN "
       << freshDistinct << ", " << freshBest);
  CHECK(freshDistinct > 2 * cachedDistinct);
  CHECK(freshBest >= cachedBest);
  // A batch of NaN rewards without the entropy bonus moves nothing.
  o = {};
  o.name = "ppo", o.seed = 5, o.entropyWeight = 0;
  auto learnt = makeStrategy(o, space), untouched = makeStrategy(o, space);
  std::vector<Actions> batch = learnt->propose(8);
  untouched->propose(8);
  learnt->learn(batch, std::vector<double>(8, NAN));
  CHECK(learnt->propose(16) == untouched->propose(16));
  // Evolution leaves copies out of its population.
  o.name = "evolution", o.population = 4, o.tournament = 2;
  auto evolution = makeStrategy(o, space);
  std::vector<Actions> first = evolution->propose(4);
  evolution->learn(first, {0.1, NAN, NAN, NAN});
  CHECK(evolution->describe().find("population 1") != std::string::npos);
}

// A novelty target steers the entropy weight: on the toy reward, where a
// fixed bonus lets PPO settle on repeating a few rules, the steered one
// keeps proposing new rules at about the target share and still finds a
// rule within two tokens of the answer. The weight rises on copies, falls
// on new rules, and is restored.
TEST_CASE("a novelty target keeps the controller proposing new rules",
          "[search]") {
  Space space(2);
  StrategyOptions o;
  o.name = "ppo", o.hidden = 32;
  o.learningRate = 0.05, o.entropyWeight = 0.001; // collapses
  size_t fixedDistinct = 0, steeredDistinct = 0;
  double steeredWorst = 1;
  // Three seeds, summed: one trajectory depends on torch's thread count
  // and on the CPU its kernels were picked for (per seed, over 1 and 2
  // threads, the fixed bonus left 68-192 distinct and the steered one
  // 192-279 on the machine this was written on; 2-190 and 210-314 on an
  // AMD EPYC, where seed 4's best is 8 tokens of 10 with either bonus).
  for (uint64_t seed : {3, 4, 5}) {
    o.seed = seed, o.noveltyTarget = 0; // a fixed bonus
    auto fixed = makeStrategy(o, space);
    o.noveltyTarget = 0.5;
    auto steered = makeStrategy(o, space);
    fixedDistinct += playCopies(*fixed, space, 300, 500, true).first;
    auto [distinct, best] = playCopies(*steered, space, 300, 500, true);
    steeredDistinct += distinct;
    steeredWorst = std::min(steeredWorst, best);
  }
  INFO("distinct of the last 500, three seeds: fixed "
       << fixedDistinct << ", steered " << steeredDistinct
       << "; the steered runs' worst best " << steeredWorst);
  CHECK(2 * steeredDistinct > 3 * fixedDistinct);
  CHECK(steeredDistinct >= 600);
  CHECK(steeredWorst >= 0.8); // 8 of PowerSign's 10 tokens

  auto weightOf = [](const Strategy &s) { return figureOf(s, "weight"); };
  auto fresh = makeStrategy(o, space);
  double start = weightOf(*fresh);
  CHECK(start == Approx(0.001));
  std::vector<Actions> batch = fresh->propose(8);
  fresh->learn(batch, std::vector<double>(8, NAN));
  double raised = weightOf(*fresh);
  CHECK(raised == Approx(0.001 * std::exp(0.05)).epsilon(1e-3));
  batch = fresh->propose(8);
  fresh->learn(batch, std::vector<double>(8, 0.5));
  CHECK(weightOf(*fresh) < raised);
  auto restored = makeStrategy(o, space);
  restored->loadState(fresh->saveState());
  CHECK(weightOf(*restored) == weightOf(*fresh));
  CHECK(restored->propose(16) == fresh->propose(16));
  // Copies that teach their original's reward are not told apart.
  o.copyReward = "original";
  auto unsteered = makeStrategy(o, space);
  CHECK(unsteered->describe().find("weight") == std::string::npos);
}

// A policy that moves far within one update: a sample it had made nearly
// impossible becomes likely, and exp of its log-ratio overflows a float.
// Stale samples (the pipeline proposes a batch before the last is learnt)
// on a sharp policy did this in a real search (seed 0's main job, update
// 533: a log-ratio of 124, every weight NaN after it, and one rule, each
// position's last valid token, proposed forever). Here a policy collapsed
// at a huge learning rate learns from rules it gives log-probabilities of
// -700 to -800, which pass 88 within one epoch. Without the cap both seeds
// went NaN.
TEST_CASE("a policy that moves far in one update stays finite", "[search]") {
  Space space(2);
  Actions nanRule; // what a NaN policy samples: no draw is below a NaN sum
  for (int pos = 0; pos < space.length(); ++pos)
    nanRule.push_back(space.valid(pos).back());
  StrategyOptions o;
  o.name = "ppo", o.hidden = 32, o.learningRate = 1;
  for (uint64_t seed : {3, 4}) {
    o.seed = seed;
    auto ppo = makeStrategy(o, space);
    play(*ppo, space, 60, 8); // collapses onto a rule or two
    StrategyOptions u;
    u.name = "random", u.seed = seed;
    std::vector<Actions> strange = makeStrategy(u, space)->propose(8);
    ppo->learn(strange, {1, 0, 0, 0, 1, 0, 0, 0});
    std::string state = ppo->describe();
    INFO("seed " << seed << ": " << state);
    CHECK(state.find("nan") == std::string::npos);
    CHECK(state.find("skipped") == std::string::npos); // the cap sufficed
    std::vector<Actions> next = ppo->propose(8);
    CHECK(std::count(next.begin(), next.end(), nanRule) == 0);
  }
  // Rewards that overflow a float make a non-finite loss: the step is
  // skipped, and counted, rather than taken.
  o.seed = 5, o.learningRate = 0.002;
  auto guarded = makeStrategy(o, space), untouched = makeStrategy(o, space);
  std::vector<Actions> batch = guarded->propose(8);
  untouched->propose(8);
  guarded->learn(batch, {1e39, -1e39, 0, 0, 0, 0, 0, 0});
  CHECK(guarded->describe().find("non-finite steps skipped: 1") !=
        std::string::npos);
  CHECK(guarded->propose(16) == untouched->propose(16));
  auto restored = makeStrategy(o, space);
  std::string saved = guarded->saveState();
  restored->loadState(saved);
  CHECK(restored->describe() == guarded->describe());
  // A state a NaN policy left (entropy null) is refused, not resumed.
  size_t newline = saved.find('\n'), length = std::stoul(saved);
  std::string head = saved.substr(newline + 1, length);
  size_t at = head.find("\"entropy\":") + 10;
  head.replace(at, head.find(',', at) - at, "null");
  std::string nan = std::to_string(head.size()) + "\n" + head +
                    saved.substr(newline + 1 + length);
  CHECK_THROWS_WITH(restored->loadState(nan), Catch::Contains("policy is NaN"));
}

// With a pipeline the engine opens a batch before it has taught the last
// one, so the policy learning a batch has moved since it sampled it. PPO's
// ratio is to the policy that sampled (a stale batch is clipped like any
// off-policy sample), and a saved state keeps the open batches' sampling
// log-probabilities, so a resumed run learns what an unbroken one does.
TEST_CASE("PPO's old policy is the one that sampled the batch", "[search]") {
  Space space(2);
  StrategyOptions o;
  o.name = "ppo", o.seed = 11, o.learningRate = 0.05;
  auto rewardsOf = [](const std::vector<Actions> &batch) {
    std::vector<double> r;
    for (const Actions &a : batch)
      r.push_back(double(a[0] % 5) / 5);
    return r;
  };
  auto stalenessOf = [](const Strategy &s) { return figureOf(s, "staleness"); };
  auto plain = makeStrategy(o, space);
  for (int k = 0; k < 3; ++k) {
    std::vector<Actions> b = plain->propose(8);
    plain->learn(b, rewardsOf(b));
    CHECK(std::abs(stalenessOf(*plain)) < 1e-4); // the sampler is the learner
  }
  auto piped = makeStrategy(o, space);
  std::vector<Actions> first = piped->propose(8), second = piped->propose(8);
  piped->learn(first, rewardsOf(first));
  CHECK(std::abs(stalenessOf(*piped)) < 1e-4);
  auto resumed = makeStrategy(o, space);
  resumed->loadState(piped->saveState());
  piped->learn(second, rewardsOf(second));
  resumed->learn(second, rewardsOf(second));
  INFO(piped->describe());
  CHECK(stalenessOf(*piped) > 1e-3);
  CHECK(resumed->describe() == piped->describe());
  CHECK(resumed->propose(16) == piped->propose(16));
  // A batch it never sampled has the learning policy as its old one.
  auto learner = makeStrategy(o, space);
  learner->learn(first, rewardsOf(first));
  learner->learn(second, rewardsOf(second));
  CHECK(stalenessOf(*learner) == 0);
}

// Lion's additions to evolution, on the toy reward: a warm start one
// token from the answer finds it and earns more early on than a cold
// start; a plateau restarts the population from the best rule; both are
// restored with the rest of the state.
TEST_CASE("evolution warm-starts and restarts on a plateau", "[search]") {
  Space space(2);
  StrategyOptions o;
  o.name = "evolution", o.seed = 3; // population 24, tournament 6
  auto cold = makeStrategy(o, space);
  o.warmStart = {"sign(g) sign(m) x x mul ; o1 g exp x add"};
  auto warm = makeStrategy(o, space);
  CHECK(warm->propose(1).front() == space.parse(o.warmStart.front()));
  auto [coldRules, coldRewards] = play(*cold, space, 50, 10);
  auto [warmRules, warmRewards] = play(*warm, space, 50, 10);
  double coldMean = 0, warmMean = 0;
  for (size_t i = 0; i < warmRewards.size(); ++i)
    coldMean += coldRewards[i] / 500, warmMean += warmRewards[i] / 500;
  INFO("mean reward of 500: cold " << coldMean << ", warm " << warmMean);
  CHECK(warmMean > coldMean + 0.1); // 0.616 against 0.419
  CHECK(*std::max_element(warmRewards.begin(), warmRewards.end()) == 1.0);

  // A flat reward: the first member is the best, every later one is not.
  o = {};
  o.name = "evolution", o.population = 4, o.tournament = 2, o.seed = 5;
  o.restartAfter = 10;
  auto flat = makeStrategy(o, space);
  for (int round = 0; round < 3; ++round) {
    std::vector<Actions> batch = flat->propose(10);
    flat->learn(batch, std::vector<double>(10, 0.5));
  }
  CHECK(flat->describe().find("restarts 2") != std::string::npos);
  auto restored = makeStrategy(o, space);
  restored->loadState(flat->saveState());
  CHECK(restored->describe() == flat->describe());
  CHECK(restored->propose(16) == flat->propose(16));

  // Copies with the funnel's rewards are no tries: a population of one
  // evaluated member takes 30 of them without a restart or a new member,
  // and the one rewarded above the best becomes the best it restarts from.
  auto copied = makeStrategy(o, space);
  copied->learn(copied->propose(1), {0.5});
  for (int round = 0; round < 3; ++round) {
    std::vector<Actions> batch = copied->propose(10);
    std::vector<double> rewards(10, 0.4);
    if (round == 2)
      rewards[3] = 0.9;
    copied->learn(batch, rewards, std::vector<bool>(10, true));
  }
  CHECK(copied->describe() == "population 1, best 0.5000");
  copied->learn(copied->propose(10), std::vector<double>(10, 0.4));
  CHECK(copied->describe() == "population 1, best 0.9000, restarts 1");
  // With copies joining (the behaviour before), the 30 restart it.
  o.copyMembers = "join";
  auto joined = makeStrategy(o, space);
  joined->learn(joined->propose(1), {0.5});
  for (int round = 0; round < 3; ++round) {
    std::vector<Actions> batch = joined->propose(10);
    joined->learn(batch, std::vector<double>(10, 0.4),
                  std::vector<bool>(10, true));
  }
  CHECK(joined->describe().find("restarts 3") != std::string::npos);
  o.copyMembers = "everything";
  CHECK_THROWS_WITH(makeStrategy(o, space), Catch::Contains("copy-members"));
  o.copyMembers = "rescore";

  o.warmStart = {"sign(g) sign(m) x x"}; // a unit short
  CHECK_THROWS_WITH(makeStrategy(o, space),
                    Catch::Contains("is not in the search space"));
}

TEST_CASE("bad strategy settings are refused", "[search]") {
  Space space(2);
  StrategyOptions o;
  o.name = "annealing";
  CHECK_THROWS_AS(makeStrategy(o, space), std::invalid_argument);
  o.name = "evolution", o.population = 4, o.tournament = 5;
  CHECK_THROWS_AS(makeStrategy(o, space), std::invalid_argument);
  o.name = "ppo", o.hidden = 0;
  CHECK_THROWS_AS(makeStrategy(o, space), std::invalid_argument);
  o = {};
  o.noveltyTarget = 1;
  CHECK_THROWS_AS(makeStrategy(o, space), std::invalid_argument);
}
