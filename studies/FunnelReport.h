//===- FunnelReport.h - nos-search report's funnel tables -------*- C++ -*-===//
//
// Private to studies/: what `nos-search report` prints of a run's funnel,
// from the stored promotions and level runs alone.
//
//===----------------------------------------------------------------------===//
#ifndef NOS_STUDIES_FUNNELREPORT_H
#define NOS_STUDIES_FUNNELREPORT_H

#include "nos/search/Settings.h"
#include "nos/search/Store.h"

namespace nos::studies {

/// Per level in use: its compute share and its leaderboard (the `top`
/// best rules by margin over the best reference, then the references);
/// then meta-validation's table, and its plot written to DIR/metaval.svg
/// (a warning when the folder cannot take it). `end`: the run's time.
/// Prints nothing for a run that does not promote.
void printFunnel(const search::Store &store,
                 const search::SearchSettings &settings,
                 const std::vector<search::Candidate> &all, int top,
                 double end);

/// The canonical forms of the `top` rules with the best margins at funnel
/// level `level` (L2, L3, L4) of a run, best first; empty when the run does
/// not use that level or promoted nothing to it. "best": those of the
/// highest level with any, whose first is the rule the run chooses.
std::vector<std::string> levelLeaders(const search::Store &store,
                                      const search::SearchSettings &settings,
                                      const std::string &level, int top);

} // namespace nos::studies

#endif // NOS_STUDIES_FUNNELREPORT_H
