//===- MockCuda.h - What the mock CUDA driver counts ------------*- C++ -*-===//
//
// The mock driver (MockCuda.cpp) exports its bookkeeping so that tests can
// check what the runtime asked of the driver, which results alone cannot
// show: that a cached table is not uploaded again, how many blocks a launch
// got, that an executor frees everything it allocated. Only the mock exports
// nosMockCudaStats; a test finds it with dlsym on the loaded libcuda.so.1.
//
//===----------------------------------------------------------------------===//
#ifndef NOS_TEST_MOCK_MOCKCUDA_H
#define NOS_TEST_MOCK_MOCKCUDA_H

#include <cstdint>

extern "C" {

struct NosMockCudaStats {
  int64_t primaryContextRefs; // retains not yet released
  int64_t liveAllocations;
  int64_t allocations;  // successful cuMemAlloc calls, ever
  int64_t asyncUploads; // cuMemcpyHtoDAsync calls: how run() uploads tables
  int64_t launches;
  unsigned lastGrid, lastBlock; // x dimensions of the latest launch
  int64_t liveModules;
  int64_t liveEvents;
};

/// A snapshot of the counters, taken under the mock's lock.
NosMockCudaStats nosMockCudaStats();

typedef NosMockCudaStats (*NosMockCudaStatsFn)();
}

#endif // NOS_TEST_MOCK_MOCKCUDA_H
