//===- Final.h - The final table: held-out tasks, test splits ---*- C++ -*-===//
//
// What a search's finds are worth where it never looked: its top rules and
// the six references on named tasks of the suite, each rule's lr chosen on
// the validation split over a few tuning seeds from one fine grid, then
// trained again with fresh seeds at that lr and scored on the test split.
// The test split chooses nothing: not the lr, not the order of the table.
// Every training is a line of DIR/final.jsonl as soon as it ends, so a
// killed table continues where it stopped.
//
//===----------------------------------------------------------------------===//
#ifndef NOS_STUDIES_FINAL_H
#define NOS_STUDIES_FINAL_H

#include "nos/report/Runs.h"

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

namespace nos::studies {

struct FinalOptions {
  std::string dir;               // final.jsonl, final.txt, .json, .svg
  std::vector<std::string> runs; // nos-search run folders
  int top = 3;                   // distinct rules taken from each run
  /// "": a run's top by proxy reward; L2, L3, L4: by margin at that level;
  /// "best": at the highest level with a joined result (levelLeaders), else
  /// by proxy reward: the run's own choice, as the engine's Funnel::best.
  std::string level;
  std::vector<std::string> rules;
  /// Suite tasks (train/Tasks.h). The default search trains on a cut of
  /// Fashion-MNIST's MLP task; these are its full task and two it never saw.
  std::vector<std::string> tasks = {"fmnist-mlp", "charlm", "logistic"};
  /// Half-decades over 1e-4 .. 3: a rule's best lr is not an artefact of
  /// a grid a decade apart.
  std::vector<double> lrs = {1e-4, 3e-4, 1e-3, 3e-3, 0.01,
                             0.03, 0.1,  0.3,  1,    3};
  /// Points tried past each end of `lrs` while a rule's best lies at
  /// that end (tuningLrs): a grid that stops at 3 must not cap a rule
  /// whose best is higher.
  int lrExtend = 3;
  int tuneSeeds = 2; // seeds firstSeed .. firstSeed + tuneSeeds - 1
  int seeds = 5;     // the test seeds, after the tuning ones
  /// 0 is the search's own child seed, so the default leaves it out.
  uint64_t firstSeed = 1;
  int workers = 0;
  std::string device = "cpu"; // train::TaskSpec::device
};

/// One training of the table, as final.jsonl keeps it. `phase` is "tune"
/// (validation only) or "test" (the test split scored at the run's end).
struct FinalRecord {
  std::string task, rule, phase, status; // rule: the canonical form
  double lr = 0;
  uint64_t seed = 0;
  double validation = NAN, test = NAN; // the task's metric
  double seconds = 0;
};

/// The lr of `lrs` with the best mean validation metric over the tuning
/// records given (one rule on one task), and that mean; the first of
/// equals. A mean that is not a number (a diverged language run) never
/// wins; when none is one, the first lr stands.
report::BestLr chooseLr(const std::vector<FinalRecord> &tuning,
                        const std::vector<double> &lrs,
                        const report::Metric &metric);

/// The lrs one rule is tuned over on one task: `grid`, then, while the
/// best mean of `tuning` (the rule's tuning records so far, at any lr)
/// lies at the highest or lowest lr tried, one point past it - that lr
/// times its ratio to its neighbour, to 12 significant digits - at most
/// `perSide` past each end, each appended. It stops at the first lr
/// not yet trained with every one of `seeds` and lists it in `missing`:
/// the next point is known only once that one is measured.
std::vector<double> tuningLrs(const std::vector<FinalRecord> &tuning,
                              const std::vector<double> &grid, int perSide,
                              const std::vector<uint64_t> &seeds,
                              const report::Metric &metric,
                              std::vector<double> &missing);

/// How far `rule` is ahead of `reference` in standard errors of the
/// difference of their means (positive: better by the metric's direction).
double aheadBy(const std::vector<double> &rule,
               const std::vector<double> &reference,
               const report::Metric &metric);

/// Returns the exit code; errors name their cause.
int runFinal(const FinalOptions &options);

} // namespace nos::studies

#endif // NOS_STUDIES_FINAL_H
