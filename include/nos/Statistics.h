//===- Statistics.h - Summary statistics of measurements ------*- C++ -*-===//
//
// The median every figure of the project is reported as (benchmarks, the
// search's stage times), written once so that "p50" means one thing: the
// middle value, or the mean of the two middle values of an even count.
//
//===----------------------------------------------------------------------===//
#ifndef NOS_STATISTICS_H
#define NOS_STATISTICS_H

#include <algorithm>
#include <vector>

namespace nos {

/// The median of `values`; 0 for none.
inline double median(std::vector<double> values) {
  if (values.empty())
    return 0;
  std::sort(values.begin(), values.end());
  size_t half = values.size() / 2;
  return values.size() % 2 ? values[half]
                           : 0.5 * (values[half - 1] + values[half]);
}

} // namespace nos

#endif // NOS_STATISTICS_H
