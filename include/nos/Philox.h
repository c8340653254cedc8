//===- Philox.h - Counter-based random numbers (language.md §7) -*- C++ -*-===//
//
// Philox-4x32-10 keyed by the seed, with the counter (element index, step,
// node). The compiled kernels emit the same rounds as MLIR arith ops, so this
// header is the contract both sides implement; every conversion to a float is
// exact (24-bit integers scaled by a power of two) so that CPU, GPU and the
// reference draw bit-identical uniforms.
//
//===----------------------------------------------------------------------===//
#ifndef NOS_PHILOX_H
#define NOS_PHILOX_H

#include <array>
#include <cmath>
#include <cstdint>

namespace nos {

inline constexpr uint32_t kPhiloxM0 = 0xD2511F53u, kPhiloxM1 = 0xCD9E8D57u;
inline constexpr uint32_t kPhiloxW0 = 0x9E3779B9u, kPhiloxW1 = 0xBB67AE85u;

/// Counter = {index lo, index hi, step, node}; key = {seed lo, seed hi}.
inline std::array<uint32_t, 4> philox4x32(uint64_t index, uint32_t step,
                                          uint32_t node, uint64_t seed) {
  uint32_t c0 = uint32_t(index), c1 = uint32_t(index >> 32), c2 = step,
           c3 = node;
  uint32_t k0 = uint32_t(seed), k1 = uint32_t(seed >> 32);
  for (int round = 0; round < 10; ++round) {
    uint64_t p0 = uint64_t(kPhiloxM0) * c0, p1 = uint64_t(kPhiloxM1) * c2;
    uint32_t n0 = uint32_t(p1 >> 32) ^ c1 ^ k0, n1 = uint32_t(p1);
    uint32_t n2 = uint32_t(p0 >> 32) ^ c3 ^ k1, n3 = uint32_t(p0);
    c0 = n0, c1 = n1, c2 = n2, c3 = n3;
    k0 += kPhiloxW0, k1 += kPhiloxW1;
  }
  return {c0, c1, c2, c3};
}

/// Uniform in [0, 1) from the top 24 bits.
inline float uniformFromBits(uint32_t x) {
  return float(x >> 8) * (1.0f / 16777216.0f);
}
/// Uniform in (0, 1]: safe to take the log of.
inline float uniformOpenFromBits(uint32_t x) {
  return float((x >> 8) + 1) * (1.0f / 16777216.0f);
}
/// Box-Muller: a standard normal from u1 in (0, 1] and u2 in [0, 1). The
/// one copy: the kernels' noise, the synthetic data and the search's probe
/// gradients all draw their normals through it.
inline double boxMuller(double u1, double u2) {
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
}

/// Standard normal by Box-Muller from two words, in double precision.
inline double normalFromBits(uint32_t a, uint32_t b) {
  return boxMuller(uniformOpenFromBits(a), uniformFromBits(b));
}

} // namespace nos

#endif // NOS_PHILOX_H
