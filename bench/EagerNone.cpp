//===- EagerNone.cpp - No LibTorch baselines ------------------------------===//
//
// Built instead of EagerTorch.cpp when NOS_ENABLE_TORCH is OFF, so nos-bench
// still runs and prints null in its torch columns.
//
//===----------------------------------------------------------------------===//
#include "EagerTorch.h"

namespace nos::bench {

std::unique_ptr<TorchBaseline> makeTorchBaseline(const std::string &,
                                                 const float *, const float *,
                                                 int64_t, const Hyper &, int) {
  return nullptr;
}

} // namespace nos::bench
