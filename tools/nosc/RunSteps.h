//===- RunSteps.h - nosc --run: steps over .npy files -----------*- C++ -*-===//
//
// Applies K steps of a compiled kernel to w.npy with the gradients in g.npy
// and writes w_out.npy plus one .npy per state buffer.
//
//===----------------------------------------------------------------------===//
#ifndef NOS_TOOLS_NOSC_RUNSTEPS_H
#define NOS_TOOLS_NOSC_RUNSTEPS_H

#include "nos/Compiler.h"

#include <string>

namespace nos {

/// Runs `steps` steps (all rows of g.npy when steps <= 0). Returns an empty
/// string on success, else the error (naming the file).
std::string runSteps(const CpuKernel &kernel, const std::string &dir,
                     int64_t steps, const Hyper &hyper, int threads);

} // namespace nos

#endif // NOS_TOOLS_NOSC_RUNSTEPS_H
