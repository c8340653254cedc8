//===- LevelFidelity.cpp - How well each funnel level orders good rules ---===//
//
// A level's score of a rule is what the engine would give it (search/
// Levels.h: margin over the best reference); the proxy's is the rule's
// stored reward as a margin over the best reference's. The final table's
// order is each task's test mean, signed so that higher is better, and
// over tasks the mean of the rules' ranks. "The better half" is the half of
// the rules ahead by that mean rank: the proxy is known to separate good
// from bad, and the question is whether a level orders the good ones.
//
//===----------------------------------------------------------------------===//
#include "nos/studies/LevelFidelity.h"

#include "nos/Compiler.h"
#include "nos/search/Levels.h"
#include "nos/search/Settings.h"
#include "nos/search/Store.h"
#include "nos/studies/Evaluations.h"
#include "nos/studies/Fidelity.h"
#include "nos/train/Tasks.h"

#include <fmt/core.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <map>
#include <mutex>
#include <numeric>

namespace nos::studies {
using namespace search;

double finiteSpearman(const std::vector<double> &a,
                      const std::vector<double> &b) {
  std::vector<double> x, y;
  for (size_t i = 0; i < std::min(a.size(), b.size()); ++i)
    if (std::isfinite(a[i]) && std::isfinite(b[i]))
      x.push_back(a[i]), y.push_back(b[i]);
  return x.size() < 3 ? NAN : spearman(x, y);
}

search::LevelSpec parseLevel(const std::string &text,
                             const std::vector<double> &lrs) {
  size_t eq = text.find('='), colon = text.rfind(':');
  auto bad = [&](const std::string &why) {
    return std::invalid_argument(
        "--level '" + text + "': " + why +
        " (expected NAME=TASK[+TASK...]:SEEDS[@FIRST])");
  };
  if (eq == std::string::npos || eq == 0 || colon == std::string::npos ||
      colon < eq + 2)
    throw bad("not of the form");
  LevelSpec spec{text.substr(0, eq), {}, lrs, 0, 0};
  std::string tasks = text.substr(eq + 1, colon - eq - 1);
  for (size_t at = 0; at <= tasks.size();) {
    size_t plus = std::min(tasks.find('+', at), tasks.size());
    std::string task = tasks.substr(at, plus - at);
    try {
      train::suiteTask(task);
    } catch (const std::invalid_argument &e) {
      throw bad(e.what());
    }
    spec.tasks.push_back(task);
    at = plus + 1;
  }
  size_t at = std::min(text.find('@', colon), text.size());
  auto number = [&](size_t from, size_t to, const std::string &what) {
    try {
      size_t used = 0;
      int n = std::stoi(text.substr(from, to - from), &used);
      if (used == to - from)
        return n;
    } catch (const std::exception &) {
    }
    throw bad(what + " is not a number");
  };
  spec.seeds = number(colon + 1, at, "the seeds");
  if (spec.seeds < 1 || spec.seeds > 100)
    throw bad("the seeds are not in 1..100");
  if (at < text.size())
    spec.firstSeed = number(at + 1, text.size(), "the first seed");
  if (spec.firstSeed < 0 || spec.firstSeed > 1000000)
    throw bad("the first seed is not in 0..1000000");
  return spec;
}

namespace {
/// Per final task, rule (canonical) -> test mean signed so that higher is
/// better; read from DIR/final.json.
std::map<std::string, std::map<std::string, double>>
readFinal(const std::string &dir) {
  std::string path = dir + "/final.json";
  std::ifstream in(path);
  if (!in)
    throw std::runtime_error("cannot read " + path +
                             " (run nos-search final there first)");
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(in);
  } catch (const nlohmann::json::exception &e) {
    throw std::runtime_error(path + ": " + e.what());
  }
  std::map<std::string, std::map<std::string, double>> out;
  for (const auto &[task, t] : j.at("tasks").items()) {
    double sign = t.at("higher_is_better").get<bool>() ? 1 : -1;
    for (const nlohmann::json &row : t.at("rows"))
      out[task][row.at("canonical").get<std::string>()] =
          sign * numberOr(row, "test_mean");
  }
  return out;
}

/// The trainings of the study, keyed by level, rule, task and seed.
class Log {
public:
  explicit Log(const std::string &path) : file_(path) {
    for (const nlohmann::json &l : file_.lines())
      done_[key(l.at("level"), l.at("rule"), l.at("task"), l.at("seed"))] =
          runsOf(l);
  }
  static std::string key(const std::string &level, const std::string &rule,
                         const std::string &task, uint64_t seed) {
    return fmt::format("{}\n{}\n{}\n{}", level, rule, task, seed);
  }
  bool has(const std::string &k) const {
    std::lock_guard<std::mutex> lock(mutex_);
    return done_.count(k) > 0;
  }
  void add(const std::string &level, const std::string &rule,
           const std::string &task, uint64_t seed,
           const std::vector<LevelRun> &runs) {
    nlohmann::json l = {
        {"level", level}, {"rule", rule}, {"task", task}, {"seed", seed}};
    for (const LevelRun &r : runs)
      l["runs"].push_back({{"lr", r.lr},
                           {"status", r.status},
                           {"metric", finiteOrNull(r.metric)},
                           {"seconds", r.seconds}});
    std::lock_guard<std::mutex> lock(mutex_);
    file_.append(l);
    done_[key(level, rule, task, seed)] = runsOf(l);
  }
  /// Every stored training of `rule` at `level`.
  std::vector<LevelRun> runs(const LevelSpec &level,
                             const std::string &rule) const {
    std::vector<LevelRun> out;
    for (const std::string &task : level.tasks)
      for (uint64_t seed : level.seedList())
        if (auto it = done_.find(key(level.name, rule, task, seed));
            it != done_.end())
          out.insert(out.end(), it->second.begin(), it->second.end());
    return out;
  }

private:
  static std::vector<LevelRun> runsOf(const nlohmann::json &l) {
    std::vector<LevelRun> out;
    for (const nlohmann::json &r : l.at("runs"))
      out.push_back({l.at("task"), r.at("lr"), l.at("seed"), r.at("status"),
                     numberOr(r, "metric"), r.at("seconds")});
    return out;
  }
  JsonLines file_;
  std::map<std::string, std::vector<LevelRun>> done_;
  mutable std::mutex mutex_;
};

/// Trains every (rule, task, seed) of every level not yet in the log, the
/// children on `device`.
void train(Log &log, const std::vector<LevelSpec> &levels,
           const std::vector<RatedRule> &rules, int workers,
           const std::string &device) {
  for (const LevelSpec &level : levels) {
    LevelTrainer trainer(level, device);
    struct Job {
      size_t rule;
      std::string task;
      uint64_t seed;
    };
    std::vector<Job> jobs;
    for (size_t r = 0; r < rules.size(); ++r)
      for (const std::string &task : level.tasks)
        for (uint64_t seed : level.seedList())
          if (!log.has(Log::key(level.name, rules[r].canonical, task, seed)))
            jobs.push_back({r, task, seed});
    fmt::print(stderr, "nos-search levels: {} trainings of {} lrs at {}\n",
               jobs.size(), level.lrs.size(), level.name);
    std::vector<CompiledRule> compiled;
    for (const RatedRule &r : rules)
      compiled.push_back(CompiledRule::fromText(r.canonical));
    runJobs(jobs.size(), workers, [&](size_t i) {
      const Job &j = jobs[i];
      log.add(level.name, rules[j.rule].canonical, j.task, j.seed,
              trainer.train(compiled[j.rule], j.task, j.seed));
    });
  }
}

/// The rules' margins at a level; the references' best per task first.
std::vector<double> levelMargins(const Log &log, const LevelSpec &level,
                                 const std::vector<RatedRule> &rules,
                                 size_t references, double &seconds) {
  std::vector<std::vector<TaskScore>> refs;
  std::vector<std::vector<TaskScore>> scores;
  seconds = 0;
  for (size_t r = 0; r < rules.size(); ++r) {
    std::vector<LevelRun> runs = log.runs(level, rules[r].canonical);
    for (const LevelRun &run : runs)
      seconds += run.seconds / double(rules.size());
    scores.push_back(scoreLevel(level, runs));
    if (r < references)
      refs.push_back(scores.back());
  }
  std::map<std::string, double> best = bestReference(refs);
  std::vector<double> out;
  for (const std::vector<TaskScore> &s : scores)
    out.push_back(marginOverBest(level, s, best));
  return out;
}

/// The proxy's margins: each rule's stored reward in the first run (its
/// scored original's; a reference's own row) over the best reference's.
std::vector<double> proxyMargins(const std::string &run,
                                 const std::vector<RatedRule> &rules) {
  std::map<std::string, double> reward;
  double best = -INFINITY;
  for (const Candidate &c : Store::open(run, true)->all()) {
    if (c.status != status::Scored)
      continue;
    reward.try_emplace(c.canonical, c.reward);
    if (c.batch < 0)
      best = std::max(best, c.reward);
  }
  std::vector<double> out;
  for (const RatedRule &r : rules) {
    auto it = reward.find(r.canonical);
    out.push_back(it == reward.end() || !std::isfinite(best)
                      ? NAN
                      : (it->second - best) / std::abs(best));
  }
  return out;
}
} // namespace

