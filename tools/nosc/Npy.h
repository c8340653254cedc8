//===- Npy.h - NumPy .npy files of float32 ----------------------*- C++ -*-===//
//
// nosc --run reads weights and gradients from, and writes results to, .npy
// files, which is how tensors cross the boundary to Python tooling. Only
// little-endian float32 in C order is supported, which is all nos produces;
// anything else is rejected with a message that names the file and the reason
// rather than being misread.
//
//===----------------------------------------------------------------------===//
#ifndef NOSC_NPY_H
#define NOSC_NPY_H

#include <cstdint>
#include <string>
#include <vector>

namespace nos {

struct NpyArray {
  std::vector<int64_t> shape; // empty for a 0-d array (one element)
  std::vector<float> data;    // C order
};

/// Reads a '<f4', C-order .npy file (format 1.0, 2.0 or 3.0). On failure
/// returns false, leaves `out` unspecified and sets `error` to
/// "<path>: <reason>".
bool readNpy(const std::string &path, NpyArray &out, std::string &error);

/// Writes `data` (product of `shape` floats, C order) as a version 1.0 .npy
/// file, or 2.0 if the header needs it. The write is atomic: the file appears
/// under `path` complete or not at all.
bool writeNpy(const std::string &path, const float *data,
              const std::vector<int64_t> &shape, std::string &error);
/// As above; fails if array.data.size() is not the product of array.shape.
bool writeNpy(const std::string &path, const NpyArray &array,
              std::string &error);

} // namespace nos

#endif // NOSC_NPY_H
