//===- CpuExecutor.h - Running compiled CPU kernels -------------*- C++ -*-===//
//
// The thread pool that applies one compiled kernel to every parameter of a
// model, and how it splits a table of tensors into per-thread parts
// (runtime/CpuExecutor.cpp). Plain C++17 with no MLIR or torch so that the
// compiler, the torch adapter and tests without a compiler can all use it.
//
//===----------------------------------------------------------------------===//
#ifndef NOS_CPUEXECUTOR_H
#define NOS_CPUEXECUTOR_H

#include "nos/KernelABI.h"

#include <cstdint>
#include <memory>
#include <vector>

namespace nos {

/// Chunks smaller than this are not worth waking a thread for; tables with
/// fewer elements in total run inline on the caller's thread.
inline constexpr int64_t kMinElementsPerThread = 16 * 1024;
/// Slices start at multiples of this many elements from the tensor start so
/// that a 64-byte-aligned tensor gives aligned, whole-vector slices.
inline constexpr int64_t kChunkAlign = 64;

/// How many threads a table is worth, at most `threads`: one per
/// kMinElementsPerThread elements in total, and at least one.
int partsFor(const NosTensor *table, int64_t count, int threads);

/// A slice of `t` covering elements [start, start + n).
NosTensor sliceTensor(const NosTensor &t, int64_t start, int64_t n);

/// Splits the table into at most `parts` contiguous runs of about equal total
/// element count; part p is the sub-table one thread passes to the kernel.
/// Empty slices are dropped and so are parts that end up empty.
std::vector<std::vector<NosTensor>> splitTable(const NosTensor *table,
                                               int64_t count, int parts);

/// Applies a compiled kernel to a table of tensors with a persistent pool of
/// threads. Each participating thread calls the kernel exactly once with its
/// own contiguous sub-table; the caller's thread takes the first part.
///
/// run() is meant for one caller at a time; concurrent callers are serialized
/// by an internal lock rather than interleaved. A kernel must not call run()
/// on the executor that invoked it (that deadlocks).
class CpuExecutor {
public:
  /// `threads` <= 0 means std::thread::hardware_concurrency().
  explicit CpuExecutor(int threads = 0);
  ~CpuExecutor();
  CpuExecutor(const CpuExecutor &) = delete;
  CpuExecutor &operator=(const CpuExecutor &) = delete;

  /// Blocks until every element of every tensor has been updated.
  void run(NosCpuKernelFn fn, const NosTensor *table, int64_t count,
           const NosArgs &args);
  /// Threads that may take part in a call, the caller's included.
  int threads() const { return threads_; }

private:
  struct Pool;
  int threads_;
  std::unique_ptr<Pool> pool_;
};

} // namespace nos

#endif // NOS_CPUEXECUTOR_H
