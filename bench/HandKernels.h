//===- HandKernels.h - Hand-written baselines of the bench rules -*- C++
//-*-===//
//
// The bar a compiled kernel has to meet: each built-in benchmark rule written
// as a plain C++ loop with the kernel ABI's signature, so CpuExecutor runs it
// with exactly the same threading as the compiled kernel.
//
//===----------------------------------------------------------------------===//
#ifndef NOS_BENCH_HANDKERNELS_H
#define NOS_BENCH_HANDKERNELS_H

#include "nos/KernelABI.h"

#include <string_view>

namespace nos::bench {

/// The hand-written kernel of a built-in rule ("sgd", "momentum", "adam",
/// "rmsprop", "powersign", "addsign"); null for any other name. State slots
/// follow the compiled kernel's layout for the same rule.
NosCpuKernelFn handKernel(std::string_view rule);

/// Copies g into w (memcpy per slice): the bandwidth yardstick, built with
/// the same flags and run through the same executor as the kernels.
void copyKernel(const NosTensor *table, int64_t count, const NosArgs *args);

} // namespace nos::bench

#endif // NOS_BENCH_HANDKERNELS_H
