//===- Report.h - Tables, CSV, JSON and SVG of training runs ----*- C++ -*-===//
//
// The files nos-train (and later the search) write: every run in CSV and
// JSON, and an SVG of the validation curves, without torch or a plotting
// library so that reports can be produced from stored results alone.
//
//===----------------------------------------------------------------------===//
#ifndef NOS_REPORT_H
#define NOS_REPORT_H

#include "nos/train/Trainer.h"

#include <cmath>
#include <string>
#include <vector>

namespace nos::report {

struct Run {
  std::string rule;
  double lr;
  uint64_t seed;
  train::RunResult result;
};

/// What rules are ranked by: the best validation accuracy of a run, or a
/// language task's best validation bits per character (lower is better).
struct Metric {
  std::string name = "accuracy";
  bool higherIsBetter = true;
  /// The metric of a run on validation (what chooses) and on test.
  double validation(const train::RunResult &r) const;
  double test(const train::RunResult &r) const;
};
/// The metric a task is judged by (train::Task::metric()).
Metric metricNamed(const std::string &name);

/// A run's metric at an lr (one seed of it).
struct LrValue {
  double lr = 0, value = 0;
};
struct BestLr {
  double lr = 0, mean = NAN;
};
/// The lr of `lrs` whose mean value is best by `metric`: the first of
/// equals; a mean that is not a number never wins; when none is one, the
/// first lr with a NaN mean. Throws std::invalid_argument for no lrs.
BestLr bestMeanLr(const std::vector<LrValue> &values,
                  const std::vector<double> &lrs, const Metric &metric);

/// Per rule: the lr with the best mean validation metric, its mean and
/// standard deviation over seeds, and how many of its runs diverged. The
/// test split's mean and standard deviation at that lr, where its runs were
/// scored on it (`tested` of them): never used to choose the lr.
struct Summary {
  std::string rule;
  double lr = 0, mean = 0, stddev = 0;
  int runs = 0, diverged = 0;
  double testMean = NAN, testStddev = NAN;
  int tested = 0;
};

/// Text with <, > and & escaped for SVG and XML.
std::string escapeXml(const std::string &text);

std::vector<Summary> summarize(const std::vector<Run> &runs,
                               const Metric &metric = {});
/// The compiler's canonical form of a built-in name or rule ("" if bad):
/// what results.json records beside the name the user gave.
std::string canonicalForm(const std::string &nameOrRule);

std::string formatTable(const std::vector<Summary> &summaries,
                        const Metric &metric = {});

/// Each writes to a temporary file and renames it; false + *error on failure.
bool writeCsv(const std::string &path, const std::vector<Run> &runs,
              std::string *error);
bool writeJson(const std::string &path, const std::vector<Run> &runs,
               const std::vector<Summary> &summaries, const std::string &task,
               std::string *error, const Metric &metric = {});
/// Validation accuracy against step, one line per rule at its chosen lr,
/// averaged over seeds.
bool writeSvg(const std::string &path, const std::vector<Run> &runs,
              const std::vector<Summary> &summaries, const std::string &title,
              std::string *error);

} // namespace nos::report

#endif // NOS_REPORT_H
