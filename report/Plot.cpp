//===- Plot.cpp - Axes, ticks and grids for the SVG reports ---------------===//
//
// Tick choice follows the usual 1-2-5 rule: the step is 1, 2, 5 or 10 times
// the power of ten below range / target, whichever gives closest to `target`
// ticks, and ticks are the multiples of that step inside the range. Grid lines
// sit under the data and are light so that the curves stay the first thing one
// sees.
//
//===----------------------------------------------------------------------===//
#include "nos/report/Plot.h"

#include <fmt/core.h>

#include <algorithm>
#include <cmath>

namespace nos::report {
namespace {
/// Of 1, 2, 5 and 10 times the power of ten below the raw step, the one
/// whose tick count comes closest to `target`.
double niceStep(double lo, double hi, int target) {
  double range = hi - lo, raw = range / std::max(target, 1);
  double power = std::pow(10.0, std::floor(std::log10(raw)));
  double best = power;
  for (double m : {2.0, 5.0, 10.0})
    if (std::abs(range / (m * power) - target) <
        std::abs(range / best - target))
      best = m * power;
  return best;
}
} // namespace

std::vector<double> niceTicks(double lo, double hi, int target) {
  if (!(hi > lo) || !std::isfinite(lo) || !std::isfinite(hi))
    return {lo};
  double step = niceStep(lo, hi, target);
  std::vector<double> ticks;
  for (double k = std::ceil(lo / step - 1e-9); k * step <= hi + step * 1e-9;
       k += 1)
    ticks.push_back(std::abs(k) < 1e-12 ? 0.0 : k * step);
  return ticks;
}

std::pair<double, double> niceRange(double lo, double hi, int target) {
  if (!(hi > lo))
    return {lo, hi};
  double step = niceStep(lo, hi, target);
  return {std::floor(lo / step + 1e-9) * step,
          std::ceil(hi / step - 1e-9) * step};
}

std::vector<double> logTicks(double lo, double hi) {
  std::vector<double> ticks;
  if (!(lo > 0) || !(hi > lo))
    return {lo};
  int first = int(std::ceil(std::log10(lo) - 1e-9));
  int last = int(std::floor(std::log10(hi) + 1e-9));
  bool dense = last - first < 2;
  for (int e = first - 1; e <= last; ++e)
    for (double m :
         dense ? std::vector<double>{1, 2, 5} : std::vector<double>{1}) {
      double v = m * std::pow(10.0, e);
      if (v >= lo * (1 - 1e-9) && v <= hi * (1 + 1e-9))
        ticks.push_back(v);
    }
  return ticks;
}

std::string tickLabel(double value) { return fmt::format("{:g}", value); }

double Panel::px(double x) const {
  if (xlog)
    return x0 + w * std::log10(std::max(x, xlo) / xlo) /
                    std::max(std::log10(xhi / xlo), 1e-9);
  return x0 + w * (x - xlo) / std::max(xhi - xlo, 1e-9);
}

double Panel::py(double y) const {
  return y0 + h * (1 - (y - ylo) / std::max(yhi - ylo, 1e-9));
}

std::string Panel::axes(const std::string &xlabel,
                        const std::string &ylabel) const {
  std::string s;
  std::vector<double> xs = xlog ? logTicks(xlo, xhi) : niceTicks(xlo, xhi);
  for (double x : xs) {
    double p = px(x);
    s += fmt::format("<line x1=\"{0:.1f}\" y1=\"{1}\" x2=\"{0:.1f}\" "
                     "y2=\"{2}\" stroke=\"#e0e0e0\"/>\n"
                     "<line x1=\"{0:.1f}\" y1=\"{2}\" x2=\"{0:.1f}\" "
                     "y2=\"{3}\" stroke=\"black\"/>\n"
                     "<text x=\"{0:.1f}\" y=\"{4}\" text-anchor=\"middle\">"
                     "{5}</text>\n",
                     p, y0, y0 + h, y0 + h + 5, y0 + h + 18, tickLabel(x));
  }
  for (double y : yticks ? niceTicks(ylo, yhi) : std::vector<double>{}) {
    double p = py(y);
    s += fmt::format("<line x1=\"{0}\" y1=\"{1:.1f}\" x2=\"{2}\" "
                     "y2=\"{1:.1f}\" stroke=\"#e0e0e0\"/>\n"
                     "<line x1=\"{3}\" y1=\"{1:.1f}\" x2=\"{0}\" "
                     "y2=\"{1:.1f}\" stroke=\"black\"/>\n"
                     "<text x=\"{4}\" y=\"{5:.1f}\" text-anchor=\"end\">"
                     "{6}</text>\n",
                     x0, p, x0 + w, x0 - 5, x0 - 8, p + 4, tickLabel(y));
  }
  s += fmt::format("<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" "
                   "fill=\"none\" stroke=\"black\"/>\n",
                   x0, y0, w, h);
  s += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}"
                   "</text>\n",
                   x0 + w / 2, y0 + h + 36, xlabel);
  s += fmt::format("<text x=\"{0}\" y=\"{1}\" transform=\"rotate(-90 {0} "
                   "{1})\" text-anchor=\"middle\">{2}</text>\n",
                   x0 - 48, y0 + h / 2, ylabel);
  return s;
}

std::string Panel::line(const std::vector<std::pair<double, double>> &pts,
                        const char *color, const char *extra,
                        double width) const {
  std::string points;
  for (auto [x, y] : pts)
    points += fmt::format("{:.1f},{:.1f} ", px(x), py(y));
  return fmt::format("<polyline fill=\"none\" stroke=\"{}\" "
                     "stroke-width=\"{}\" {} points=\"{}\"/>\n",
                     color, width, extra, points);
}

} // namespace nos::report
