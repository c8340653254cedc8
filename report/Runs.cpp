//===- Report.cpp - Tables, CSV, JSON and SVG of training runs ------------===//
//
// The lr is chosen per rule by the mean best validation metric over seeds,
// the protocol of the paper's comparison (each optimizer with its tuned lr
// from one grid); test figures ride along and choose nothing. Files are
// written whole or not at all.
//
//===----------------------------------------------------------------------===//
#include "nos/report/Runs.h"

#include "nos/Builtins.h"
#include "nos/Compiler.h"
#include "nos/Files.h"
#include "nos/Statistics.h"
#include "nos/report/Plot.h"

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <map>
#include <stdexcept>

namespace nos::report {

std::string escapeXml(const std::string &text) {
  std::string out;
  for (char c : text)
    out += c == '<'   ? "&lt;"
           : c == '>' ? "&gt;"
           : c == '&' ? "&amp;"
                      : std::string(1, c);
  return out;
}

namespace {
/// A loss (nats, or an objective's value) in the metric's units.
double fromLoss(const std::string &metric, double loss) {
  return metric == "log10-loss" ? std::log10(loss) : loss / std::log(2.0);
}
} // namespace

double Metric::validation(const train::RunResult &r) const {
  return higherIsBetter ? r.bestValidationAccuracy
                        : fromLoss(name, r.bestValidationLoss);
}

double Metric::test(const train::RunResult &r) const {
  if (!r.tested)
    return NAN;
  return higherIsBetter ? r.testAccuracy : fromLoss(name, r.testLoss);
}

Metric metricNamed(const std::string &name) {
  if (name == "accuracy")
    return {};
  if (name == "bits-per-char" || name == "log10-loss")
    return {name, false};
  throw std::invalid_argument("unknown metric '" + name +
                              "'; expected accuracy, bits-per-char or "
                              "log10-loss");
}

BestLr bestMeanLr(const std::vector<LrValue> &values,
                  const std::vector<double> &lrs, const Metric &metric) {
  if (lrs.empty())
    throw std::invalid_argument("no lr to choose from");
  BestLr best{lrs[0], NAN};
  for (double lr : lrs) {
    std::vector<double> at;
    for (const LrValue &v : values)
      if (v.lr == lr)
        at.push_back(v.value);
    double mean = at.empty() ? NAN : meanAndStd(at).mean;
    if (std::isnan(mean))
      continue;
    if (std::isnan(best.mean) ||
        (metric.higherIsBetter ? mean > best.mean : mean < best.mean))
      best = {lr, mean};
  }
  return best;
}

namespace {
/// Mean and spread of (rule, lr)'s seeds, on validation and on test.
Summary summaryOf(const std::string &rule, double lr,
                  const std::vector<const Run *> &group, const Metric &metric) {
  std::vector<double> validation, test;
  Summary out{rule, lr};
  for (const Run *r : group) {
    validation.push_back(metric.validation(r->result));
    out.diverged += r->result.status != "ok";
    if (r->result.tested)
      test.push_back(metric.test(r->result));
  }
  MeanStd v = meanAndStd(validation);
  out.mean = v.mean, out.stddev = v.stddev, out.runs = int(validation.size());
  if (!test.empty()) {
    MeanStd t = meanAndStd(test);
    out.testMean = t.mean, out.testStddev = t.stddev;
    out.tested = int(test.size());
  }
  return out;
}

bool writeAtomically(const std::string &path, const std::string &text,
                     std::string *error) {
  std::string why = writeFileAtomically(path, {text});
  if (!why.empty())
    *error = path + ": " + why;
  return why.empty();
}
} // namespace

std::vector<Summary> summarize(const std::vector<Run> &runs,
                               const Metric &metric) {
  std::vector<std::string> order;
  std::map<std::string, std::map<double, std::vector<const Run *>>> byRule;
  for (const Run &r : runs) {
    if (!byRule.count(r.rule))
      order.push_back(r.rule);
    byRule[r.rule][r.lr].push_back(&r);
  }
  std::vector<Summary> out;
  for (const std::string &rule : order) {
    std::vector<double> lrs;
    std::vector<LrValue> values;
    for (const auto &[lr, group] : byRule[rule]) {
      lrs.push_back(lr);
      for (const Run *r : group)
        values.push_back({lr, metric.validation(r->result)});
    }
    double lr = bestMeanLr(values, lrs, metric).lr;
    out.push_back(summaryOf(rule, lr, byRule[rule][lr], metric));
  }
  return out;
}

std::string formatTable(const std::vector<Summary> &summaries,
                        const Metric &metric) {
  bool tested = std::any_of(summaries.begin(), summaries.end(),
                            [](const Summary &s) { return s.tested > 0; });
  std::string out = fmt::format("{:<16} {:>22} {:>10} {:>9}", "rule",
                                "best val " + metric.name, "lr", "diverged");
  out += tested ? fmt::format(" {:>22}\n", "test " + metric.name) : "\n";
  for (const Summary &s : summaries) {
    out += fmt::format("{:<16} {:>13.4f} ± {:<6.4f} {:>10g} {:>5}/{}", s.rule,
                       s.mean, s.stddev, s.lr, s.diverged, s.runs);
    out += s.tested > 0 ? fmt::format(" {:>13.4f} ± {:<6.4f}\n", s.testMean,
                                      s.testStddev)
                        : "\n";
  }
  return out;
}

bool writeCsv(const std::string &path, const std::vector<Run> &runs,
              std::string *error) {
  std::string text = "rule,lr,seed,status,best_val_accuracy,best_val_loss,"
                     "final_val_loss,steps,seconds,test_accuracy,test_loss\n";
  for (const Run &r : runs) {
    const train::RunResult &x = r.result;
    text +=
        fmt::format("\"{}\",{},{},{},{},{},{},{},{:.3f},", r.rule, r.lr, r.seed,
                    x.status, x.bestValidationAccuracy, x.bestValidationLoss,
                    x.finalValidationLoss, x.steps, x.seconds);
    // Untested runs leave the test columns empty, not NaN.
    text += x.tested ? fmt::format("{},{}\n", x.testAccuracy, x.testLoss)
                     : std::string(",\n");
  }
  return writeAtomically(path, text, error);
}

std::string canonicalForm(const std::string &nameOrRule) {
  ParseResult parsed = parseRuleOrBuiltin(nameOrRule);
  KernelInfo info;
  std::string error;
  if (!parsed || !Compiler::shared().canonicalize(*parsed.expr, info, &error))
    return {};
  return info.canonical;
}

bool writeJson(const std::string &path, const std::vector<Run> &runs,
               const std::vector<Summary> &summaries, const std::string &task,
               std::string *error, const Metric &metric) {
  nlohmann::json j;
  j["task"] = task;
  j["metric"] = metric.name;
  for (const Summary &s : summaries) {
    nlohmann::json row = {{"rule", s.rule},
                          {"canonical", canonicalForm(s.rule)},
                          {"lr", s.lr},
                          {"mean", s.mean},
                          {"std", s.stddev},
                          {"runs", s.runs},
                          {"diverged", s.diverged}};
    if (s.tested > 0)
      row["test"] = {
          {"mean", s.testMean}, {"std", s.testStddev}, {"runs", s.tested}};
    j["summary"].push_back(row);
  }
  for (const Run &r : runs) {
    nlohmann::json curve = nlohmann::json::array();
    for (const train::CurvePoint &p : r.result.curve)
      curve.push_back(
          {p.step, p.trainLoss, p.validationLoss, p.validationAccuracy});
    j["runs"].push_back(
        {{"rule", r.rule},
         {"lr", r.lr},
         {"seed", r.seed},
         {"status", r.result.status},
         {"best_val_accuracy", r.result.bestValidationAccuracy},
         {"best_val_loss", r.result.bestValidationLoss},
         {"test_accuracy", r.result.tested
                               ? nlohmann::json(r.result.testAccuracy)
                               : nlohmann::json()},
         {"test_loss", r.result.tested ? nlohmann::json(r.result.testLoss)
                                       : nlohmann::json()},
         {"steps", r.result.steps},
         {"curve [step, train_loss, val_loss, val_acc]", curve}});
  }
  // NaN losses of diverged runs become null rather than invalid JSON.
  return writeAtomically(path, j.dump(1) + "\n", error);
}

namespace {
/// Mean validation accuracy per step over the seeds of (rule, lr).
std::vector<std::pair<double, double>> meanCurve(const std::vector<Run> &runs,
                                                 const Summary &s) {
  std::map<int64_t, std::pair<double, int>> acc;
  for (const Run &r : runs)
    if (r.rule == s.rule && r.lr == s.lr)
      for (const train::CurvePoint &p : r.result.curve) {
        acc[p.step].first += p.validationAccuracy;
        acc[p.step].second += 1;
      }
  std::vector<std::pair<double, double>> out;
  for (const auto &[step, sum] : acc)
    out.push_back({double(step), sum.first / sum.second});
  return out;
}

} // namespace

bool writeSvg(const std::string &path, const std::vector<Run> &runs,
              const std::vector<Summary> &summaries, const std::string &title,
              std::string *error) {
  static const char *colors[] = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728",
                                 "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
                                 "#bcbd22", "#17becf"};
  const double W = 760, H = 460, left = 70, right = 210, top = 40, bottom = 60;
  double maxStep = 1, lo = 1, hi = 0;
  std::vector<std::vector<std::pair<double, double>>> curves;
  for (const Summary &s : summaries) {
    curves.push_back(meanCurve(runs, s));
    for (auto [x, y] : curves.back())
      maxStep = std::max(maxStep, x), lo = std::min(lo, y),
      hi = std::max(hi, y);
  }
  if (hi <= lo)
    lo = 0, hi = 1;
  auto [ylo, yhi] = report::niceRange(lo, hi);
  auto [xlo, xhi] = report::niceRange(0, maxStep);
  report::Panel panel{left, top, W - left - right, H - top - bottom, xlo, xhi,
                      ylo,  yhi};
  std::string svg = fmt::format(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{}\" height=\"{}\" "
      "font-family=\"sans-serif\" font-size=\"12\">\n<rect width=\"100%\" "
      "height=\"100%\" fill=\"white\"/>\n<text x=\"{}\" y=\"24\" "
      "font-size=\"14\">{}</text>\n",
      W, H, left, escapeXml(title));
  svg += panel.axes("training step", "validation accuracy (mean over seeds)");
  for (size_t k = 0; k < curves.size(); ++k) {
    const char *color = colors[k % 10];
    svg += panel.line(curves[k], color);
    svg += fmt::format("<text x=\"{}\" y=\"{}\" fill=\"{}\">{} (lr {:g})"
                       "</text>\n",
                       W - right + 10, top + 16 * (k + 1), color,
                       escapeXml(summaries[k].rule), summaries[k].lr);
  }
  return writeAtomically(path, svg + "</svg>\n", error);
}

} // namespace nos::report
