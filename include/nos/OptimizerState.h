//===- OptimizerState.h - The state rules of both optimizers ----*- C++ -*-===//
//
// nos::Optimizer (C++) and nos.Optimizer (Python) keep their state in their
// framework's own containers, but follow the rules written once here:
// - steps are counted per parameter, as torch.optim counts them: a parameter
//   without a gradient does not step, and one that first gets a gradient
//   late starts at step 1 (its bias corrections are its own);
// - each parameter's random stream starts where the previous parameter's
//   ends, in the order parameters are first seen, so no two share numbers;
// - a parameter that is not float32 keeps a float32 master copy, which the
//   kernel updates and which is rounded back into the parameter.
// One optimizer step launches the kernel once per distinct step count among
// the parameters that have gradients: once, unless some parameters lag.
//
//===----------------------------------------------------------------------===//
#ifndef NOS_OPTIMIZERSTATE_H
#define NOS_OPTIMIZERSTATE_H

#include <cstddef>
#include <cstdint>
#include <vector>

namespace nos {

/// One kernel launch of an optimizer step: the parameters (indices into
/// the caller's list) that all take step number `step` (1-based) now.
struct Launch {
  int64_t step = 1;
  std::vector<size_t> params;
};

/// `steps[i]` is how many steps parameter i has taken, `hasGrad[i]` whether
/// it steps now. Launches come in the order of their first parameter.
/// Throws std::invalid_argument when the sizes differ or a step is negative.
std::vector<Launch> planLaunches(const std::vector<int64_t> &steps,
                                 const std::vector<bool> &hasGrad);

/// Hands out the start of each parameter's random stream.
class RngBases {
public:
  explicit RngBases(int64_t next = 0) : next_(next) {}
  /// The base of a new parameter of `numel` elements.
  int64_t take(int64_t numel) {
    int64_t base = next_;
    next_ += numel;
    return base;
  }
  int64_t next() const { return next_; }

private:
  int64_t next_;
};

/// Whether a parameter of this element type keeps a float32 master copy.
inline bool needsMasterCopy(bool isFloat32) { return !isFloat32; }

} // namespace nos

#endif // NOS_OPTIMIZERSTATE_H
