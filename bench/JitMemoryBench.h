//===- JitMemoryBench.h - nos-bench jit ------------------------*- C++ -*-===//
//
// Resident memory added per compiled kernel over a long run of distinct
// rules (JitMemoryBench.cpp).
//
//===----------------------------------------------------------------------===//
#ifndef NOS_BENCH_JITMEMORYBENCH_H
#define NOS_BENCH_JITMEMORYBENCH_H

namespace nos::bench {

struct JitMemoryOptions {
  int kernels = 5000;
  int cacheKernels = -1; // -1: the compiler's default, 0: unbounded
};

void runJitMemoryBench(const JitMemoryOptions &o);

} // namespace nos::bench

#endif // NOS_BENCH_JITMEMORYBENCH_H
