//===- CudaHostRun.h - GPU kernels on host arrays ---------------*- C++ -*-===//
//
// One launch over arrays that live in host memory, copied in and out, for
// checks and tests (runtime/CudaHostRun.cpp).
//
//===----------------------------------------------------------------------===//
#ifndef NOS_CUDAHOSTRUN_H
#define NOS_CUDAHOSTRUN_H

#include "nos/CudaExecutor.h"

#include <cstdint>
#include <string>

namespace nos {

/// Runs the kernel under `key` once over a table of *host* arrays: copies
/// each tensor's w, g and first `slots` state arrays to the device, launches,
/// waits, and copies w and the state back. For checks and tests only.
void runOnHostArrays(CudaExecutor &gpu, const std::string &key,
                     NosTensor *table, int64_t count, const NosArgs &args,
                     int slots);

} // namespace nos

#endif // NOS_CUDAHOSTRUN_H
