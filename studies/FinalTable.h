//===- FinalTable.h - The final table's rows, for text and plot -*- C++ -*-===//
//
// Private to studies/: what Final.cpp computes from final.jsonl and what
// FinalPlot.cpp draws. Rows are in the order of their tuning validation
// metric, best first: the order the search's user would pick rules in.
//
//===----------------------------------------------------------------------===//
#ifndef NOS_STUDIES_FINALTABLE_H
#define NOS_STUDIES_FINALTABLE_H

#include "nos/report/Runs.h"

#include <map>
#include <string>
#include <vector>

namespace nos::studies {

struct FinalRow {
  std::string label, canonical;
  bool reference = false;
  double lr = 0;
  double tuning = NAN;       // mean validation over the tuning seeds
  std::vector<double> tests; // per test seed (NaN: diverged)
  double testMean = NAN, testStd = NAN;
  int diverged = 0;
  std::map<std::string, double> ahead; // reference name -> aheadBy
};

struct FinalTaskTable {
  std::string name, describe;
  report::Metric metric;
  std::vector<FinalRow> rows;
};

/// final.svg: one panel per task, each rule's test mean ± std against its
/// rank, the references grey, Adam's and AddSign's means as dashed lines.
std::string finalSvg(const std::vector<FinalTaskTable> &tables,
                     const std::string &title);

} // namespace nos::studies

#endif // NOS_STUDIES_FINALTABLE_H
