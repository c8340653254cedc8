//===- Schedule.h - The decay schedules ld, cd and rd -----------*- C++ -*-===//
//
// The three decay schedules of language.md §4: their kinds, spelling and
// value at a step. Header-only and dependency-free: the frontend (AST.h),
// the runtime (Hyper.h, makeArgs) and the reference interpreter share it, and
// the runtime must not include the frontend.
//
//===----------------------------------------------------------------------===//
#ifndef NOS_SCHEDULE_H
#define NOS_SCHEDULE_H

#include <algorithm>
#include <cmath>
#include <cstdint>

namespace nos {

/// Scalars that depend on the step and the total steps.
enum class Schedule { LD, CD, RD };

/// The infix spelling: ld, cd, rd.
inline const char *spelling(Schedule s) {
  switch (s) {
  case Schedule::LD:
    return "ld";
  case Schedule::CD:
    return "cd";
  case Schedule::RD:
    return "rd";
  }
  return "?";
}

/// A schedule node of a rule: the kernel reads its value from NosArgs::sched.
struct ScheduleSpec {
  Schedule kind;
  double n;
};

/// Value of a decay schedule (language.md §4) for the update of step
/// `step` (1 for the first): t is the number of steps completed before it,
/// step - 1, clamped to [0, T]. That is where TF contrib's sign_decay
/// functions read global_step (before its increment), so nos's decayed
/// PowerSign and AddSign repeat the paper authors' code step by step.
inline double scheduleValue(Schedule s, double n, int64_t step, int64_t total) {
  const double pi = 3.14159265358979323846;
  double T = static_cast<double>(total);
  double t = std::clamp(static_cast<double>(step - 1), 0.0, T);
  switch (s) {
  case Schedule::LD:
    return std::max(0.0, 1.0 - t / T);
  case Schedule::CD:
    return 0.5 * (1.0 + std::cos(2.0 * pi * n * t / T));
  case Schedule::RD:
    return 0.5 * (1.0 + std::cos(pi * std::fmod(n * t, T) / T));
  }
  return 0.0;
}

} // namespace nos

#endif // NOS_SCHEDULE_H
