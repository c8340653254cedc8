//===- StateBuffers.h - Optimizer state arrays ------------------*- C++ -*-===//
//
// The zero-initialized, aligned float arrays the kernels update in place,
// one set per tensor (runtime/StateBuffers.cpp).
//
//===----------------------------------------------------------------------===//
#ifndef NOS_STATEBUFFERS_H
#define NOS_STATEBUFFERS_H

#include "nos/KernelABI.h"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

namespace nos {

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

#endif // NOS_STATEBUFFERS_H
