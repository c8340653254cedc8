//===- MetaPlot.h - Search fitness against meta-validation ------*- C++ -*-===//
//
// Private to studies/: the table and the two-panel plot of a run's fitness
// and its successive bests' scores on a held-out task, against run time.
// `nos-search metaval` (a study beside a run) and `nos-search report` (the
// run's own meta-validation) print the same table and draw the same plot.
//
//===----------------------------------------------------------------------===//
#ifndef NOS_STUDIES_METAPLOT_H
#define NOS_STUDIES_METAPLOT_H

#include "nos/report/Runs.h"

#include <string>
#include <utility>
#include <vector>

namespace nos::studies {

/// A rule that was the run's best from `time` on, credited with `fitness`,
/// and its held-out score (best lr's mean).
struct MetaRow {
  double time = 0, fitness = 0;
  std::string rule;
  report::BestLr meta;
};

using MetaReferences = std::vector<std::pair<std::string, double>>;

/// One line per row (time, fitness, meta-validation, lr, rule), then the
/// references' scores.
std::string metaTable(const std::vector<MetaRow> &rows,
                      const MetaReferences &refs);

/// Fitness above (its axis named `fitness`), meta-validation below with
/// the references as dashed lines; each row's value held until the next
/// row's time or `end`.
std::string metaSvg(const std::vector<MetaRow> &rows, double end,
                    const MetaReferences &refs, const std::string &metric,
                    const std::string &title, const std::string &fitness);

} // namespace nos::studies

#endif // NOS_STUDIES_METAPLOT_H
