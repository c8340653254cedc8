//===- SearchBench.h - Distinct rules settled per hour ----------*- C++ -*-===//
//
// `nos-bench search`: one stream of sampled rules (the random strategy,
// fixed seed) settled for the same wall time by the plain pipeline (every
// sample trained over the whole lr grid at full fidelity, nothing skipped)
// and by nos-search's own (dedup, screen, hurdle, halving, default proxy),
// with the child step's GFLOP/s against torch::mm and the default proxy's
// rank correlation from the fidelity study. One JSON object. The step and
// mm figures are per core (one torch thread, as each search worker runs)
// and, as *_all_cores, on every core.

//
//===----------------------------------------------------------------------===//
#ifndef NOS_BENCH_SEARCHBENCH_H
#define NOS_BENCH_SEARCHBENCH_H

#include <cstdint>
#include <string>

namespace nos::bench {

struct SearchBenchOptions {
  double minutes = 3; // per pipeline
  uint64_t seed = 11;
  int workers = 0; // 0: one per core, one torch thread each
  /// report.json of `nos-search fidelity`; its default-proxy correlation
  /// is copied into the result.
  std::string fidelity = "docs/results/proxy-fidelity/report.json";
  std::string plainProxy = "12k";
};

/// Prints the JSON object; throws std::runtime_error naming the problem.
void runSearchBench(const SearchBenchOptions &options);

/// `nos-bench hurdle`: distinct rules sampled by the random strategy, each
/// through the hurdle on plain arrays (train::runHurdle) and as it ran
/// before, with torch autograd and nos::Optimizer (runHurdleWithTorch):
/// how many it rejects alike, the rules it does not, and the median time of
/// each. One JSON object.
struct HurdleBenchOptions {
  int rules = 1000;
  uint64_t seed = 7;
};
void runHurdleBench(const HurdleBenchOptions &options);

} // namespace nos::bench

#endif // NOS_BENCH_SEARCHBENCH_H
