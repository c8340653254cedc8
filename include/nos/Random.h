//===- Random.h - Seeded generators, one set of draws -----------*- C++ -*-===//
//
// Every seeded host-side random number of nos (the search's proposals, the
// probe gradients, the synthetic data, batch orders) is drawn here: one
// class of draws (uniform, below, normal) over a 64-bit engine, with fixed
// formulas rather than library distributions, so a sequence is the same with
// every standard library. The search's engine is xoshiro256**, whose state
// saves as text for resume; the data's is std::mt19937_64, which fixed the
// datasets' streams before this class existed. Header only, no dependency.
// (The kernels' random numbers are Philox, Philox.h.)
//
//===----------------------------------------------------------------------===//
#ifndef NOS_RANDOM_H
#define NOS_RANDOM_H

#include "nos/Philox.h"

#include <cstddef>
#include <cstdint>
#include <random>
#include <sstream>
#include <string>

namespace nos {

/// splitmix64's finaliser: turns related words into unrelated ones.
inline uint64_t splitmixFinish(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}
inline constexpr uint64_t kGoldenGamma = 0x9e3779b97f4a7c15ULL;

/// xoshiro256**, seeded by splitmix64; its state saves and loads as text.
class Xoshiro256 {
public:
  using result_type = uint64_t;
  explicit Xoshiro256(uint64_t seed = 0) {
    for (uint64_t &s : s_)
      s = splitmixFinish(seed += kGoldenGamma);
  }
  uint64_t operator()() {
    uint64_t result = rotl(s_[1] * 5, 7) * 9, t = s_[1] << 17;
    s_[2] ^= s_[0], s_[3] ^= s_[1], s_[1] ^= s_[2], s_[0] ^= s_[3];
    s_[2] ^= t, s_[3] = rotl(s_[3], 45);
    return result;
  }
  std::string save() const {
    std::ostringstream out;
    out << s_[0] << ' ' << s_[1] << ' ' << s_[2] << ' ' << s_[3];
    return out.str();
  }
  /// False (and unchanged) when `text` is not four numbers.
  bool load(const std::string &text) {
    std::istringstream in(text);
    uint64_t s[4];
    if (!(in >> s[0] >> s[1] >> s[2] >> s[3]))
      return false;
    for (int k = 0; k < 4; ++k)
      s_[k] = s[k];
    return true;
  }

private:
  static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  uint64_t s_[4];
};

/// The draws, over any engine of 64-bit words.
template <typename Engine> class BasicRng {
public:
  explicit BasicRng(uint64_t seed = 0) : engine_(seed) {}
  uint64_t next() { return engine_(); }
  /// Uniform in [0, 1) from the top 53 bits.
  double uniform() { return double(next() >> 11) * 0x1.0p-53; }
  /// Uniform in [0, n), n > 0, without modulo bias (Lemire's threshold).
  uint64_t below(uint64_t n) {
    uint64_t threshold = (0 - n) % n;
    for (;;) {
      uint64_t r = next();
      if (r >= threshold)
        return r % n;
    }
  }
  /// Standard normal; 1 - u keeps the log finite.
  double normal() {
    double u1 = 1 - uniform();
    double u2 = uniform();
    return boxMuller(u1, u2);
  }
  Engine &engine() { return engine_; }
  const Engine &engine() const { return engine_; }

private:
  Engine engine_;
};

/// The search's generator (strategies, probe gradients, rule samples).
using Rng = BasicRng<Xoshiro256>;
/// The data's generator (synthetic problems, splits, batch orders).
using DataRng = BasicRng<std::mt19937_64>;

} // namespace nos

#endif // NOS_RANDOM_H
