//===- CudaBench.h - GPU benchmark of compiled update rules -----*- C++ -*-===//
//
// `nos-bench cuda`: the GPU kernel's bandwidth against a device-to-device
// copy measured in the same run. PyTorch's baselines are measured by
// bench/torch_gpu.py with the GPU machine's own python, since a binary
// linked against Debian's CPU LibTorch cannot run there (bench/gpu.sh joins
// the two).
//
//===----------------------------------------------------------------------===//
#ifndef NOS_BENCH_CUDABENCH_H
#define NOS_BENCH_CUDABENCH_H

#include <cstdint>
#include <string>

namespace nos::bench {

struct CudaBenchOptions {
  std::string rule = "adam,powersign";
  int64_t n = int64_t(1) << 28; // 256M parameters
  int tensors = 64;
  int reps = 20;
  int device = 0;
  unsigned vectorWidth = 1; // CompileOptions::gpuVectorWidth
};

/// Prints one JSON object per rule; throws on failure.
void runCudaBench(const CudaBenchOptions &options);

} // namespace nos::bench

#endif // NOS_BENCH_CUDABENCH_H
