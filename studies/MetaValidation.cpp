//===- MetaValidation.cpp - Search fitness against a held-out task --------===//
//
// A rule's meta-validation is the held-out task's validation metric at the
// rule's best lr (mean over the seeds), the protocol of the final table's
// tuning. Every training is a line of metaval.jsonl as soon as it ends.
//
//===----------------------------------------------------------------------===//
#include "nos/studies/MetaValidation.h"

#include "MetaPlot.h"

#include "nos/Compiler.h"
#include "nos/report/Plot.h"
#include "nos/report/Runs.h"
#include "nos/search/Store.h"
#include "nos/studies/Evaluations.h"
#include "nos/train/Tasks.h"

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <filesystem>
#include <functional>
#include <map>
#include <mutex>

namespace nos::studies {
namespace {
using namespace search;

/// The run's successive bests, and in `end` when its last candidate settled.
std::vector<BestSoFar> bestsOf(const std::string &run, double &end) {
  std::vector<Candidate> all = Store::open(run, /*readOnly=*/true)->all();
  std::stable_sort(all.begin(), all.end(),
                   [](auto &a, auto &b) { return a.time < b.time; });
  end = all.empty() ? 0 : all.back().time;
  std::vector<BestSoFar> out;
  for (const Candidate &c : all)
    if (c.batch >= 0 && c.status == status::Scored &&
        (out.empty() || c.reward > out.back().reward))
      out.push_back({c.time, c.reward, c.canonical});
  return out;
}

std::string key(const std::string &rule, double lr, uint64_t seed) {
  return fmt::format("{}\n{}\n{}", rule, lr, seed);
}

struct Job {
  std::string rule;
  double lr;
  uint64_t seed;
};

class Log {
public:
  explicit Log(const std::string &path) : file_(path) {
    for (const nlohmann::json &j : file_.lines())
      values_[key(j.at("rule"), j.at("lr"), j.at("seed"))] =
          numberOr(j, "validation");
  }
  bool has(const Job &j) const {
    std::lock_guard<std::mutex> lock(mutex_);
    return values_.count(key(j.rule, j.lr, j.seed)) != 0;
  }
  void add(const Job &j, double validation, const std::string &status) {
    std::lock_guard<std::mutex> lock(mutex_);
    file_.append({{"rule", j.rule},
                  {"lr", j.lr},
                  {"seed", j.seed},
                  {"status", status},
                  {"validation", finiteOrNull(validation)}});
    // As the file holds it, so that a continued study gives the same table.
    values_[key(j.rule, j.lr, j.seed)] =
        std::isfinite(validation) ? validation : NAN;
  }
  /// The rule's best lr's mean over the seeds.
  report::BestLr score(const std::string &rule, const MetaValidationOptions &o,
                       const report::Metric &metric) const {
    std::vector<report::LrValue> values;
    for (double lr : o.lrs)
      for (int s = 0; s < o.seeds; ++s)
        if (auto it = values_.find(key(rule, lr, uint64_t(s)));
            it != values_.end())
          values.push_back({lr, it->second});
    return report::bestMeanLr(values, o.lrs, metric);
  }

private:
  JsonLines file_;
  std::map<std::string, double> values_;
  mutable std::mutex mutex_;
};

} // namespace

std::vector<BestSoFar> spreadPoints(const std::vector<BestSoFar> &bests,
                                    int points) {
  if (points <= 0 || bests.size() <= size_t(points))
    return bests;
  std::vector<BestSoFar> out;
  size_t n = bests.size();
  for (int i = 0; i < points; ++i) // 0 and n - 1 always
    out.push_back(bests[size_t(i) * (n - 1) / size_t(points - 1)]);
  return out;
}

int runMetaValidation(const MetaValidationOptions &o) {
  return runStudy("nos-search metaval", [&] {
    const train::SuiteTask &suite = train::suiteTask(o.task);
    double end = 0;
    std::vector<BestSoFar> points = spreadPoints(bestsOf(o.run, end), o.points);
    if (points.empty())
      throw std::runtime_error("run '" + o.run + "' has no scored rule yet");
    std::filesystem::create_directories(o.dir);
    train::TaskSpec spec = suite.spec;
    spec.device = o.device;
    train::Task task(spec);
    report::Metric metric = report::metricNamed(task.metric());
    Log log(o.dir + "/metaval.jsonl");

    const std::vector<RatedRule> references = referenceRatedRules();
    std::vector<std::string> rules;
    for (const RatedRule &r : references)
      rules.push_back(r.canonical);
    for (const BestSoFar &p : points)
      rules.push_back(p.rule);
    std::map<std::string, CompiledRule> compiled; // each rule once
    std::vector<Job> jobs;
    for (const std::string &rule : rules)
      if (!compiled.count(rule)) {
        compiled[rule] = CompiledRule::fromText(rule);
        for (int s = 0; s < o.seeds; ++s)
          for (double lr : o.lrs)
            if (Job j{rule, lr, uint64_t(s)}; !log.has(j))
              jobs.push_back(j);
      }
    fmt::print(stderr, "nos-search metaval: {} runs to train on {}\n",
               jobs.size(), o.task);
    runJobs(jobs.size(), o.workers, [&](size_t i) {
      train::TrainConfig config = suite.config();
      config.compiled = compiled.at(jobs[i].rule);
      config.lr = jobs[i].lr, config.seed = jobs[i].seed;
      train::RunResult r = task.run(config);
      log.add(jobs[i], metric.validation(r), r.status);
      fmt::print(stderr, "[{}/{}] {} lr {:g} seed {} {}: {} {:.4f}\n", i + 1,
                 jobs.size(), o.task, jobs[i].lr, jobs[i].seed, jobs[i].rule,
                 r.status, metric.validation(r));
    });

    std::vector<MetaRow> rows;
    for (const BestSoFar &p : points)
      rows.push_back({p.time, p.reward, p.rule, log.score(p.rule, o, metric)});
    std::vector<std::pair<std::string, double>> refs;
    for (const RatedRule &r : references)
      refs.push_back({r.label, log.score(r.canonical, o, metric).mean});

    std::string text = fmt::format(
        "{}: search fitness against meta-validation on {} ({}, {} is better; "
        "best of {} lrs, mean of {} seed(s))\n",
        o.run, o.task, metric.name, metric.higherIsBetter ? "higher" : "lower",
        o.lrs.size(), o.seeds);
    text += metaTable(rows, refs);
    nlohmann::json json;
    for (const MetaRow &r : rows)
      json["points"].push_back({{"time", r.time},
                                {"fitness", r.fitness},
                                {"rule", r.rule},
                                {"meta_validation", r.meta.mean},
                                {"lr", r.meta.lr}});
    for (const auto &[name, v] : refs)
      json["references"][name] = v;
    json["task"] = o.task, json["metric"] = metric.name;
    writeStudyFiles(
        o.dir, {{"metaval.txt", text},
                {"metaval.json", json.dump(1) + "\n"},
                {"metaval.svg",
                 metaSvg(rows, end, refs, metric.name,
                         "search fitness and meta-validation (" + o.task + ")",
                         "search fitness (best reward)")}});
    fmt::print("{}", text);
  });
}

} // namespace nos::studies
