//===- Hyper.h - Runtime hyperparameters and per-step scalars ---*- C++ -*-===//
//
// The hyperparameters a rule runs with, and the host-side formulas for the
// scalars that depend only on the step: bias corrections and the annealed-noise
// scale (the decay schedules are Schedule.h's). Header-only and dependency-free
// because the reference interpreter, the runtime and the GPU path must compute
// exactly the same numbers.
//
//===----------------------------------------------------------------------===//
#ifndef NOS_HYPER_H
#define NOS_HYPER_H

#include "nos/Schedule.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace nos {

struct Hyper {
  double lr = 0.1;
  double beta1 = 0.9, beta2 = 0.999, beta3 = 0.999;
  double eps = 1e-8;
  double delta = 1e-8;
  int64_t totalSteps = 0; // required by rules that use ld, cd or rd
  uint64_t seed = 0;
  double weightDecay = 0; // decoupled, AdamW's: w <- w - lr * weightDecay * w
  bool maximize = false;  // ascend: the rule sees -g
};

/// Why `h` cannot drive a descent, or "": a negative lr would climb the
/// loss without a word, a NaN would poison every weight.
inline std::string checkHyper(const Hyper &h) {
  auto bad = [](const char *name, double v, const char *want) {
    return std::string(name) + " is " + std::to_string(v) + "; it must be " +
           want;
  };
  if (!std::isfinite(h.lr) || h.lr < 0)
    return bad("lr", h.lr, "finite and not negative");
  for (auto [name, beta] : {std::pair<const char *, double>{"beta1", h.beta1},
                            {"beta2", h.beta2},
                            {"beta3", h.beta3}})
    if (!(beta >= 0 && beta < 1))
      return bad(name, beta, "in [0, 1)");
  if (!std::isfinite(h.eps) || h.eps < 0)
    return bad("eps", h.eps, "finite and not negative");
  if (!std::isfinite(h.delta) || h.delta < 0)
    return bad("delta", h.delta, "finite and not negative");
  if (!std::isfinite(h.weightDecay) || h.weightDecay < 0)
    return bad("weight_decay", h.weightDecay, "finite and not negative");
  if (h.totalSteps < 0)
    return bad("total_steps", double(h.totalSteps), "0 (unset) or positive");
  return {};
}

/// Why a rule with `schedules` cannot run with `totalSteps`, or "": ld, cd
/// and rd are functions of t / T. `option` names T the way the caller's user
/// spells it (--total-steps, total_steps).
inline std::string checkTotalSteps(const std::vector<ScheduleSpec> &schedules,
                                   int64_t totalSteps, const char *option) {
  if (schedules.empty() || totalSteps > 0)
    return {};
  return std::string("the rule uses the decay schedule '") +
         spelling(schedules[0].kind) + "', which needs " + option + " > 0";
}

/// 1 / (1 - beta^t), the bias correction of a running average at step t >= 1.
inline double biasCorrection(double beta, int64_t step) {
  return 1.0 / (1.0 - std::pow(beta, static_cast<double>(step)));
}

/// Standard deviation of anoise at step t: variance 1/(1+t)^0.55.
inline double annealedNoiseStd(int64_t step) {
  return std::pow(1.0 + static_cast<double>(step), -0.275);
}

} // namespace nos

#endif // NOS_HYPER_H
