//===- Plot.h - Axes, ticks and grids for the SVG reports -------*- C++ -*-===//
//
// The one plot area every SVG of nos (nos-train's curves, the search report,
// the fidelity study) draws on: data ranges mapped onto a rectangle, ticks at
// round values (1, 2 or 5 times a power of ten, or powers of ten on a log
// axis), a light grid at each tick, and numbers a reader can use. Plain
// strings, no plotting library, so stored results can be re-plotted anywhere.
//
//===----------------------------------------------------------------------===//
#ifndef NOS_TRAIN_PLOT_H
#define NOS_TRAIN_PLOT_H

#include <string>
#include <utility>
#include <vector>

namespace nos::report {

/// Round values in [lo, hi], about `target` of them, a step of 1, 2 or 5
/// times a power of ten apart; {lo} when the range is empty.
std::vector<double> niceTicks(double lo, double hi, int target = 5);
/// Round values for a log axis over [lo, hi] (lo > 0): the powers of ten
/// inside it, with their 2 and 5 multiples when there are fewer than three.
std::vector<double> logTicks(double lo, double hi);
/// [lo, hi] widened to the nearest round values outside it, so the axis ends
/// on a labelled tick.
std::pair<double, double> niceRange(double lo, double hi, int target = 5);
/// A tick number as a person writes it: 2000, 0.25, 1e-05.
std::string tickLabel(double value);

/// A plot area: data ranges mapped onto a rectangle of the SVG.
struct Panel {
  double x0, y0, w, h; // pixels
  double xlo, xhi;     // data on x
  double ylo, yhi;     // data on y
  bool xlog = false;   // log x axis (xlo > 0); earlier x sit on the edge
  bool yticks = true;  // false: the caller labels the y axis itself
  double px(double x) const;
  double py(double y) const;
  /// Frame, grid, ticks with numbers and the two axis labels.
  std::string axes(const std::string &xlabel, const std::string &ylabel) const;
  /// A polyline through `pts` (data coordinates).
  std::string line(const std::vector<std::pair<double, double>> &pts,
                   const char *color, const char *extra = "",
                   double width = 2) const;
};

} // namespace nos::report

#endif // NOS_TRAIN_PLOT_H
