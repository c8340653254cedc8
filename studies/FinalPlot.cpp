//===- FinalPlot.cpp - The final table as a picture -----------------------===//
//
// One panel per task, stacked: each rule a row in the table's order (its
// tuning validation, best at the top), a dot at its test mean and a bar of
// one standard deviation either side. References are grey and found rules
// blue, and dashed lines at Adam's and AddSign's means show at a glance
// which rules beat them on the test split.
//
//===----------------------------------------------------------------------===//
#include "FinalTable.h"

#include "nos/report/Plot.h"

#include <fmt/core.h>

#include <algorithm>
#include <cmath>

namespace nos::studies {
namespace {

constexpr double kWidth = 820, kLeft = 290, kRight = 30, kRow = 18;
constexpr double kPanelTop = 30, kPanelBottom = 52;

std::string shorten(const std::string &s, size_t n = 40) {
  return s.size() <= n ? s : s.substr(0, n - 1) + "…";
}

std::pair<double, double> xRange(const FinalTaskTable &t) {
  double lo = INFINITY, hi = -INFINITY;
  for (const FinalRow &r : t.rows)
    if (std::isfinite(r.testMean)) {
      lo = std::min(lo, r.testMean - r.testStd);
      hi = std::max(hi, r.testMean + r.testStd);
    }
  if (!(lo < hi))
    lo = 0, hi = 1;
  return report::niceRange(lo, hi);
}

std::string panel(const FinalTaskTable &t, double top) {
  auto [lo, hi] = xRange(t);
  double n = double(t.rows.size());
  report::Panel p{
      kLeft, top + kPanelTop, kWidth - kLeft - kRight, n * kRow, lo, hi,
      0.5,   n + 0.5};
  p.yticks = false;
  std::string s = fmt::format(
      "<text x=\"10\" y=\"{}\" font-size=\"13\">{}</text>\n",
      top + kPanelTop - 8, report::escapeXml(t.name + ": " + t.describe));
  s += p.axes("test " + t.metric.name +
                  (t.metric.higherIsBetter ? " (higher is better)"
                                           : " (lower is better)"),
              "");
  for (const FinalRow &r : t.rows)
    if ((r.label == "adam" || r.label == "addsign") &&
        std::isfinite(r.testMean))
      s += fmt::format("<line x1=\"{0:.1f}\" y1=\"{1}\" x2=\"{0:.1f}\" "
                       "y2=\"{2}\" stroke=\"{3}\" stroke-dasharray=\"4 3\"/>\n",
                       p.px(r.testMean), p.y0, p.y0 + p.h,
                       r.label == "adam" ? "#d62728" : "#2ca02c");
  for (size_t k = 0; k < t.rows.size(); ++k) {
    const FinalRow &r = t.rows[k];
    double y = p.py(n - double(k));
    const char *color = r.reference ? "#7f7f7f" : "#1f77b4";
    s += fmt::format("<text x=\"{}\" y=\"{:.1f}\" text-anchor=\"end\" "
                     "fill=\"{}\">{}</text>\n",
                     kLeft - 8, y + 4, color,
                     report::escapeXml(shorten(r.label)));
    if (!std::isfinite(r.testMean))
      continue;
    s += fmt::format("<line x1=\"{:.1f}\" y1=\"{:.1f}\" x2=\"{:.1f}\" "
                     "y2=\"{:.1f}\" stroke=\"{}\" stroke-width=\"2\"/>\n"
                     "<circle cx=\"{:.1f}\" cy=\"{:.1f}\" r=\"4\" "
                     "fill=\"{}\"/>\n",
                     p.px(r.testMean - r.testStd), y,
                     p.px(r.testMean + r.testStd), y, color, p.px(r.testMean),
                     y, color);
  }
  return s;
}

} // namespace

std::string finalSvg(const std::vector<FinalTaskTable> &tables,
                     const std::string &title) {
  double height = 50;
  for (const FinalTaskTable &t : tables)
    height += kPanelTop + double(t.rows.size()) * kRow + kPanelBottom;
  std::string body;
  double top = 50;
  for (const FinalTaskTable &t : tables) {
    body += panel(t, top);
    top += kPanelTop + double(t.rows.size()) * kRow + kPanelBottom;
  }
  return fmt::format(
             "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{}\" "
             "height=\"{}\" font-family=\"sans-serif\" font-size=\"12\">\n"
             "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n<text "
             "x=\"10\" y=\"20\" font-size=\"14\">{}</text>\n<text x=\"10\" "
             "y=\"38\">blue: found rules, grey: references; dashed: Adam "
             "(red), AddSign (green); bars: one standard deviation</text>\n",
             kWidth, height, report::escapeXml(title)) +
         body + "</svg>\n";
}

} // namespace nos::studies
