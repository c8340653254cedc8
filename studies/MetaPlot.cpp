//===- MetaPlot.cpp - Search fitness against meta-validation --------------===//
//
// Fitness and meta-validation are steps, not lines between points: a rule
// is the run's best from when it was found until the next one is.
//
//===----------------------------------------------------------------------===//
#include "MetaPlot.h"

#include "nos/report/Plot.h"

#include <fmt/core.h>

#include <algorithm>
#include <cmath>
#include <functional>

namespace nos::studies {

namespace {
/// A value held from each row's time to the next row's, then to `end`.
std::vector<std::pair<double, double>>
steps(const std::vector<MetaRow> &rows, double end,
      const std::function<double(const MetaRow &)> &value) {
  std::vector<std::pair<double, double>> out;
  for (size_t i = 0; i < rows.size(); ++i) {
    double v = value(rows[i]);
    if (!std::isfinite(v))
      continue;
    double next = i + 1 < rows.size() ? rows[i + 1].time : end;
    out.push_back({rows[i].time, v});
    out.push_back({std::max(next, rows[i].time), v});
  }
  return out;
}

/// Labels of the references at the right edge, each at its value's height
/// but pushed apart so that none overlaps the one above.
std::string referenceLabels(const report::Panel &p,
                            const MetaReferences &refs) {
  std::vector<std::pair<double, std::string>> ys;
  for (const auto &[name, v] : refs)
    if (std::isfinite(v))
      ys.push_back({p.py(v), name});
  std::sort(ys.begin(), ys.end());
  std::string s;
  double last = -INFINITY;
  for (auto &[y, name] : ys) {
    double at = std::max(y + 4, last + 13);
    s += fmt::format("<line x1=\"{0}\" y1=\"{1:.1f}\" x2=\"{2}\" "
                     "y2=\"{1:.1f}\" stroke=\"#7f7f7f\" "
                     "stroke-dasharray=\"4 3\"/>\n<text x=\"{3}\" "
                     "y=\"{4:.1f}\" fill=\"#7f7f7f\">{5}</text>\n",
                     p.x0, y, p.x0 + p.w, p.x0 + p.w + 6, at, name);
    last = at;
  }
  return s;
}

} // namespace

std::string metaTable(const std::vector<MetaRow> &rows,
                      const MetaReferences &refs) {
  std::string text =
      fmt::format("  {:>8}  {:>8}  {:>10}  {:>8}  {}\n", "time (s)", "fitness",
                  "meta-val", "lr", "rule");
  for (const MetaRow &r : rows)
    text += fmt::format("  {:>8.1f}  {:>8.4f}  {:>10.4f}  {:>8g}  {}\n", r.time,
                        r.fitness, r.meta.mean, r.meta.lr, r.rule);
  text += "  references:";
  for (const auto &[name, v] : refs)
    text += fmt::format(" {} {:.4f}", name, v);
  return text + "\n";
}

std::string metaSvg(const std::vector<MetaRow> &rows, double end,
                    const MetaReferences &refs, const std::string &metric,
                    const std::string &title, const std::string &fitness) {
  const double W = 760, left = 80, right = 150, h = 200;
  double tmax = std::max(1.0, end), flo = INFINITY, fhi = -INFINITY,
         mlo = INFINITY, mhi = -INFINITY;
  for (const MetaRow &r : rows) {
    tmax = std::max(tmax, r.time), flo = std::min(flo, r.fitness);
    fhi = std::max(fhi, r.fitness);
    if (std::isfinite(r.meta.mean))
      mlo = std::min(mlo, r.meta.mean), mhi = std::max(mhi, r.meta.mean);
  }
  for (const auto &[name, v] : refs)
    if (std::isfinite(v))
      mlo = std::min(mlo, v), mhi = std::max(mhi, v);
  auto range = [](double lo, double hi) {
    return lo < hi ? report::niceRange(lo, hi) : std::pair(lo - 0.5, lo + 0.5);
  };
  auto [x0, x1] = report::niceRange(0, tmax);
  auto [f0, f1] = range(flo, fhi);
  auto [m0, m1] = range(mlo, mhi);
  report::Panel fit{left, 50, W - left - right, h, x0, x1, f0, f1};
  report::Panel meta{left, 50 + h + 70, W - left - right, h, x0, x1, m0, m1};
  std::string s = fmt::format(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{}\" height=\"{}\" "
      "font-family=\"sans-serif\" font-size=\"12\">\n<rect width=\"100%\" "
      "height=\"100%\" fill=\"white\"/>\n<text x=\"10\" y=\"24\" "
      "font-size=\"14\">{}</text>\n",
      W, 50 + 2 * h + 120, report::escapeXml(title));
  s += fit.axes("run time (s)", fitness);
  s += fit.line(steps(rows, end, [](const MetaRow &r) { return r.fitness; }),
                "#1f77b4");
  s += meta.axes("run time (s)", "meta-validation " + metric);
  s += referenceLabels(meta, refs);
  s += meta.line(steps(rows, end, [](const MetaRow &r) { return r.meta.mean; }),
                 "#d62728");
  for (const MetaRow &r : rows)
    if (std::isfinite(r.meta.mean))
      s += fmt::format("<circle cx=\"{:.1f}\" cy=\"{:.1f}\" r=\"3\" "
                       "fill=\"#d62728\"/>\n",
                       meta.px(r.time), meta.py(r.meta.mean));
  return s + "</svg>\n";
}

} // namespace nos::studies
