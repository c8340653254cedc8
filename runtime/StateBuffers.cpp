//===- StateBuffers.cpp - Optimizer state arrays ----------------*- C++ -*-===//
//
// The m, v, gamma and ema arrays a rule keeps per parameter. They live in one
// zeroed block so a model's state is a single allocation, and every array
// starts on a 64-byte boundary so that, like the parameters themselves, the
// vectorized kernel loads whole cache lines.
//
//===----------------------------------------------------------------------===//
#include "nos/StateBuffers.h"

#include <cstdlib>
#include <cstring>
#include <new>
#include <stdexcept>
#include <string>
#include <utility>

namespace nos {
namespace {

constexpr size_t kAlignBytes = 64;
constexpr size_t kAlignFloats = kAlignBytes / sizeof(float);

size_t paddedLength(int64_t n) {
  return (size_t(n) + kAlignFloats - 1) / kAlignFloats * kAlignFloats;
}

float *allocateZeroed(size_t floats) {
  if (floats == 0)
    return nullptr;
  void *p = std::aligned_alloc(kAlignBytes, floats * sizeof(float));
  if (!p)
    throw std::bad_alloc();
  std::memset(p, 0, floats * sizeof(float));
  return static_cast<float *>(p);
}

} // namespace

void StateBuffers::FreeDeleter::operator()(float *p) const { std::free(p); }

StateBuffers::StateBuffers(const std::vector<int64_t> &lengths, int slots)
    : lengths_(lengths), slots_(slots) {
  if (slots < 0 || slots > NOS_MAX_STATE)
    throw std::invalid_argument("state slots must be in [0, " +
                                std::to_string(NOS_MAX_STATE) + "], got " +
                                std::to_string(slots));
  for (int64_t n : lengths) {
    if (n < 0)
      throw std::invalid_argument("negative tensor length " +
                                  std::to_string(n));
    offsets_.push_back(totalFloats_);
    totalFloats_ += paddedLength(n) * size_t(slots);
  }
  block_.reset(allocateZeroed(totalFloats_));
}

float *StateBuffers::get(size_t tensor, size_t slot) {
  return const_cast<float *>(std::as_const(*this).get(tensor, slot));
}

const float *StateBuffers::get(size_t tensor, size_t slot) const {
  if (tensor >= lengths_.size() || slot >= size_t(slots_))
    throw std::out_of_range("state buffer (" + std::to_string(tensor) + ", " +
                            std::to_string(slot) + ") does not exist");
  if (!block_)
    return nullptr;
  return block_.get() + offsets_[tensor] +
         slot * paddedLength(lengths_[tensor]);
}

void StateBuffers::fillTable(std::vector<NosTensor> &table) {
  if (table.size() != lengths_.size())
    throw std::invalid_argument("table has " + std::to_string(table.size()) +
                                " tensors but the state has " +
                                std::to_string(lengths_.size()));
  for (size_t i = 0; i < table.size(); ++i) {
    if (table[i].n != lengths_[i])
      throw std::invalid_argument(
          "tensor " + std::to_string(i) + " has " + std::to_string(table[i].n) +
          " elements but its state has " + std::to_string(lengths_[i]));
    for (int k = 0; k < NOS_MAX_STATE; ++k)
      table[i].state[k] = k < slots_ ? get(i, size_t(k)) : nullptr;
  }
}

void StateBuffers::reset() {
  if (block_)
    std::memset(block_.get(), 0, totalFloats_ * sizeof(float));
}

} // namespace nos
