//===- MetaValidation.h - Fitness against a held-out task -------*- C++ -*-===//
//
// Lion's searches kept raising their fitness while a meta-validation task
// fell, in about half of them: a search can overfit its proxy. This study
// watches for that: along a run's time, each rule that became the run's
// best is trained on a suite task the reward never saw (validation split
// only), beside the references, and fitness and meta-validation are
// tabled and plotted against time. It reads the run's store read-only, so
// it may run beside a search that is still going, and continues from its
// own log when run again.
//
//===----------------------------------------------------------------------===//
#ifndef NOS_STUDIES_METAVALIDATION_H
#define NOS_STUDIES_METAVALIDATION_H

#include <string>
#include <vector>

namespace nos::studies {

struct MetaValidationOptions {
  std::string dir;             // metaval.jsonl, .txt, .json, .svg
  std::string run;             // the nos-search run folder
  std::string task = "charlm"; // a suite task (train/Tasks.h)
  std::vector<double> lrs = {1e-3, 3e-3, 0.01, 0.03, 0.1, 0.3, 1, 3};
  int seeds = 1;              // child seeds 0 .. seeds - 1
  int points = 8;             // at most this many of the run's successive bests
  int workers = 0;            // 0: one per core
  std::string device = "cpu"; // train::TaskSpec::device
};

/// One successive best of a run: when it became best, with what reward.
struct BestSoFar {
  double time = 0, reward = 0;
  std::string rule; // canonical
};

/// At most `points` of `bests` (in time order), spread evenly over the
/// list, the first and the last always among them.
std::vector<BestSoFar> spreadPoints(const std::vector<BestSoFar> &bests,
                                    int points);

/// Returns the exit code; errors name their cause.
int runMetaValidation(const MetaValidationOptions &options);

} // namespace nos::studies

#endif // NOS_STUDIES_METAVALIDATION_H
