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

#include <string>
#include <vector>

namespace nos::report {

struct Run {
  std::string rule;
  double lr;
  uint64_t seed;
  train::RunResult result;
};

/// Per rule: the lr with the best mean best-validation-accuracy, its mean
/// and standard deviation over seeds, and how many of its runs diverged.
struct Summary {
  std::string rule;
  double lr = 0, mean = 0, stddev = 0;
  int runs = 0, diverged = 0;
};

/// Text with <, > and & escaped for SVG and XML.
std::string escapeXml(const std::string &text);

std::vector<Summary> summarize(const std::vector<Run> &runs);
/// The compiler's canonical form of a built-in name or rule ("" if bad):
/// what results.json records beside the name the user gave.
std::string canonicalForm(const std::string &nameOrRule);

std::string formatTable(const std::vector<Summary> &summaries);

/// Each writes to a temporary file and renames it; false + *error on failure.
bool writeCsv(const std::string &path, const std::vector<Run> &runs,
              std::string *error);
bool writeJson(const std::string &path, const std::vector<Run> &runs,
               const std::vector<Summary> &summaries, const std::string &task,
               std::string *error);
/// Validation accuracy against step, one line per rule at its chosen lr,
/// averaged over seeds.
bool writeSvg(const std::string &path, const std::vector<Run> &runs,
              const std::vector<Summary> &summaries, const std::string &title,
              std::string *error);

} // namespace nos::report

#endif // NOS_REPORT_H
