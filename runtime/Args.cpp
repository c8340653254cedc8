//===- Args.cpp - Per-step kernel arguments ---------------------*- C++ -*-===//
//
// Builds the NosArgs a kernel reads each step. Everything that needs pow or
// cos is evaluated here once per step, in double precision through the same
// Hyper.h formulas as the reference interpreter, so kernels never disagree
// with the oracle about a bias correction or a schedule value.
//
//===----------------------------------------------------------------------===//
#include "nos/Runtime.h"

#include <sstream>

namespace nos {
namespace {

bool isBeta(double b) { return b >= 0.0 && b < 1.0; } // false for NaN

/// Returns the first reason the inputs cannot give a valid NosArgs, or "".
std::string validate(const Hyper &h, int64_t step,
                     const std::vector<ScheduleSpec> &schedules) {
  std::ostringstream os;
  if (step < 1)
    os << "step must be at least 1, got " << step;
  else if (schedules.size() > NOS_MAX_SCHEDULES)
    os << "rule has " << schedules.size()
       << " decay schedules; kernels support at most " << NOS_MAX_SCHEDULES;
  else if (!schedules.empty() && h.totalSteps <= 0)
    os << "rule uses a decay schedule (" << spelling(schedules[0].kind)
       << ") but total steps were not given";
  else if (!isBeta(h.beta1))
    os << "beta1 = " << h.beta1 << " is outside [0, 1)";
  else if (!isBeta(h.beta2))
    os << "beta2 = " << h.beta2 << " is outside [0, 1)";
  else if (!isBeta(h.beta3))
    os << "beta3 = " << h.beta3 << " is outside [0, 1)";
  return os.str();
}

} // namespace

NosArgs makeArgs(const Hyper &h, int64_t step,
                 const std::vector<ScheduleSpec> &schedules,
                 std::string *error) {
  NosArgs a{};
  std::string why = validate(h, step, schedules);
  if (error)
    *error = why;
  if (!why.empty())
    return a;
  a.lr = float(h.lr);
  a.beta1 = float(h.beta1);
  a.beta2 = float(h.beta2);
  a.beta3 = float(h.beta3);
  a.eps = float(h.eps);
  a.delta = float(h.delta);
  a.bc1 = float(biasCorrection(h.beta1, step));
  a.bc2 = float(biasCorrection(h.beta2, step));
  a.bc3 = float(biasCorrection(h.beta3, step));
  // 1 - beta rounded once from double, as torch::optim passes it, not
  // formed from the rounded beta in f32.
  a.omb1 = float(1.0 - h.beta1);
  a.omb2 = float(1.0 - h.beta2);
  a.omb3 = float(1.0 - h.beta3);
  a.anoise_std = float(annealedNoiseStd(step));
  for (size_t k = 0; k < schedules.size(); ++k)
    a.sched[k] = float(
        scheduleValue(schedules[k].kind, schedules[k].n, step, h.totalSteps));
  a.step = step;
  a.total_steps = h.totalSteps;
  a.seed = h.seed;
  return a;
}

} // namespace nos
