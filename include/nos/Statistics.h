//===- Statistics.h - Summary statistics of measurements ------*- C++ -*-===//
//
// The median every figure of the project is reported as (benchmarks, the
// search's stage times), written once so that "p50" means one thing: the
// middle value, or the mean of the two middle values of an even count. And
// the mean with the sample standard deviation that every table of seeds
// reports (nos-train, the studies).
//
//===----------------------------------------------------------------------===//
#ifndef NOS_STATISTICS_H
#define NOS_STATISTICS_H

#include <algorithm>
#include <cmath>
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

struct MeanStd {
  double mean = 0, stddev = 0;
};

/// The mean and the sample standard deviation (divided by n - 1) of
/// `values`; 0 and 0 for none, a standard deviation of 0 for one value.
inline MeanStd meanAndStd(const std::vector<double> &values) {
  MeanStd out;
  double n = double(values.size());
  for (double v : values)
    out.mean += v / n;
  double ss = 0;
  for (double v : values)
    ss += (v - out.mean) * (v - out.mean);
  out.stddev = values.size() > 1 ? std::sqrt(ss / (n - 1)) : 0;
  return out;
}

} // namespace nos

#endif // NOS_STATISTICS_H