int runLevelFidelity(const LevelFidelityOptions &o) {
  return runStudy("nos-search levels", [&] {
    if (o.runs.empty())
      throw std::invalid_argument("give the runs of the final table (--runs)");
    auto truth = readFinal(o.final);
    std::vector<RatedRule> rules = collectRules(o.runs, o.top, {}, o.rulesFrom);
    size_t references = referenceRatedRules().size();
    SearchSettings settings =
        SearchSettings::fromJson(Store::open(o.runs[0], true)->settingsJson());
    std::vector<LevelSpec> levels(settings.funnel.levels.begin(),
                                  settings.funnel.levels.begin() +
                                      std::max(1, settings.funnel.used));
    for (const std::string &text : o.extraLevels) {
      levels.push_back(parseLevel(text, settings.funnel.levels[0].lrs));
      for (size_t k = 0; k + 1 < levels.size(); ++k)
        if (levels[k].name == levels.back().name)
          throw std::invalid_argument("--level '" + text + "': the name " +
                                      levels[k].name + " is taken");
    }
    std::filesystem::create_directories(o.dir);
    Log log(o.dir + "/levels.jsonl");
    train(log, levels, rules, o.workers, o.device);

    // The final table's order: per task, and the mean rank over tasks.
    std::vector<std::string> tasks;
    std::vector<std::vector<double>> truths;
    std::vector<double> meanRank(rules.size(), 0);
    for (const auto &[task, byRule] : truth) {
      std::vector<double> v;
      for (const RatedRule &r : rules) {
        auto it = byRule.find(r.canonical);
        v.push_back(it == byRule.end() ? NAN : it->second);
      }
      std::vector<double> rk = averageRanks(v);
      for (size_t i = 0; i < rules.size(); ++i) // printed from 1, the lowest
        meanRank[i] += (rk[i] + 1) / double(truth.size());
      tasks.push_back(task), truths.push_back(std::move(v));
    }
    tasks.push_back("mean rank"), truths.push_back(meanRank);
    std::vector<double> order;
    for (double r : meanRank)
      if (std::isfinite(r)) // a rule missing from a task has no mean rank
        order.push_back(r);
    std::sort(order.begin(), order.end());
    double median = order.empty() ? NAN : order[order.size() / 2];

    std::vector<std::pair<std::string, std::vector<double>>> scorers = {
        {"proxy (L1)", proxyMargins(o.runs[0], rules)}};
    std::vector<double> costs = {NAN};
    for (const LevelSpec &level : levels) {
      double seconds = 0;
      scorers.push_back({level.name + " (" +
                             fmt::format("{}", fmt::join(level.tasks, ", ")) +
                             ")",
                         levelMargins(log, level, rules, references, seconds)});
      costs.push_back(seconds);
    }

    std::string text = fmt::format(
        "{} rules ({} references and the top {} of {}), final table {}\n"
        "Spearman of each scorer's margin with the final table's test "
        "means (all rules / the better half by mean rank)\n  {:<34} {:>9}",
        rules.size(), references, o.top, fmt::join(o.runs, ", "), o.final,
        "scorer", "s/rule");
    for (const std::string &t : tasks)
      text += fmt::format("  {:>17}", t);
    text += "\n";
    nlohmann::json json;
    for (size_t s = 0; s < scorers.size(); ++s) {
      const auto &[name, margins] = scorers[s];
      text += fmt::format("  {:<34} {:>9.1f}", name, costs[s]);
      nlohmann::json row = {{"scorer", name},
                            {"seconds_per_rule", finiteOrNull(costs[s])}};
      for (size_t t = 0; t < tasks.size(); ++t) {
        std::vector<double> a, b, ha, hb;
        for (size_t i = 0; i < rules.size(); ++i) {
          a.push_back(margins[i]), b.push_back(truths[t][i]);
          if (meanRank[i] >= median)
            ha.push_back(margins[i]), hb.push_back(truths[t][i]);
        }
        double all = finiteSpearman(a, b), half = finiteSpearman(ha, hb);
        text += fmt::format("  {:>8.2f} / {:>5.2f}", all, half);
        row["spearman"][tasks[t]] = {{"all", finiteOrNull(all)},
                                     {"better_half", finiteOrNull(half)}};
      }
      text += "\n";
      json["scorers"].push_back(row);
    }
    text += "  rule margins (proxy, levels) and final mean rank (higher is "
            "better):\n";
    for (size_t i = 0; i < rules.size(); ++i) {
      text += "   ";
      for (const auto &[name, margins] : scorers)
        text += fmt::format(" {:>+7.2f}%", 100 * margins[i]);
      text += fmt::format("  {:>5.1f}  {}\n", meanRank[i], rules[i].label);
    }
    writeStudyFiles(
        o.dir, {{"levels.txt", text}, {"levels.json", json.dump(1) + "\n"}});
    fmt::print("{}", text);
  });
}

} // namespace nos::studies
