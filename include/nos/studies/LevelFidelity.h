//===- LevelFidelity.h - How well each funnel level orders good rules -*- C++
//-*-===//
//
// The funnel is worth its cost only if its levels order the good rules the
// way the final table does, where the proxy does not (Spearman 0.03-0.10
// among the better half of the fidelity study's rules). This study takes
// the rules of a final table (`nos-search final`, the same --runs and
// --top), scores each at the proxy (its stored reward) and at each funnel
// level of the run (trained here, validation only), as margins over the
// best reference, and reports the Spearman correlation of each with the
// final table's test means, per task and over the tasks' mean rank, for
// all rules and for the better half, beside each level's cost per rule.
// Every training is a line of DIR/levels.jsonl as soon as it ends.
//
//===----------------------------------------------------------------------===//
#ifndef NOS_STUDIES_LEVELFIDELITY_H
#define NOS_STUDIES_LEVELFIDELITY_H

#include "nos/search/Levels.h"

#include <string>
#include <vector>

namespace nos::studies {

struct LevelFidelityOptions {
  std::string dir;               // levels.jsonl, levels.txt, levels.json
  std::vector<std::string> runs; // nos-search run folders, as for final
  int top = 3;                   // as for final
  std::string rulesFrom;         // as final's level: "" takes the proxy's
  std::string final;             // the folder of `nos-search final`
  /// More levels to measure beside the run's own, each
  /// "NAME=TASK[+TASK...]:SEEDS[@FIRST]" (parseLevel), on the run's L2 lr
  /// grid.
  std::vector<std::string> extraLevels;
  int workers = 0;
  std::string device = "cpu"; // train::TaskSpec::device
};

/// A level from "NAME=TASK[+TASK...]:SEEDS" with the lr grid `lrs`.
/// Throws std::invalid_argument naming what is wrong (the syntax, an
/// unknown task, seeds out of 1..100).
search::LevelSpec parseLevel(const std::string &text,
                             const std::vector<double> &lrs);

/// Spearman's rho with average ranks over the pairs where both values are
/// finite; NaN with fewer than 3 such pairs.
double finiteSpearman(const std::vector<double> &a,
                      const std::vector<double> &b);

/// Returns the exit code; errors name their cause.
int runLevelFidelity(const LevelFidelityOptions &options);

} // namespace nos::studies

#endif // NOS_STUDIES_LEVELFIDELITY_H
