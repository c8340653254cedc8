//===- FunnelReport.cpp - nos-search report's funnel tables ---------------===//
//
// Scores are recomputed from the level runs with the engine's own functions
// (search/Levels.h), so a report also ranks promotions that finished
// training after the run's last join. A rule's margin is against the best
// reference on each task of the level, as the engine rewards it.
//
//===----------------------------------------------------------------------===//
#include "FunnelReport.h"

#include "MetaPlot.h"

#include "nos/Files.h"
#include "nos/search/Levels.h"
#include "nos/train/Tasks.h"
#include "nos/train/Trainer.h"

#include <fmt/core.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cmath>
#include <map>

namespace nos::studies {
using namespace search;

namespace {
struct Row {
  const Candidate *candidate = nullptr;
  std::vector<TaskScore> scores;
  double margin = NAN;
  size_t runs = 0;
};

std::string label(const Candidate &c) {
  return c.batch < 0 ? referenceName(c) : fmt::format("#{}", c.id);
}

void printRows(const LevelSpec &spec, const std::vector<Row> &rows) {
  fmt::print("  {:>10}  {:>8}", "rule", "margin");
  for (const std::string &task : spec.tasks)
    fmt::print("  {:>18}", task + " (lr)");
  fmt::print("  canonical\n");
  for (const Row &r : rows) {
    fmt::print("  {:>10}  {:>+7.2f}%", label(*r.candidate), 100 * r.margin);
    for (const std::string &task : spec.tasks) {
      const TaskScore *s = scoreOf(r.scores, task);
      if (!s)
        fmt::print("  {:>18}", "-");
      else
        fmt::print("  {:>18}", fmt::format("{:.4f} ({:g})", s->mean, s->lr));
    }
    fmt::print("  {}\n", r.candidate->canonical);
  }
}

void printLevel(const Store &store, const LevelSpec &spec,
                const std::map<int64_t, const Candidate *> &byId,
                const std::vector<Promotion> &promotions, int top) {
  std::vector<Row> refs, rules;
  double seconds = 0;
  size_t promoted = 0;
  for (const Promotion &p : promotions) {
    if (p.level != spec.name || !byId.count(p.candidate))
      continue;
    promoted += p.decided >= 0;
    std::vector<LevelRun> runs = store.levelRuns(p.candidate, p.level);
    for (const LevelRun &r : runs)
      seconds += r.seconds;
    if (runs.empty())
      continue;
    const Candidate *c = byId.at(p.candidate);
    (c->batch < 0 ? refs : rules)
        .push_back({c, scoreLevel(spec, runs), NAN, runs.size()});
  }
  std::vector<std::vector<TaskScore>> refScores;
  for (const Row &r : refs)
    refScores.push_back(r.scores);
  std::map<std::string, double> best = bestReference(refScores);
  for (std::vector<Row> *rows : {&refs, &rules})
    for (Row &r : *rows)
      r.margin = marginOverBest(spec, r.scores, best);
  std::stable_sort(rules.begin(), rules.end(), [](const Row &a, const Row &b) {
    return a.margin > b.margin;
  });
  size_t total = spec.lrs.size() * size_t(spec.seeds) * spec.tasks.size();
  size_t complete =
      size_t(std::count_if(rules.begin(), rules.end(),
                           [&](const Row &r) { return r.runs == total; }));
  fmt::print("  {}: {} ({} lrs x {} seeds); {} rules promoted ({} fully "
             "trained), {:.1f} worker-s of training\n",
             spec.name, fmt::join(spec.tasks, ", "), spec.lrs.size(),
             spec.seeds, promoted, complete, seconds);
  if (rules.size() > size_t(top))
    rules.resize(size_t(top));
  rules.insert(rules.end(), refs.begin(), refs.end());
  if (!rules.empty())
    printRows(spec, rules);
}
/// The run's successive bests on the held-out task (its first task).
void printMeta(const Store &store, const LevelSpec &spec,
               const std::map<int64_t, const Candidate *> &byId,
               const std::vector<Promotion> &promotions, double end) {
  const std::string &task = spec.tasks.at(0);
  std::vector<MetaRow> rows;
  MetaReferences refs;
  for (const Promotion &p : promotions) {
    if (p.level != spec.name || !byId.count(p.candidate))
      continue;
    const Candidate &c = *byId.at(p.candidate);
    std::vector<TaskScore> scores =
        scoreLevel(spec, store.levelRuns(p.candidate, p.level));
    report::BestLr meta;
    if (const TaskScore *s = scoreOf(scores, task))
      meta = {s->lr, s->mean};
    if (c.batch < 0)
      refs.push_back({label(c), meta.mean});
    else
      rows.push_back({p.time, p.reward, c.canonical, meta});
  }
  report::Metric metric =
      report::metricNamed(train::metricOf(train::suiteTask(task).spec));
  fmt::print("  meta-validation on {} (held out of every reward; {}, {} is "
             "better; best of {} lrs, mean of {} seed(s)), each new best of "
             "the run:\n{}",
             task, metric.name, metric.higherIsBetter ? "higher" : "lower",
             spec.lrs.size(), spec.seeds, metaTable(rows, refs));
  if (rows.empty())
    return; // no round has ended yet: nothing to plot
  std::string path = store.dir() + "/metaval.svg";
  std::string why = writeFileAtomically(
      path, {metaSvg(rows, end, refs, metric.name,
                     "search fitness and meta-validation (" + task + ")",
                     "reward credited to the best")});
  // A run folder may be read-only (an archive): the tables stand without
  // the plot.
  if (!why.empty())
    fmt::print(stderr, "nos-search: warning: no plot: {}: {}\n", path, why);
  else
    fmt::print("  meta-validation plot: {}\n", path);
}
} // namespace

void printFunnel(const Store &store, const SearchSettings &settings,
                 const std::vector<Candidate> &all, int top, double end) {
  if (!settings.promotes())
    return;
  std::map<int64_t, const Candidate *> byId;
  for (const Candidate &c : all)
    byId[c.id] = &c;
  std::vector<Promotion> promotions = store.promotions();
  fmt::print("  funnel: a round every {} proxy evaluations, from the top "
             "{:g}% of a level and ahead of its best reference; margins "
             "against the best reference\n",
             settings.funnel.round, 100 * settings.funnel.top);
  for (int k = 0; k < settings.funnel.used; ++k)
    printLevel(store, settings.funnel.levels.at(size_t(k)), byId, promotions,
               top);
  if (settings.funnel.metaValidation)
    printMeta(store, settings.funnel.meta, byId, promotions, end);
}

} // namespace nos::studies
