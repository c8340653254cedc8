//===- Report.h - nos-search report: tables and plots of runs ---*- C++ -*-===//
//
// Reads run folders (read-only) and prints, per run, the counts per status,
// the time per pipeline stage, the top rules and the reference rules scored
// by the same pipeline; writes one SVG with the reward of every candidate
// (with best-so-far and batch means) and best-so-far against time for all
// runs overlaid, the strategy comparison.
//
//===----------------------------------------------------------------------===//
#ifndef NOS_STUDIES_SEARCHREPORT_H
#define NOS_STUDIES_SEARCHREPORT_H

#include <string>
#include <vector>

namespace nos::studies {

struct ReportOptions {
  int top = 10;
  std::string svgPath; // empty: DIR/report.svg of the first run
};

/// Returns the exit code; prints errors with their reason.
int report(const std::vector<std::string> &dirs, const ReportOptions &options);

} // namespace nos::studies

#endif // NOS_STUDIES_SEARCHREPORT_H
