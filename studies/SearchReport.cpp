//===- SearchReport.cpp - nos-search report: tables and plots of runs -----===//
//
// Built only from what the databases hold, so a report can be made while a
// run goes on or long after it. The top table lists distinct canonical rules
// (a duplicate is not a second finding).
//
//===----------------------------------------------------------------------===//
#include "nos/studies/SearchReport.h"

#include "FunnelReport.h"

#include "nos/Files.h"
#include "nos/Statistics.h"
#include "nos/report/Plot.h"
#include "nos/report/Runs.h"
#include "nos/search/Efficiency.h"
#include "nos/search/Search.h"
#include "nos/search/Store.h"

#include <fmt/core.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

namespace nos::studies {
using namespace search;

namespace {
struct Run {
  std::string dir;
  SearchSettings settings;
  Progress progress;
  std::vector<Candidate> all;
  std::shared_ptr<Store> store;
};

void printRun(const Run &r, int top) {
  std::vector<const Candidate *> search, refs;
  for (const Candidate &c : r.all)
    (c.batch < 0 ? refs : search).push_back(&c);
  // Workers store references in the order they finish; show them in theirs.
  std::sort(refs.begin(), refs.end(),
            [](auto *a, auto *b) { return a->slot < b->slot; });
  fmt::print("run {}: {}, seed {}, {} units, batch {}; {} candidates in "
             "{:.1f} min\n",
             r.dir, r.settings.strategy.name, r.settings.strategy.seed,
             r.settings.units, r.settings.batchSize, search.size(),
             r.progress.elapsedSeconds / 60);
  std::map<std::string, int> counts;
  std::map<std::string, std::pair<double, int>> stages;
  for (const Candidate *c : search) {
    ++counts[c->status];
    for (auto [stage, ms] : c->stageMs)
      stages[stage].first += ms, stages[stage].second += 1;
  }
  fmt::print("  status:");
  for (auto [status, n] : counts)
    fmt::print(" {} {} ({:.0f}%)", status, n,
               100.0 * n / double(std::max<size_t>(1, search.size())));
  double hours = std::max(r.progress.elapsedSeconds, 1e-9) / 3600;
  int trained = int(std::count_if(search.begin(), search.end(),
                                  [](auto *c) { return reachedTraining(*c); }));
  fmt::print("\n  per hour: {:.0f} candidates, {:.0f} trained ({:.0f}% of "
             "all); deduplicated {:.0f}%, screened or hurdle-failed {:.0f}%",
             double(search.size()) / hours, trained / hours,
             100.0 * trained / double(std::max<size_t>(1, search.size())),
             100.0 * (counts[status::Duplicate] + counts[status::Equivalent]) /
                 double(std::max<size_t>(1, search.size())),
             100.0 * (counts[status::Screened] + counts[status::HurdleFailed]) /
                 double(std::max<size_t>(1, search.size())));
  fmt::print("\n  time per stage (total s / mean ms):");
  for (auto [stage, t] : stages)
    fmt::print(" {} {:.1f}/{:.2f}", stage, t.first / 1000, t.first / t.second);
  int workers = workersSeen(r.all);
  Efficiency e = efficiency(r.all, workers, r.progress.elapsedSeconds,
                            r.store->levelSeconds());
  fmt::print("\n  worker time: busy {:.1f}%, training {:.1f}% (the funnel's "
             "levels {:.1f}%) of {} workers x {:.1f} min; p50 compile {:.1f} "
             "ms, hurdle {:.1f} ms, train {:.1f} ms\n",
             100 * e.busyShare, 100 * e.trainShare, 100 * e.levelShare, workers,
             r.progress.elapsedSeconds / 60, e.compileMsP50, e.hurdleMsP50,
             e.trainMsP50);
  std::vector<const Candidate *> best;
  std::set<std::string> seen;
  std::vector<const Candidate *> sorted = search;
  std::stable_sort(sorted.begin(), sorted.end(),
                   [](auto *a, auto *b) { return a->reward > b->reward; });
  for (const Candidate *c : sorted)
    if (c->status == status::Scored && seen.insert(c->canonical).second &&
        int(best.size()) < top)
      best.push_back(c);
  fmt::print("  {:>4}  {:>7}  {:>6}  {:>5}  {}\n", "rank", "reward", "lr",
             "seeds", "rule (canonical)");
  for (size_t k = 0; k < best.size(); ++k)
    fmt::print("  {:>4}  {:>7.4f}  {:>6g}  {:>5}  {}\n", k + 1, best[k]->reward,
               best[k]->bestLr, 1, best[k]->canonical);
  if (!refs.empty()) {
    fmt::print("  references (same pipeline):\n");
    for (const Candidate *c : refs)
      fmt::print("  {:>10}  {:>7.4f}  {:>6g}  {}\n", referenceName(*c),
                 c->reward, c->bestLr, c->canonical);
  }
}

const char *const kColors[] = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728",
                               "#9467bd", "#8c564b", "#e377c2", "#7f7f7f"};

/// The reward range worth showing: from a little below the weakest
/// reference rule (or, without references, the 10th percentile of scored
/// rewards) to the best; anything lower sits on the axis.
std::pair<double, double> rewardRange(const std::vector<Run> &runs) {
  std::vector<double> scored;
  double lo = 1, hi = 0;
  for (const Run &r : runs)
    for (const Candidate &c : r.all) {
      if (c.status == status::Scored && c.batch >= 0)
        scored.push_back(c.reward);
      if (c.batch < 0 && c.reward > 0)
        lo = std::min(lo, c.reward);
      hi = std::max(hi, c.reward);
    }
  if (lo > hi && !scored.empty()) {
    std::sort(scored.begin(), scored.end());
    lo = scored[scored.size() / 10];
  }
  if (hi <= lo)
    return {0, 1};
  return {std::max(0.0, lo - 0.25 * (hi - lo)), hi + 0.02 * (hi - lo)};
}

/// The rewards of one batch's rules that trained, and the candidate count
/// at its first member (its x).
struct Batch {
  std::vector<double> trained;
  double x = 0;
};

/// A point per batch at the median reward of its trained rules, batches
/// pooled into at most 200 points so that a long run stays a line rather
/// than a band. Copies, failures and screened rules are left out: they
/// score 0, and with them a batch's mean sat below the plotted range.
std::vector<std::pair<double, double>>
batchMedians(const std::map<int64_t, Batch> &batches) {
  std::vector<std::pair<double, double>> points;
  size_t pool = std::max<size_t>(1, (batches.size() + 199) / 200), i = 0;
  std::vector<double> rewards;
  double x = 0;
  for (const auto &[id, batch] : batches) {
    x = rewards.empty() ? batch.x : x;
    rewards.insert(rewards.end(), batch.trained.begin(), batch.trained.end());
    if ((++i % pool != 0 && i != batches.size()) || rewards.empty())
      continue;
    points.push_back({x, median(std::move(rewards))});
    rewards.clear();
  }
  return points;
}

std::string plot(const std::vector<Run> &runs) {
  const double W = 900, H = 820, left = 80, right = 230;
  double maxN = 1, maxT = 1e-3;
  for (const Run &r : runs) {
    double n = 0;
    for (const Candidate &c : r.all)
      if (c.batch >= 0)
        maxN = std::max(maxN, ++n), maxT = std::max(maxT, c.time / 60);
  }
  auto [lo, hi] = rewardRange(runs);
  report::Panel top{left, 50, W - left - right, 300, 0, maxN, lo, hi};
  // Log time: a search finds most of what it finds in its first minutes.
  report::Panel bottom{
      left, 450, W - left - right, 300, std::min(0.01, maxT / 10), maxT, lo,
      hi,   true};
  auto clamp = [&](double y) { return std::clamp(y, lo, hi); };
  std::string svg = fmt::format(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{}\" height=\"{}\" "
      "font-family=\"sans-serif\" font-size=\"12\">\n<rect width=\"100%\" "
      "height=\"100%\" fill=\"white\"/>\n",
      W, H);
  svg += fmt::format("<text x=\"{}\" y=\"30\" font-size=\"15\">Reward of "
                     "each candidate (duplicates not drawn, 0 on the axis), "
                     "best so far, batch median (dashed)</text>\n<text "
                     "x=\"{}\" y=\"430\" font-size=\"15\">Best reward so "
                     "far against time</text>\n",
                     left, left);
  svg += top.axes("candidate", "reward");
  svg += bottom.axes("minutes of search (log scale)", "best reward so far");
  // The reference rules of the first run, scored by the same pipeline;
  // their names go below the legend of the runs (30 px a run from y = 60).
  double referenceTop = std::max(240.0, 60.0 + 30 * double(runs.size()) + 10);
  for (const Candidate &c : runs[0].all)
    if (c.batch < 0 && c.reward >= lo) {
      std::string name = referenceName(c);
      svg += fmt::format("<line class=\"reference\" x1=\"{0}\" y1=\"{1:.1f}\" "
                         "x2=\"{2}\" y2=\"{1:.1f}\" stroke=\"#999\" "
                         "stroke-dasharray=\"2 4\"/>\n<text x=\"{3}\" "
                         "y=\"{4:.1f}\" fill=\"#777\" font-size=\"10\">{5} "
                         "{6:.4f}</text>\n",
                         left, top.py(c.reward), left + top.w, W - right + 12,
                         referenceTop + 13 * c.slot, name, c.reward);
    }
  for (size_t k = 0; k < runs.size(); ++k) {
    const char *color = kColors[k % 8];
    std::vector<std::pair<double, double>> best, bestT, median;
    std::map<int64_t, Batch> batches;
    // At most ~2,000 points a run (every stride-th non-duplicate), so that
    // the SVG of a long run stays small enough to open.
    size_t distinct = 0, seen = 0;
    for (const Candidate &c : runs[k].all)
      distinct += c.batch >= 0 && c.status != status::Duplicate;
    size_t stride = std::max<size_t>(1, (distinct + 1999) / 2000);
    double b = -1, n = 0;
    std::string dots;
    for (const Candidate &c : runs[k].all) {
      if (c.batch < 0)
        continue;
      ++n;
      if (c.status != status::Duplicate && seen++ % stride == 0)
        dots += fmt::format("<circle class=\"candidate\" cx=\"{:.1f}\" "
                            "cy=\"{:.1f}\" r=\"2\" fill=\"{}\" "
                            "fill-opacity=\"0.4\"/>\n",
                            top.px(n), top.py(clamp(c.reward)), color);
      if (c.reward > b) { // a step: only where the best changes
        if (b >= 0)
          best.push_back({n, clamp(b)}),
              bestT.push_back({c.time / 60, clamp(b)});
        b = c.reward;
        best.push_back({n, clamp(b)}), bestT.push_back({c.time / 60, clamp(b)});
      }
      Batch &batch = batches[c.batch];
      batch.x = batch.x ? batch.x : n;
      if (c.status == status::Scored || c.status == status::Stopped)
        batch.trained.push_back(c.reward);
    }
    if (b >= 0)
      best.push_back({n, clamp(b)}),
          bestT.push_back({runs[k].progress.elapsedSeconds / 60, clamp(b)});
    for (auto [x, y] : batchMedians(batches))
      median.push_back({x, clamp(y)});
    svg += dots + top.line(best, color, "class=\"best\"") +
           top.line(median, color, "stroke-dasharray=\"4 3\" class=\"median\"",
                    1) +
           bottom.line(bestT, color, "class=\"best-time\"");
    std::string name = runs[k].dir.substr(runs[k].dir.find_last_of('/') + 1);
    svg += fmt::format("<text x=\"{0}\" y=\"{1}\" fill=\"{2}\" "
                       "font-size=\"11\">{3}<tspan x=\"{0}\" dy=\"13\">({4}, "
                       "seed {5})</tspan></text>\n",
                       W - right + 12, 60 + 30 * k, color,
                       report::escapeXml(name.substr(0, 34)),
                       runs[k].settings.strategy.name,
                       runs[k].settings.strategy.seed);
  }
  return svg + "</svg>\n";
}
} // namespace

int report(const std::vector<std::string> &dirs, const ReportOptions &options) {
  std::vector<Run> runs;
  try {
    for (const std::string &dir : dirs) {
      std::unique_ptr<Store> store = Store::open(dir, /*readOnly=*/true);
      runs.push_back({dir, SearchSettings::fromJson(store->settingsJson()),
                      store->progress(), store->all(), std::move(store)});
    }
  } catch (const std::exception &e) {
    fmt::print(stderr, "nos-search: error: {}\n", e.what());
    return 1;
  }
  for (const Run &r : runs) {
    printRun(r, options.top);
    printFunnel(*r.store, r.settings, r.all, options.top,
                r.progress.elapsedSeconds);
  }
  std::string path =
      options.svgPath.empty() ? dirs[0] + "/report.svg" : options.svgPath;
  std::string why = writeFileAtomically(path, {plot(runs)});
  if (!why.empty()) {
    fmt::print(stderr, "nos-search: error: {}: {}\n", path, why);
    return 1;
  }
  fmt::print("plot: {}\n", path);
  return 0;
}

} // namespace nos::studies
