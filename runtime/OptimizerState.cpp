//===- OptimizerState.cpp - The state rules of both optimizers ------------===//
//
// Planning is cheap next to a launch: one pass over the parameters, with
// launches kept in first-seen order so a step's launches are deterministic.
//
//===----------------------------------------------------------------------===//
#include "nos/OptimizerState.h"

#include <stdexcept>
#include <string>

namespace nos {

std::vector<Launch> planLaunches(const std::vector<int64_t> &steps,
                                 const std::vector<bool> &hasGrad) {
  if (steps.size() != hasGrad.size())
    throw std::invalid_argument(
        "planLaunches: " + std::to_string(steps.size()) + " step counts for " +
        std::to_string(hasGrad.size()) + " parameters");
  std::vector<Launch> launches;
  for (size_t i = 0; i < steps.size(); ++i) {
    if (steps[i] < 0)
      throw std::invalid_argument("planLaunches: parameter " +
                                  std::to_string(i) + " has taken " +
                                  std::to_string(steps[i]) + " steps");
    if (!hasGrad[i])
      continue;
    int64_t step = steps[i] + 1;
    size_t k = 0;
    while (k < launches.size() && launches[k].step != step)
      ++k;
    if (k == launches.size())
      launches.push_back({step, {}});
    launches[k].params.push_back(i);
  }
  return launches;
}

} // namespace nos
