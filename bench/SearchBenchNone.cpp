//===- SearchBenchNone.cpp - nos-bench search without LibTorch ------------===//
//
// The search trains children with LibTorch; builds without it say so.
//
//===----------------------------------------------------------------------===//
#include "SearchBench.h"

#include <stdexcept>

namespace nos::bench {
void runSearchBench(const SearchBenchOptions &) {
  throw std::runtime_error(
      "nos-bench search needs a build with NOS_ENABLE_TORCH=ON");
}
void runHurdleBench(const HurdleBenchOptions &) {
  throw std::runtime_error(
      "nos-bench hurdle needs a build with NOS_ENABLE_TORCH=ON");
}
} // namespace nos::bench
