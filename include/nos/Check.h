//===- Check.h - Compiled kernels against the reference ---------*- C++ -*-===//
//
// The differential check behind `nosc --check` and the kernel tests: runs a
// compiled kernel and the reference interpreter on the same f32 inputs, rich
// in zeros, subnormals, huge values and NaN, and compares every element's
// update within a tolerance derived from the rule itself.
//
//===----------------------------------------------------------------------===//
#ifndef NOS_CHECK_H
#define NOS_CHECK_H

#include "nos/Compiler.h"

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace nos {

struct CheckOptions {
  int64_t n = 4099; // odd, so the partial last chunk runs too
  int steps = 3;
  uint64_t dataSeed = 1;
  Hyper hyper; // lr is forced to 1 so that U = w_old - w_new
  /// Tolerance = safety * (reference's f32 error bound) + rounding of w.
  double safety = 16;
  int threads = 2;
};

struct CheckResult {
  bool ok = false;
  std::string error;    // setup failure (bad rule, missing T, ...)
  int64_t compared = 0; // element updates compared
  int64_t mismatches = 0;
  /// Largest |kernel - reference| / |reference| over the normal-range
  /// updates that w's rounding does not hide.
  double maxRelError = 0;
  double maxErrorToTolerance = 0;
  std::string firstMismatch; // "step 2, element 17: kernel .. reference .."
};

/// Inputs with 0, -0, subnormals, ±tiny, ±huge, NaN, and random magnitudes.
std::vector<float> specialInputs(int64_t n, uint64_t seed);

/// Runs a compiled kernel once over a host table (a GPU runner copies the
/// arrays to the device and back).
using KernelRunner =
    std::function<void(NosTensor *table, int64_t count, const NosArgs &args)>;

/// Checks any kernel with `info`'s layout that `run` executes.
CheckResult checkKernel(const KernelInfo &info, const KernelRunner &run,
                        const CheckOptions &options);

/// Checks a CPU kernel on a pool of options.threads threads.
CheckResult checkKernel(const CpuKernel &kernel, const CheckOptions &options);

} // namespace nos

#endif // NOS_CHECK_H
