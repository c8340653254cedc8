//===- Runtime.h - Running compiled CPU kernels -----------------*- C++ -*-===//
//
// The host side of the kernel ABI: per-step arguments (makeArgs), the thread
// pool that applies one compiled kernel to every parameter of a model
// (CpuExecutor) and the optimizer state arrays the kernels update in place
// (StateBuffers). Plain C++17 with no MLIR or torch so that the compiler, the
// torch adapter and tests without a compiler can all use it.
//
//===----------------------------------------------------------------------===//
#ifndef NOS_RUNTIME_H
#define NOS_RUNTIME_H

#include "nos/Hyper.h"
#include "nos/KernelABI.h"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace nos {

/// Fills the per-step arguments of a kernel from the hyperparameters. The
/// step-dependent scalars are computed in double and rounded once to float.
/// `schedules` lists the rule's schedule nodes in the kernel's order. On
/// failure returns a zeroed NosArgs and sets *error (if given) to a non-empty
/// message; on success clears *error.
NosArgs makeArgs(const Hyper &h, int64_t step,
                 const std::vector<ScheduleSpec> &schedules,
                 std::string *error);

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

/// Optimizer state for a list of tensors: `slots` zero-initialized float
/// arrays per tensor, each 64-byte aligned, laid out in NosTensor::state
/// order.
class StateBuffers {
public:
  StateBuffers() = default;
  /// Throws std::invalid_argument if slots > NOS_MAX_STATE or a length is
  /// negative.
  StateBuffers(const std::vector<int64_t> &lengths, int slots);

  size_t tensors() const { return lengths_.size(); }
  int slots() const { return slots_; }
  int64_t length(size_t tensor) const { return lengths_[tensor]; }
  float *get(size_t tensor, size_t slot);
  const float *get(size_t tensor, size_t slot) const;

  /// Points state[0..slots) of table[i] at tensor i's arrays and clears the
  /// remaining slots. Throws std::invalid_argument if the sizes disagree.
  void fillTable(std::vector<NosTensor> &table);
  /// Zeroes every array, as on a fresh optimizer.
  void reset();

private:
  struct FreeDeleter {
    void operator()(float *p) const;
  };
  std::vector<int64_t> lengths_;
  std::vector<size_t> offsets_; // in floats, per tensor, slot 0
  int slots_ = 0;
  size_t totalFloats_ = 0;
  std::unique_ptr<float[], FreeDeleter> block_;
};

} // namespace nos

#endif // NOS_RUNTIME_H
