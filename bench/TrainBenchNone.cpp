//===- TrainBenchNone.cpp - nos-bench train without LibTorch --------------===//
//
// Builds without NOS_ENABLE_TORCH get a clear error instead of the bench.
//
//===----------------------------------------------------------------------===//
#include "TrainBench.h"

namespace nos::bench {
std::string benchTrainStep(const TrainBenchOptions &, std::string *error) {
  *error = "nos-bench train needs a build with NOS_ENABLE_TORCH=ON";
  return {};
}
bool benchProxyStep(int, int, StepFigures &, std::string *error) {
  *error = "nos-bench search needs a build with NOS_ENABLE_TORCH=ON";
  return false;
}
std::string benchLanes(int, int, int, std::string *error) {
  *error = "nos-bench lanes needs a build with NOS_ENABLE_TORCH=ON";
  return {};
}
} // namespace nos::bench
