//===- Levels.h - The funnel's levels above the proxy -----------*- C++ -*-===//
//
// One cheap proxy separates good rules from bad ones but does not order the
// good ones (docs/search.md), so rules that rank high on the proxy (level
// 1) are trained again higher up: each level is suite tasks (train/Tasks.h)
// at their full budget, over an lr grid and several child seeds, scored on
// validation only. A level's every training is a row of the run's store
// (Store::insertLevelRuns), so a promotion is never trained twice.
//
// The engine promotes by rank (search/Funnel.h); FunnelSettings is what a
// run stores of it.
//
//===----------------------------------------------------------------------===//
#ifndef NOS_SEARCH_LEVELS_H
#define NOS_SEARCH_LEVELS_H

#include "nos/Compiler.h"
#include "nos/report/Runs.h"

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace nos::train {
class Task;
struct SuiteTask;
} // namespace nos::train

namespace nos::search {

struct LevelSpec {
  std::string name;               // "L2", "L3", "L4"
  std::vector<std::string> tasks; // suite task names
  std::vector<double> lrs;
  /// Child seeds firstSeed .. firstSeed + seeds - 1, the same for every
  /// rule (common random numbers).
  int seeds = 2;
  /// Rules promoted to this level per promotion round at most.
  int perRound = 1;
  int firstSeed = 0;

  /// The child seeds, in order.
  std::vector<uint64_t> seedList() const {
    std::vector<uint64_t> out;
    for (int k = 0; k < seeds; ++k)
      out.push_back(uint64_t(firstSeed + k));
    return out;
  }
};

/// L2: the proxy's data at full budget without halving, a half-decade grid
/// and 3 seeds (about 6x a proxy evaluation); L3: the full Fashion-MNIST
/// MLP task and logistic regression, 2 seeds (about 100x; docs/search.md);
/// L4: L3's tasks at 6 more seeds, 8-13 (about 300x), so that the rule a
/// run chooses is ranked by margins larger than their noise. L4's seeds
/// start past `nos-search final`'s (1-7 by default): no network it trains
/// is one the final table scores on its test split.
/// Provisional: the fidelity of each level is still to measure.
std::vector<LevelSpec> defaultLevels();

/// The held-out task of meta-validation: `charlm-s`, a small character
/// language model (no reward task is text), at four lrs a decade apart,
/// 1 seed.
LevelSpec defaultMetaValidation();

/// The funnel of a search run (Settings.h stores every member).
struct FunnelSettings {
  /// How many of `levels` are used above the proxy (0: no funnel).
  int used = 2;
  /// Proxy evaluations (candidates trained, not copies or screened) per
  /// promotion round.
  int64_t round = 128;
  /// A rule goes up only from this top share of its level's results (and
  /// only when it is ahead of the best reference there).
  double top = 0.1;
  std::vector<LevelSpec> levels = defaultLevels();
  /// Meta-validation: at each round whose best rule is new, that rule is
  /// trained on these tasks, held out of every reward (as are the
  /// references once); nothing the search decides reads the result.
  bool metaValidation = true;
  LevelSpec meta = defaultMetaValidation();
};

/// One training of a level, as the store keeps it.
struct LevelRun {
  std::string task;
  double lr = 0;
  uint64_t seed = 0;
  std::string status;
  double metric = 0; // the task's validation metric (report::Metric)
  double seconds = 0;
  double time = 0; // the run's time when stored (Store::levelRuns only)
  /// Served by the level-results cache: `seconds` is what training it
  /// took when it was first trained, not time this run spent.
  bool cached = false;
};

/// A rule on one task of a level: the lr whose mean metric over the seeds
/// is best, and that mean.
struct TaskScore {
  std::string task;
  double lr = 0, mean = 0;
  report::Metric metric;
};

/// The score of `task` among `scores`, or null.
const TaskScore *scoreOf(const std::vector<TaskScore> &scores,
                         const std::string &task);

/// Per task of `spec`, the best lr's mean over seeds; a task with no runs
/// is left out. NaN metrics (a diverged language run) never win an lr.
/// Needs no data: a report scores stored runs with it.
std::vector<TaskScore> scoreLevel(const LevelSpec &spec,
                                  const std::vector<LevelRun> &runs);

/// Per task, the best of the references' best-lr means (finite ones only).
std::map<std::string, double>
bestReference(const std::vector<std::vector<TaskScore>> &references);

/// A rule's score at a level: the mean over the level's tasks of its
/// relative margin over the best reference, signed so that better is
/// positive; a task without a finite score on either side counts as -1.
double marginOverBest(const LevelSpec &spec,
                      const std::vector<TaskScore> &scores,
                      const std::map<std::string, double> &best);

/// Trains rules at one level; the tasks are loaded once and shared by the
/// threads that call train().
class LevelTrainer {
public:
  /// Throws std::runtime_error naming a task whose data is missing. The
  /// level's tasks train on `device` (train::TaskSpec::device).
  explicit LevelTrainer(LevelSpec spec, const std::string &device = "cpu");
  ~LevelTrainer();
  /// Every (task, lr, seed) of the level, seed-major. Thread-safe.
  std::vector<LevelRun> train(const CompiledRule &rule) const;
  /// One task of the level at one seed, over the level's lrs.
  std::vector<LevelRun> train(const CompiledRule &rule, const std::string &task,
                              uint64_t seed) const;
  /// One task at one seed and one lr.
  LevelRun train(const CompiledRule &rule, const std::string &task,
                 uint64_t seed, double lr) const;
  const LevelSpec &spec() const { return spec_; }
  /// train::Task::fingerprint() of the level's task `task`.
  std::string fingerprint(const std::string &task) const;

private:
  LevelSpec spec_;
  std::map<std::string, std::unique_ptr<train::Task>> tasks_;
};

} // namespace nos::search

#endif // NOS_SEARCH_LEVELS_H
