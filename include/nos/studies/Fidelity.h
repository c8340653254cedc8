//===- Fidelity.h - How well a cheap proxy ranks update rules ---*- C++ -*-===//
//
// A search trusts its proxy to order rules the way the real task would.
// This study scores one fixed set of rules (the six references and rules
// sampled from the search space that pass the screen and the hurdle) on
// several proxies and on a full-budget task, over several child seeds, and
// reports each proxy's cost per candidate and the Spearman rank
// correlation of its rewards with the full task's. Results are appended to
// a JSON-lines file as each (proxy, rule, seed) finishes, so a study that is
// stopped continues where it was.
//
//===----------------------------------------------------------------------===//
#ifndef NOS_STUDIES_FIDELITY_H
#define NOS_STUDIES_FIDELITY_H

#include <map>
#include <string>
#include <vector>

namespace nos::studies {

/// Ranks from 0 (the lowest) of the finite values, ties sharing their mean
/// rank; NaN where a value is not finite.
std::vector<double> averageRanks(const std::vector<double> &v);

/// Spearman's rho with average ranks for ties; 0 when either side is
/// constant or the sizes differ. The values must be finite.
double spearman(const std::vector<double> &a, const std::vector<double> &b);

struct FidelityOptions {
  std::string dir;                  // results.jsonl, report.txt, .svg
  std::vector<std::string> proxies; // preset names; "full" is added
  int sampledRules = 30;
  int seeds = 3;
  uint64_t sampleSeed = 7;
  int workers = 0;            // 0: one per core
  std::string device = "cpu"; // train::TaskSpec::device
};

/// Runs (or continues) the study and writes DIR/report.txt, DIR/report.json
/// and DIR/report.svg. Returns the exit code; errors name their cause.
int runFidelity(const FidelityOptions &options);

} // namespace nos::studies

#endif // NOS_STUDIES_FIDELITY_H
