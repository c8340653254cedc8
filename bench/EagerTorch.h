//===- EagerTorch.h - LibTorch baselines, without torch types ---*- C++ -*-===//
//
// What users would run without nos: the rule as eager tensor ops and, where
// one exists, the matching torch::optim optimizer. The interface carries no
// torch types so that only EagerTorch.cpp pays for torch headers; when the
// build has no torch (NOS_ENABLE_TORCH=OFF) the factory returns null.
//
//===----------------------------------------------------------------------===//
#ifndef NOS_BENCH_EAGERTORCH_H
#define NOS_BENCH_EAGERTORCH_H

#include "nos/Hyper.h"
#include "nos/KernelABI.h"

#include <cstdint>
#include <memory>
#include <string>

namespace nos::bench {

/// Torch's copies of w, g and the state of one built-in rule. The caller
/// times the steps so that every column uses the same clock.
class TorchBaseline {
public:
  virtual ~TorchBaseline() = default;
  /// One step of the rule as eager tensor ops, with nos's per-step scalars.
  virtual void eagerStep(const NosArgs &args) = 0;
  /// Whether a torch::optim optimizer implements the rule.
  virtual bool hasOptimizer() const = 0;
  /// One torch::optim step (on its own copy of w and state).
  virtual void optimizerStep() = 0;
  /// The eager path's weights, to check it computes the same rule.
  virtual const float *eagerWeights() const = 0;
};

/// The baseline of built-in rule `rule` on copies of w and g (n elements),
/// with torch's intra-op threads set to `threads`. Null if the rule has no
/// baseline or the build has no torch.
std::unique_ptr<TorchBaseline> makeTorchBaseline(const std::string &rule,
                                                 const float *w, const float *g,
                                                 int64_t n, const Hyper &hyper,
                                                 int threads);

} // namespace nos::bench

#endif // NOS_BENCH_EAGERTORCH_H
