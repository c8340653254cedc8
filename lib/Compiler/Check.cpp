//===- Check.cpp - Compiled kernels against the reference -----------------===//
//
// Each step starts both sides from the kernel's own f32 state, so errors are
// compared one step at a time instead of compounding; the state each side
// writes is compared too. The table is split into
// two tensors so that rng_base and multi-tensor calls are exercised. With
// lr = 1, w_old - w_new recovers the kernel's U up to one rounding of w.
//
//===----------------------------------------------------------------------===//
#include "nos/Check.h"

#include "nos/Args.h"
#include "nos/CpuExecutor.h"
#include "nos/Parser.h"
#include "nos/Reference.h"

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <random>
#include <sstream>

namespace nos {

std::vector<float> specialInputs(int64_t n, uint64_t seed) {
  static const float specials[] = {
      0.0f,   -0.0f,   1e-45f, -1e-45f, 1e-40f, -3e-39f, FLT_MIN, -FLT_MIN,
      1e-30f, -1e-20f, 1e30f,  -1e30f,  3e38f,  -3e38f,  1.0f,    -1.0f,
      0.5f,   2.0f,    NAN,    1e-8f,   -1e-8f, 1e-4f,   100.0f,  -88.0f};
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> normal;
  std::uniform_int_distribution<int> exponent(-6, 3);
  std::vector<float> out(static_cast<size_t>(n));
  size_t numSpecials = sizeof(specials) / sizeof(specials[0]);
  for (int64_t i = 0; i < n; ++i) {
    if (rng() % 8 == 0)
      out[i] = specials[rng() % numSpecials];
    else
      out[i] = normal(rng) * std::pow(10.0f, float(exponent(rng)));
  }
  return out;
}

namespace {
constexpr double kUnit = 1.0 / 16777216.0; // 2^-24

bool sameNonFinite(double a, double b) {
  if (std::isnan(a) || std::isnan(b))
    return std::isnan(a) && std::isnan(b);
  return a == b; // equal infinities
}

/// Compares one element; returns the error-to-tolerance ratio (> 1 fails).
/// `wKept` is wscale * w_old, which the kernel rounds once more when weight
/// decay is on (0 without it).
double compare(double kernelU, double wNew, double wKept, const RefValue &ref,
               double safety, double &absError) {
  absError = 0;
  if (std::isinf(ref.bound) || std::isnan(ref.bound))
    return 0; // the rule is unstable here in f32: nothing to compare
  bool kernelFinite = std::isfinite(kernelU),
       refFinite = std::isfinite(ref.value);
  if (!kernelFinite || !refFinite) {
    if (sameNonFinite(kernelU, ref.value))
      return 0;
    // Overflow at a slightly different point is rounding, not a bug.
    double finite = kernelFinite ? kernelU : ref.value;
    bool nearOverflow = std::fabs(finite) + safety * ref.bound >= FLT_MAX;
    return (nearOverflow && !std::isnan(kernelU) && !std::isnan(ref.value))
               ? 0
               : INFINITY;
  }
  absError = std::fabs(kernelU - ref.value);
  double tolerance = safety * ref.bound +
                     2 * kUnit * (std::fabs(wNew) + std::fabs(wKept)) +
                     safety * FLT_MIN; // subnormal flushes in exp
  return absError <= tolerance ? absError / (tolerance + DBL_MIN)
                               : absError / tolerance;
}

/// Weights stay finite and below 1e30 so that w_old - w_new recovers U; a NaN
/// update would otherwise poison every later step's comparison.
void sanitizeWeights(std::vector<float> &w) {
  for (float &x : w)
    x = std::isfinite(x) ? std::fmax(std::fmin(x, 1e30f), -1e30f) : 0.0f;
}

bool usesWeight(const Expr &e) {
  if (e.kind == Expr::Kind::Operand && e.operand == Operand::W)
    return true;
  return (e.lhs && usesWeight(*e.lhs)) || (e.rhs && usesWeight(*e.rhs));
}

struct Side {
  std::vector<float> w;
  std::vector<std::vector<float>> state;
};
} // namespace

static void describe(CheckResult &result, int step, int64_t i, float wOld,
                     float g, double kernelU, const RefValue &ref) {
  std::ostringstream os;
  os.precision(9);
  os << "step " << step << ", element " << i << " (g = " << g
     << ", w = " << wOld << "): kernel U = " << kernelU
     << ", reference U = " << ref.value << " +- " << ref.bound;
  result.firstMismatch = os.str();
}

/// A state element the kernel wrote against the reference's: equal, both
/// NaN, or within 1e-4 of |old| + |new| plus FLT_MIN. beta * old +
/// (1 - beta) * x cancels, so the error scales with its terms, which |old| +
/// |new| bound; 1e-4 leaves room for the polynomial exp/log/cos inside an
/// ema's argument.
static bool stateAgrees(float kernel, double reference, float old) {
  if (std::isnan(kernel) || std::isnan(reference))
    return std::isnan(kernel) && std::isnan(reference);
  if (double(kernel) == reference)
    return true;
  double scale = std::fabs(double(old)) + std::fabs(reference);
  return std::fabs(double(kernel) - reference) <= 1e-4 * scale + FLT_MIN;
}

/// Compares every state slot after a step, so a kernel that skips writing
/// its state back (each step restarts both sides from the kernel's state)
/// is still caught.
static void compareState(CheckResult &result, const KernelInfo &info,
                         const std::vector<std::vector<float>> &before,
                         const std::vector<std::vector<float>> &kernel,
                         const std::vector<std::vector<double>> &reference,
                         int step) {
  for (size_t k = 0; k < kernel.size(); ++k)
    for (size_t i = 0; i < kernel[k].size(); ++i) {
      ++result.compared;
      if (stateAgrees(kernel[k][i], reference[k][i], before[k][i]))
        continue;
      if (result.mismatches++ == 0) {
        std::ostringstream os;
        os.precision(9);
        os << "step " << step << ", state " << info.stateSlots[k]
           << ", element " << i << ": kernel " << kernel[k][i] << ", reference "
           << reference[k][i];
        result.firstMismatch = os.str();
      }
    }
}

CheckResult checkKernel(const CpuKernel &kernel, const CheckOptions &opts) {
  CpuExecutor executor(opts.threads);
  return checkKernel(
      kernel.info,
      [&](NosTensor *table, int64_t count, const NosArgs &args) {
        executor.run(kernel.fn, table, count, args);
      },
      opts);
}

CheckResult checkKernel(const KernelInfo &info, const KernelRunner &run,
                        const CheckOptions &opts) {
  CheckResult result;
  // The reference runs the canonical form, the rule's identity: the tree
  // the compiler parsed back from it, or the text parsed here.
  ExprPtr canonical = info.tree;
  if (!canonical) {
    ParseResult parsed = parseRule(info.canonical);
    if (!parsed) {
      result.error = "canonical text does not parse: " + parsed.error.str();
      return result;
    }
    canonical = parsed.expr;
  }
  Reference reference(canonical);
  reference.setRoundToFloat(true);
  Hyper hyper = opts.hyper;
  hyper.lr = 1;
  if (std::string why = reference.check(hyper); !why.empty()) {
    result.error = why;
    return result;
  }
  const int64_t n = opts.n, split = n / 3;
  const size_t slots = info.stateSlots.size();
  Side side{specialInputs(n, opts.dataSeed), {}};
  side.state.assign(slots, std::vector<float>(size_t(n), 0.0f));
  // Without w in the rule, w_old = 0 makes w_new = -U exact.
  const bool readsW = usesWeight(*canonical);
  for (int step = 1; step <= opts.steps; ++step) {
    sanitizeWeights(side.w);
    if (!readsW)
      std::fill(side.w.begin(), side.w.end(), 0.0f);
    std::vector<float> g = specialInputs(n, opts.dataSeed * 7919 + step);
    std::vector<double> wRef(side.w.begin(), side.w.end()),
        gRef(g.begin(), g.end());
    std::vector<std::vector<double>> stateRef;
    std::vector<double *> statePtrs;
    for (auto &s : side.state)
      stateRef.emplace_back(s.begin(), s.end());
    for (auto &s : stateRef)
      statePtrs.push_back(s.data());
    std::vector<RefValue> update;
    reference.step(wRef.data(), gRef.data(), statePtrs, n, 0, step, hyper,
                   &update);

    std::vector<float> wOld = side.w;
    std::vector<std::vector<float>> stateOld = side.state;
    NosTensor parts[2] = {};
    for (int p = 0; p < 2; ++p) {
      int64_t begin = p == 0 ? 0 : split;
      parts[p].w = side.w.data() + begin;
      parts[p].g = g.data() + begin;
      for (size_t k = 0; k < slots; ++k)
        parts[p].state[k] = side.state[k].data() + begin;
      parts[p].n = p == 0 ? split : n - split;
      parts[p].rng_base = begin;
    }
    std::string error;
    NosArgs args = makeArgs(hyper, step, info.schedules, &error);
    if (!error.empty()) {
      result.error = error;
      return result;
    }
    run(parts, 2, args);

    for (int64_t i = 0; i < n; ++i) {
      // w_new = wscale * w_old - U (KernelABI.h); wscale is 1 without
      // weight decay, and the reference rounds it to f32 alike.
      double kept = double(args.wscale) * double(wOld[i]);
      double kernelU = kept - double(side.w[i]);
      double absError = 0;
      double ratio = compare(kernelU, side.w[i], args.wscale == 1 ? 0 : kept,
                             update[i], opts.safety, absError);
      ++result.compared;
      // Relative error only where w's rounding does not hide U.
      double magnitude = std::fabs(update[i].value);
      if (magnitude >= FLT_MIN &&
          2 * kUnit * std::fabs(side.w[i]) <= 1e-3 * magnitude)
        result.maxRelError = std::max(result.maxRelError, absError / magnitude);
      if (std::isfinite(ratio))
        result.maxErrorToTolerance =
            std::max(result.maxErrorToTolerance, ratio);
      if (ratio > 1) {
        if (result.mismatches++ == 0)
          describe(result, step, i, wOld[i], g[i], kernelU, update[i]);
      }
    }
    compareState(result, info, stateOld, side.state, stateRef, step);
  }
  result.ok = result.mismatches == 0;
  return result;
}

} // namespace nos
