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
  int64_t joined = Promotion::kNotJoined;
};

std::string label(const Candidate &c) {
  return c.batch < 0 ? referenceName(c) : fmt::format("#{}", c.id);
}

/// When the search could first know the promotions joined at each batch:
/// a join happens at the retirement of a round's batch, which waits for
/// every batch before it and for the trainings of what it joins, so the
/// latest of those times (a lower bound, off by the engine's own delay).
std::map<int64_t, double> joinTimes(const Store &store,
                                    const std::vector<Candidate> &all,
                                    const std::vector<Promotion> &promotions) {
  std::map<int64_t, double> at;
  for (const Candidate &c : all)
    if (c.batch >= 0) {
      auto [it, fresh] = at.try_emplace(c.batch, c.time);
      it->second = std::max(it->second, c.time);
    }
  for (const Promotion &p : promotions)
    if (p.joined != Promotion::kNotJoined)
      for (const LevelRun &r : store.levelRuns(p.candidate, p.level)) {
        auto [it, fresh] = at.try_emplace(p.joined, r.time);
        it->second = std::max(it->second, r.time);
      }
  double latest = 0; // batches retire in order
  for (auto &[batch, time] : at)
    time = latest = std::max(latest, time);
  return at;
}

/// Per reference, the first joined rule whose margin over that reference
/// alone is positive, in join order, and when it joined: how long the
/// search took to get a rule ahead of each baseline at this level.
void printFirstAhead(const LevelSpec &spec, const std::vector<Row> &refs,
                     std::vector<Row> rules,
                     const std::map<int64_t, double> &joinedAt) {
  std::stable_sort(rules.begin(), rules.end(), [](const Row &a, const Row &b) {
    return a.joined < b.joined;
  });
  std::vector<std::string> firsts;
  for (const Row &ref : refs) {
    std::map<std::string, double> own = bestReference({ref.scores});
    auto first = std::find_if(rules.begin(), rules.end(), [&](const Row &r) {
      return r.joined != Promotion::kNotJoined &&
             marginOverBest(spec, r.scores, own) > 0;
    });
    auto at =
        first == rules.end() ? joinedAt.end() : joinedAt.find(first->joined);
    firsts.push_back(at == joinedAt.end()
                         ? label(*ref.candidate) + " never"
                         : fmt::format("{} {:.1f} ({})", label(*ref.candidate),
                                       at->second / 60,
                                       label(*first->candidate)));
  }
  fmt::print("    first joined rule ahead of each reference (run minutes): "
             "{}\n",
             fmt::join(firsts, "; "));
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

/// A level's promoted rules and references with their scores and margins
/// over the best reference, rules best first.
struct LevelTable {
  std::vector<Row> refs, rules;
  double seconds = 0;       // trained in this run
  double cachedSeconds = 0; // what the runs served from the cache took
  size_t promoted = 0, cached = 0;
};

LevelTable scoreTable(const Store &store, const LevelSpec &spec,
                      const std::map<int64_t, const Candidate *> &byId,
                      const std::vector<Promotion> &promotions) {
  LevelTable t;
  for (const Promotion &p : promotions) {
    if (p.level != spec.name || !byId.count(p.candidate))
      continue;
    t.promoted += p.decided >= 0;
    std::vector<LevelRun> runs = store.levelRuns(p.candidate, p.level);
    for (const LevelRun &r : runs) {
      (r.cached ? t.cachedSeconds : t.seconds) += r.seconds;
      t.cached += r.cached;
    }
    if (runs.empty())
      continue;
    const Candidate *c = byId.at(p.candidate);
    (c->batch < 0 ? t.refs : t.rules)
        .push_back({c, scoreLevel(spec, runs), NAN, runs.size(), p.joined});
  }
  std::vector<std::vector<TaskScore>> refScores;
  for (const Row &r : t.refs)
    refScores.push_back(r.scores);
  std::map<std::string, double> best = bestReference(refScores);
  for (std::vector<Row> *rows : {&t.refs, &t.rules})
    for (Row &r : *rows)
      r.margin = marginOverBest(spec, r.scores, best);
  std::stable_sort(
      t.rules.begin(), t.rules.end(),
      [](const Row &a, const Row &b) { return a.margin > b.margin; });
  return t;
}

void printLevel(const Store &store, const LevelSpec &spec,
                const std::map<int64_t, const Candidate *> &byId,
                const std::vector<Promotion> &promotions,
                const std::map<int64_t, double> &joinedAt, int top) {
  LevelTable t = scoreTable(store, spec, byId, promotions);
  std::vector<Row> &rules = t.rules;
  size_t total = spec.lrs.size() * size_t(spec.seeds) * spec.tasks.size();
  size_t complete =
      size_t(std::count_if(rules.begin(), rules.end(),
                           [&](const Row &r) { return r.runs == total; }));
  fmt::print("  {}: {} ({} lrs x {} seeds); {} rules promoted ({} fully "
             "trained), {:.1f} worker-s of training{}\n",
             spec.name, fmt::join(spec.tasks, ", "), spec.lrs.size(),
             spec.seeds, t.promoted, complete, t.seconds,
             t.cached == 0
                 ? std::string()
                 : fmt::format(" ({} runs from the level-results cache, "
                               "{:.1f} worker-s not spent)",
                               t.cached, t.cachedSeconds));
  if (!t.refs.empty())
    printFirstAhead(spec, t.refs, rules, joinedAt);
  if (rules.size() > size_t(top))
    rules.resize(size_t(top));
  rules.insert(rules.end(), t.refs.begin(), t.refs.end());
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

std::vector<std::string> levelLeaders(const Store &store,
                                      const SearchSettings &settings,
                                      const std::string &level, int top) {
  const std::vector<LevelSpec> &levels = settings.funnel.levels;
  std::vector<Candidate> all = store.all();
  std::map<int64_t, const Candidate *> byId;
  for (const Candidate &c : all)
    byId[c.id] = &c;
  std::vector<Promotion> promotions = store.promotions();
  // As the engine's Funnel::best: the highest level with a joined result,
  // where only joined results count.
  bool best = level == "best";
  for (int k = settings.funnel.used; k-- > 0;) {
    const LevelSpec &spec = levels.at(size_t(k));
    if (!best && spec.name != level)
      continue;
    std::vector<std::string> out;
    for (const Row &r : scoreTable(store, spec, byId, promotions).rules)
      if (int(out.size()) < top && (!best || r.joined != Promotion::kNotJoined))
        out.push_back(r.candidate->canonical);
    if (!best || !out.empty())
      return out;
  }
  return {};
}

void printFunnel(const Store &store, const SearchSettings &settings,
                 const std::vector<Candidate> &all, int top, double end) {
  if (!settings.promotes())
    return;
  std::map<int64_t, const Candidate *> byId;
  for (const Candidate &c : all)
    byId[c.id] = &c;
  std::vector<Promotion> promotions = store.promotions();
  std::map<int64_t, double> joinedAt = joinTimes(store, all, promotions);
  fmt::print("  funnel: a round every {} proxy evaluations, from the top "
             "{:g}% of a level and ahead of its best reference; margins "
             "against the best reference\n",
             settings.funnel.round, 100 * settings.funnel.top);
  for (int k = 0; k < settings.funnel.used; ++k)
    printLevel(store, settings.funnel.levels.at(size_t(k)), byId, promotions,
               joinedAt, top);
  if (settings.funnel.metaValidation)
    printMeta(store, settings.funnel.meta, byId, promotions, end);
}

} // namespace nos::studies
