//===- RunSteps.cpp - nosc --run: steps over .npy files -------------------===//
//
// Every input is validated before the first step and every output written
// atomically (writeNpy), so a bad file leaves the folder as it was.
//
//===----------------------------------------------------------------------===//
#include "RunSteps.h"

#include "Npy.h"
#include "nos/Args.h"
#include "nos/CpuExecutor.h"
#include "nos/StateBuffers.h"

namespace nos {

static std::string loadInputs(const std::string &dir, int64_t steps,
                              NpyArray &w, NpyArray &g) {
  std::string error;
  if (!readNpy(dir + "/w.npy", w, error) || !readNpy(dir + "/g.npy", g, error))
    return error;
  if (w.shape.size() != 1)
    return dir + "/w.npy: expected a 1-d array [n], got " +
           std::to_string(w.shape.size()) + " dimensions";
  int64_t n = w.shape[0];
  if (g.shape.size() != 2 || g.shape[1] != n)
    return dir + "/g.npy: expected shape [K, " + std::to_string(n) +
           "] (one gradient per step for w.npy's " + std::to_string(n) +
           " elements)";
  if (g.shape[0] < steps)
    return dir + "/g.npy: holds " + std::to_string(g.shape[0]) +
           " gradients but --steps is " + std::to_string(steps);
  return {};
}

std::string runSteps(const CpuKernel &kernel, const std::string &dir,
                     int64_t steps, const Hyper &hyper, int threads) {
  NpyArray w, g;
  if (std::string error = loadInputs(dir, steps, w, g); !error.empty())
    return error;
  if (steps <= 0)
    steps = g.shape[0];
  int64_t n = w.shape[0];
  size_t slots = kernel.info.stateSlots.size();
  StateBuffers state({n}, int(slots));
  std::vector<NosTensor> table(1);
  table[0].w = w.data.data();
  table[0].n = n;
  state.fillTable(table);
  CpuExecutor executor(threads);
  for (int64_t step = 1; step <= steps; ++step) {
    std::string error;
    NosArgs args = makeArgs(hyper, step, kernel.info.schedules, &error);
    if (!error.empty())
      return error;
    table[0].g = g.data.data() + (step - 1) * n;
    executor.run(kernel.fn, table.data(), 1, args);
  }
  std::string error;
  if (!writeNpy(dir + "/w_out.npy", w.data.data(), {n}, error))
    return error;
  for (size_t k = 0; k < slots; ++k)
    if (!writeNpy(dir + "/" + kernel.info.stateSlots[k] + ".npy",
                  state.get(0, k), {n}, error))
      return error;
  return {};
}

} // namespace nos
