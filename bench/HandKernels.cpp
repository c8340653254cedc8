//===- HandKernels.cpp - Hand-written baselines of the bench rules --------===//
//
// Compiled with -O3 -march=native -ffast-math (see CMakeLists.txt) so that the
// loops are as fast as a human would make them without intrinsics. Each rule
// is one fused pass over memory, reading the per-step scalars from NosArgs
// exactly as the compiled kernel does; __restrict spares GCC runtime alias
// checks.
//
//===----------------------------------------------------------------------===//
#include "HandKernels.h"

#include <cmath>
#include <cstring>

namespace nos::bench {
namespace {

inline float sign(float x) { return float(x > 0.0f) - float(x < 0.0f); }

void sgdSlice(float *__restrict w, const float *__restrict g, int64_t n,
              float lr) {
  for (int64_t i = 0; i < n; ++i)
    w[i] -= lr * g[i];
}

void sgd(const NosTensor *t, int64_t count, const NosArgs *a) {
  for (int64_t k = 0; k < count; ++k)
    sgdSlice(t[k].w, t[k].g, t[k].n, a->lr);
}

// 10 * ema(g, 0.9): the literal constants are part of the rule.
void momentumSlice(float *__restrict w, const float *__restrict g,
                   float *__restrict e, int64_t n, float lr) {
  for (int64_t i = 0; i < n; ++i) {
    e[i] = 0.9f * e[i] + 0.1f * g[i];
    w[i] -= lr * (10.0f * e[i]);
  }
}

void momentum(const NosTensor *t, int64_t count, const NosArgs *a) {
  for (int64_t k = 0; k < count; ++k)
    momentumSlice(t[k].w, t[k].g, t[k].state[0], t[k].n, a->lr);
}

void adamSlice(float *__restrict w, const float *__restrict g,
               float *__restrict m, float *__restrict v, int64_t n,
               const NosArgs &a) {
  const float b1 = a.beta1, c1 = a.omb1;
  const float b2 = a.beta2, c2 = a.omb2;
  for (int64_t i = 0; i < n; ++i) {
    m[i] = b1 * m[i] + c1 * g[i];
    v[i] = b2 * v[i] + c2 * g[i] * g[i];
    float u = (m[i] * a.bc1) / (std::sqrt(v[i] * a.bc2) + a.eps);
    w[i] -= a.lr * u;
  }
}

void adam(const NosTensor *t, int64_t count, const NosArgs *a) {
  for (int64_t k = 0; k < count; ++k)
    adamSlice(t[k].w, t[k].g, t[k].state[0], t[k].state[1], t[k].n, *a);
}

// The built-in rmsprop, g / sqrt(ema(g2, 0.99)): PyTorch's RMSprop, alpha
// 0.99, with the protected division's delta as its eps.
void rmspropSlice(float *__restrict w, const float *__restrict g,
                  float *__restrict v, int64_t n, const NosArgs &a) {
  for (int64_t i = 0; i < n; ++i) {
    v[i] = 0.99f * v[i] + 0.01f * (g[i] * g[i]);
    w[i] -= a.lr * (g[i] / (std::sqrt(v[i]) + a.delta));
  }
}

void rmsprop(const NosTensor *t, int64_t count, const NosArgs *a) {
  for (int64_t k = 0; k < count; ++k)
    rmspropSlice(t[k].w, t[k].g, t[k].state[0], t[k].n, *a);
}

// sign(m * bc1) == sign(m) because bc1 > 0, so the hand loop skips it.
void powerSignSlice(float *__restrict w, const float *__restrict g,
                    float *__restrict m, int64_t n, const NosArgs &a) {
  const float b1 = a.beta1, c1 = a.omb1;
  for (int64_t i = 0; i < n; ++i) {
    m[i] = b1 * m[i] + c1 * g[i];
    w[i] -= a.lr * (std::exp(sign(g[i]) * sign(m[i])) * g[i]);
  }
}

void powerSign(const NosTensor *t, int64_t count, const NosArgs *a) {
  for (int64_t k = 0; k < count; ++k)
    powerSignSlice(t[k].w, t[k].g, t[k].state[0], t[k].n, *a);
}

void addSignSlice(float *__restrict w, const float *__restrict g,
                  float *__restrict m, int64_t n, const NosArgs &a) {
  const float b1 = a.beta1, c1 = a.omb1;
  for (int64_t i = 0; i < n; ++i) {
    m[i] = b1 * m[i] + c1 * g[i];
    w[i] -= a.lr * ((1.0f + sign(g[i]) * sign(m[i])) * g[i]);
  }
}

void addSign(const NosTensor *t, int64_t count, const NosArgs *a) {
  for (int64_t k = 0; k < count; ++k)
    addSignSlice(t[k].w, t[k].g, t[k].state[0], t[k].n, *a);
}

} // namespace

NosCpuKernelFn handKernel(std::string_view rule) {
  if (rule == "sgd")
    return sgd;
  if (rule == "momentum")
    return momentum;
  if (rule == "adam")
    return adam;
  if (rule == "rmsprop")
    return rmsprop;
  if (rule == "powersign")
    return powerSign;
  if (rule == "addsign")
    return addSign;
  return nullptr;
}

void copyKernel(const NosTensor *table, int64_t count, const NosArgs *) {
  for (int64_t k = 0; k < count; ++k)
    std::memcpy(table[k].w, table[k].g, size_t(table[k].n) * sizeof(float));
}

} // namespace nos::bench
