//===- Args.h - Per-step kernel arguments -----------------------*- C++ -*-===//
//
// makeArgs turns the hyperparameters and the step into the NosArgs every
// kernel call takes (runtime/Args.cpp). Plain C++17, no MLIR or torch.
//
//===----------------------------------------------------------------------===//
#ifndef NOS_ARGS_H
#define NOS_ARGS_H

#include "nos/Hyper.h"
#include "nos/KernelABI.h"

#include <cstdint>
#include <string>
#include <vector>

namespace nos {

/// Fills the per-step arguments of a kernel from the hyperparameters. The
/// step-dependent scalars are computed in double and rounded once to float.
/// `schedules` lists the rule's schedule nodes in the kernel's order. On
/// failure returns a zeroed NosArgs and sets *error (if given) to a non-empty
/// message; on success clears *error.
NosArgs makeArgs(const Hyper &h, int64_t step,
                 const std::vector<ScheduleSpec> &schedules,
                 std::string *error);

} // namespace nos

#endif // NOS_ARGS_H
