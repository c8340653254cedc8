//===- Args.cpp - Per-step kernel arguments ---------------------*- C++ -*-===//
//
// Builds the NosArgs a kernel reads each step. Everything that needs pow or
// cos is evaluated here once per step, in double precision through the same
// Hyper.h formulas as the reference interpreter, so kernels never disagree
// with the oracle about a bias correction or a schedule value.
//
//===----------------------------------------------------------------------===//
#include "nos/Args.h"

#include <string>

namespace nos {
namespace {

/// Returns the first reason the inputs cannot give a valid NosArgs, or "".
std::string validate(const Hyper &h, int64_t step,
                     const std::vector<ScheduleSpec> &schedules) {
  if (step < 1)
    return "step must be at least 1, got " + std::to_string(step);
  if (schedules.size() > NOS_MAX_SCHEDULES)
    return "rule has " + std::to_string(schedules.size()) +
           " decay schedules; kernels support at most " +
           std::to_string(NOS_MAX_SCHEDULES);
  if (std::string why = checkHyper(h); !why.empty())
    return why;
  return checkTotalSteps(schedules, h.totalSteps, "total steps");
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
  // Rounded once from double, as torch.optim.AdamW's param.mul_(1 - lr * wd).
  a.wscale = float(1.0 - h.lr * h.weightDecay);
  a.gscale = h.maximize ? -1.0f : 1.0f;
  for (size_t k = 0; k < schedules.size(); ++k)
    a.sched[k] = float(
        scheduleValue(schedules[k].kind, schedules[k].n, step, h.totalSteps));
  a.step = step;
  a.total_steps = h.totalSteps;
  a.seed = h.seed;
  return a;
}

} // namespace nos
