//===- Compare.cpp - A search's finds against the references, over seeds --===//
//
// The lr is chosen per rule by the mean over seeds (not per seed, which
// would favour noisy rules), and the table says how far each rule is from
// the best reference in units of the standard error of the difference, so
// a reader can tell a win from noise.
//
//===----------------------------------------------------------------------===//
#include "nos/studies/Compare.h"

#include "nos/Builtins.h"
#include "nos/Statistics.h"
#include "nos/report/Runs.h"
#include "nos/search/Store.h"
#include "nos/studies/Evaluations.h"
#include "nos/studies/Fidelity.h"

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <set>
#include <stdexcept>

namespace nos::studies {
using namespace search;

namespace {
struct Row {
  std::string label;
  double lr = 0, mean = 0, stddev = 0;
  int diverged = 0;
  std::vector<double> values; // at the chosen lr, one per seed
};

/// Per rule: the lr with the best mean over seeds, its mean and spread.
Row summarize(const EvaluationLog &log, const std::string &proxy,
              const RatedRule &rule, const std::vector<uint64_t> &seeds) {
  const std::vector<double> &lrs = train::proxyPreset(proxy).lrs;
  Row row;
  row.label = rule.label;
  row.mean = -1;
  for (size_t i = 0; i < lrs.size(); ++i) {
    std::vector<double> values;
    for (uint64_t s : seeds) {
      const Evaluation *e = log.find(proxy, rule.canonical, s);
      values.push_back(e && i < e->accuracies.size() ? e->accuracies[i] : 0);
    }
    double mean = meanAndStd(values).mean;
    if (mean > row.mean)
      row.mean = mean, row.lr = lrs[i], row.values = values;
  }
  for (uint64_t s : seeds) {
    const Evaluation *e = log.find(proxy, rule.canonical, s);
    row.diverged += !e || e->status != status::Scored;
  }
  row.stddev = meanAndStd(row.values).stddev;
  return row;
}

std::string table(const std::string &proxy, std::vector<Row> rows,
                  size_t references, nlohmann::json &json) {
  // The yardstick: the best reference on this task.
  const Row *best = &rows[0];
  for (size_t i = 0; i < references; ++i)
    best = rows[i].mean > best->mean ? &rows[i] : best;
  Row yardstick = *best;
  std::stable_sort(rows.begin(), rows.end(),
                   [](auto &a, auto &b) { return a.mean > b.mean; });
  std::string s = fmt::format(
      "{} ({}), lr chosen per rule by the mean over {} seeds; d = (mean - "
      "{}) / standard error of the difference\n",
      proxy, Pipeline(train::proxyPreset(proxy)).describe(),
      yardstick.values.size(), yardstick.label);
  s += fmt::format("  {:>4}  {:>7}  {:>7}  {:>6}  {:>6}  {:>4}  {}\n", "rank",
                   "mean", "std", "lr", "d", "div", "rule");
  int n = int(yardstick.values.size());
  for (size_t k = 0; k < rows.size(); ++k) {
    const Row &r = rows[k];
    double se =
        std::sqrt((r.stddev * r.stddev + yardstick.stddev * yardstick.stddev) /
                  std::max(1, n));
    double d = se > 0 ? (r.mean - yardstick.mean) / se : 0;
    s += fmt::format("  {:>4}  {:>7.4f}  {:>7.4f}  {:>6g}  {:>+6.1f}  {:>4}  {}"
                     "\n",
                     k + 1, r.mean, r.stddev, r.lr, d, r.diverged, r.label);
    json[proxy].push_back({{"rule", r.label},
                           {"mean", r.mean},
                           {"std", r.stddev},
                           {"lr", r.lr},
                           {"d", d},
                           {"values", r.values}});
  }
  return s + "\n";
}
} // namespace

int runCompare(const CompareOptions &o) {
  return runStudy("nos-search compare", [&] {
    for (const std::string &p : o.proxies)
      train::proxyPreset(p); // an unknown name fails before any work
    std::vector<RatedRule> rules = collectRules(o.runs, o.top, o.rules);
    std::filesystem::create_directories(o.dir);
    EvaluationLog log(o.dir + "/results.jsonl");
    std::vector<uint64_t> seeds = seedRange(o.firstSeed, o.seeds);
    log.complete(o.proxies, rules, seeds, o.workers, "nos-search compare",
                 o.device);
    std::string text;
    nlohmann::json json;
    for (const std::string &p : o.proxies) {
      std::vector<Row> rows;
      for (const RatedRule &r : rules)
        rows.push_back(summarize(log, p, r, seeds));
      text += table(p, rows, referenceRatedRules().size(), json);
    }
    writeStudyFiles(
        o.dir, {{"report.txt", text}, {"report.json", json.dump(1) + "\n"}});
    fmt::print("{}", text);
  });
}

} // namespace nos::studies
