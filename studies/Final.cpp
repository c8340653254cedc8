//===- Final.cpp - The final table: held-out tasks, test splits -----------===//
//
// Two phases per task. Tuning trains every rule at every lr of the grid
// with the tuning seeds and reads validation only; each rule's lr is the
// best mean there. Testing trains every rule again at its lr with fresh
// seeds and scores the test split when each run ends. The second phase
// needs the first's choice, so it starts when the first is complete; both
// skip what final.jsonl already holds.
//
//===----------------------------------------------------------------------===//
#include "nos/studies/Final.h"

#include "FinalTable.h"

#include "nos/Statistics.h"
#include "nos/studies/Evaluations.h"
#include "nos/train/Tasks.h"

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <stdexcept>

namespace nos::studies {
namespace {

nlohmann::json toJson(const FinalRecord &r) {
  return {{"task", r.task},
          {"rule", r.rule},
          {"phase", r.phase},
          {"status", r.status},
          {"lr", r.lr},
          {"seed", r.seed},
          {"validation", finiteOrNull(r.validation)},
          {"test", finiteOrNull(r.test)},
          {"seconds", r.seconds}};
}

FinalRecord fromJson(const nlohmann::json &j) {
  FinalRecord r;
  r.task = j.at("task"), r.rule = j.at("rule"), r.phase = j.at("phase");
  r.status = j.at("status"), r.lr = j.at("lr"), r.seed = j.at("seed");
  r.validation = numberOr(j, "validation"), r.test = numberOr(j, "test");
  r.seconds = j.at("seconds");
  return r;
}

std::string key(const std::string &task, const std::string &rule, double lr,
                uint64_t seed, const std::string &phase) {
  return fmt::format("{}\n{}\n{}\n{}\n{}", task, rule, lr, seed, phase);
}

class FinalLog {
public:
  explicit FinalLog(const std::string &path) : file_(path) {
    for (const nlohmann::json &line : file_.lines()) {
      FinalRecord r = fromJson(line);
      done_[key(r.task, r.rule, r.lr, r.seed, r.phase)] = r;
    }
  }
  const FinalRecord *find(const std::string &k) const {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = done_.find(k);
    return it == done_.end() ? nullptr : &it->second;
  }
  /// Keeps the record as the file holds it (a metric that is not finite
  /// reads back as NaN), so a table continued later is the same table.
  void append(const FinalRecord &r) {
    std::lock_guard<std::mutex> lock(mutex_);
    nlohmann::json line = toJson(r);
    file_.append(line);
    done_[key(r.task, r.rule, r.lr, r.seed, r.phase)] = fromJson(line);
  }
  const std::string &path() const { return file_.path(); }
  /// Every record of (task, rule, phase) at one of `seeds`, any lr.
  std::vector<FinalRecord> all(const std::string &task, const std::string &rule,
                               const std::string &phase,
                               const std::vector<uint64_t> &seeds) const {
    std::lock_guard<std::mutex> lock(mutex_);
    std::vector<FinalRecord> out;
    for (const auto &[k, r] : done_)
      if (r.task == task && r.rule == rule && r.phase == phase &&
          std::find(seeds.begin(), seeds.end(), r.seed) != seeds.end())
        out.push_back(r);
    return out;
  }

private:
  JsonLines file_;
  std::map<std::string, FinalRecord> done_;
  mutable std::mutex mutex_;
};

struct Job {
  const train::SuiteTask *task;
  size_t rule;
  double lr;
  uint64_t seed;
  std::string phase;
};

class FinalStudy {
public:
  explicit FinalStudy(const FinalOptions &o)
      : o_(o), log_(o.dir + "/final.jsonl") {
    for (const std::string &name : o.tasks) {
      const train::SuiteTask &t = train::suiteTask(name);
      suite_.push_back(&t);
      train::TaskSpec spec = t.spec;
      spec.device = o.device;
      tasks_[name] = std::make_unique<train::Task>(spec);
    }
    rules_ = collectRules(o.runs, o.top, o.rules, o.level);
    for (const RatedRule &r : rules_)
      compiled_.push_back(CompiledRule::fromText(r.canonical));
    tuneSeeds_ = seedRange(o.firstSeed, o.tuneSeeds);
    testSeeds_ = seedRange(o.firstSeed + uint64_t(o.tuneSeeds), o.seeds);
  }

  std::vector<FinalTaskTable> run() {
    std::vector<Job> jobs;
    for (uint64_t seed : tuneSeeds_)
      for (const train::SuiteTask *t : suite_)
        for (size_t r = 0; r < rules_.size(); ++r)
          for (double lr : o_.lrs)
            jobs.push_back({t, r, lr, seed, "tune"});
    complete(jobs, "tuning");
    // Past the grid's ends, a round at a time: each point is decided by
    // the one before it.
    for (;;) {
      jobs.clear();
      for (const train::SuiteTask *t : suite_)
        for (size_t r = 0; r < rules_.size(); ++r) {
          std::vector<double> missing;
          tuningLrsOf(*t, tuning(*t, r), missing);
          for (double lr : missing)
            for (uint64_t seed : tuneSeeds_)
              jobs.push_back({t, r, lr, seed, "tune"});
        }
      if (jobs.empty())
        break;
      complete(jobs, "past-the-grid tuning");
    }
    jobs.clear();
    for (uint64_t seed : testSeeds_)
      for (const train::SuiteTask *t : suite_)
        for (size_t r = 0; r < rules_.size(); ++r)
          jobs.push_back({t, r, tuned(*t, r).lr, seed, "test"});
    complete(jobs, "test");
    std::vector<FinalTaskTable> tables;
    for (const train::SuiteTask *t : suite_)
      tables.push_back(table(*t));
    return tables;
  }

  const std::vector<uint64_t> &tuneSeeds() const { return tuneSeeds_; }
  const std::vector<uint64_t> &testSeeds() const { return testSeeds_; }

private:
  report::Metric metricOf(const train::SuiteTask &t) const {
    return report::metricNamed(tasks_.at(t.name)->metric());
  }

  void complete(std::vector<Job> jobs, const char *phase) {
    size_t total = jobs.size();
    std::erase_if(jobs, [&](const Job &j) {
      return log_.find(key(j.task->name, rules_[j.rule].canonical, j.lr, j.seed,
                           j.phase)) != nullptr;
    });
    fmt::print(stderr, "nos-search final: {} {} runs to train ({} in {})\n",
               jobs.size(), phase, total - jobs.size(), log_.path());
    if (jobs.empty())
      return;
    runJobs(jobs.size(), o_.workers,
            [&](size_t i) { trainOne(jobs[i], i, jobs.size()); });
  }

  void trainOne(const Job &job, size_t i, size_t n) {
    const train::Task &task = *tasks_.at(job.task->name);
    train::TrainConfig config = job.task->config();
    config.compiled = compiled_[job.rule];
    config.lr = job.lr, config.seed = job.seed;
    config.evaluateTest = job.phase == "test";
    train::RunResult r = task.run(config);
    report::Metric metric = metricOf(*job.task);
    FinalRecord rec{job.task->name, rules_[job.rule].canonical,
                    job.phase,      r.status,
                    job.lr,         job.seed};
    rec.validation = metric.validation(r);
    rec.test = metric.test(r);
    rec.seconds = r.seconds;
    log_.append(rec);
    fmt::print(stderr, "[{}/{}] {} {} lr {:g} seed {} {}: {} {:.4f}\n", i + 1,
               n, job.phase, job.task->name, job.lr, job.seed,
               rules_[job.rule].label, r.status,
               job.phase == "test" ? rec.test : rec.validation);
  }

  std::vector<FinalRecord> records(const train::SuiteTask &t, size_t rule,
                                   const std::string &phase,
                                   const std::vector<uint64_t> &seeds,
                                   const std::vector<double> &lrs) const {
    std::vector<FinalRecord> out;
    for (uint64_t seed : seeds)
      for (double lr : lrs)
        if (const FinalRecord *r =
                log_.find(key(t.name, rules_[rule].canonical, lr, seed, phase)))
          out.push_back(*r);
    return out;
  }

  std::vector<double> tuningLrsOf(const train::SuiteTask &t,
                                  const std::vector<FinalRecord> &tuning,
                                  std::vector<double> &missing) const {
    return tuningLrs(tuning, o_.lrs, o_.lrExtend, tuneSeeds_, metricOf(t),
                     missing);
  }

  std::vector<FinalRecord> tuning(const train::SuiteTask &t,
                                  size_t rule) const {
    return log_.all(t.name, rules_[rule].canonical, "tune", tuneSeeds_);
  }

  /// The rule's lr and its mean validation over the tuning seeds (chooseLr
  /// reads only the records at the lrs it is given).
  report::BestLr tuned(const train::SuiteTask &t, size_t rule) const {
    std::vector<FinalRecord> records = tuning(t, rule);
    std::vector<double> missing;
    return chooseLr(records, tuningLrsOf(t, records, missing), metricOf(t));
  }

  FinalRow row(const train::SuiteTask &t, size_t rule) const {
    const report::Metric metric = metricOf(t);
    FinalRow out;
    out.label = rules_[rule].label, out.canonical = rules_[rule].canonical;
    out.reference = rule < referenceRatedRules().size();
    report::BestLr best = tuned(t, rule);
    out.lr = best.lr, out.tuning = best.mean;
    std::vector<double> finite;
    for (const FinalRecord &r :
         records(t, rule, "test", testSeeds_, {out.lr})) {
      out.tests.push_back(r.test);
      out.diverged += r.status != "ok" || !std::isfinite(r.test);
      if (std::isfinite(r.test))
        finite.push_back(r.test);
    }
    if (!finite.empty()) {
      MeanStd m = meanAndStd(finite);
      out.testMean = m.mean, out.testStd = m.stddev;
    }
    return out;
  }

  FinalTaskTable table(const train::SuiteTask &t) const {
    FinalTaskTable out{t.name, tasks_.at(t.name)->describe(), metricOf(t)};
    for (size_t r = 0; r < rules_.size(); ++r)
      out.rows.push_back(row(t, r));
    for (FinalRow &r : out.rows)
      for (const FinalRow &ref : out.rows)
        if (ref.reference)
          r.ahead[ref.label] = aheadBy(r.tests, ref.tests, out.metric);
    const report::Metric &m = out.metric;
    std::stable_sort(out.rows.begin(), out.rows.end(),
                     [&](const FinalRow &a, const FinalRow &b) {
                       if (std::isnan(b.tuning))
                         return !std::isnan(a.tuning);
                       return m.higherIsBetter ? a.tuning > b.tuning
                                               : a.tuning < b.tuning;
                     });
    return out;
  }

  const FinalOptions &o_;
  FinalLog log_;
  std::vector<const train::SuiteTask *> suite_;
  /// The suite's tasks, loaded once and shared by the workers.
  std::map<std::string, std::unique_ptr<train::Task>> tasks_;
  std::vector<RatedRule> rules_;
  std::vector<CompiledRule> compiled_;
  std::vector<uint64_t> tuneSeeds_, testSeeds_;
};

const char *const kYardsticks[] = {"adam", "addsign", "powersign"};

std::string formatTable(const FinalTaskTable &t, const FinalOptions &o,
                        const FinalStudy &study) {
  std::string s = fmt::format(
      "{}: {}\n  {} ({} is better); lr per rule from {} lrs{} by mean "
      "validation over tuning seeds {}..{}; test split over fresh seeds "
      "{}..{}\n  d_X: (rule - X) / standard error of the difference, "
      "positive when the rule is better\n",
      t.name, t.describe, t.metric.name,
      t.metric.higherIsBetter ? "higher" : "lower", o.lrs.size(),
      o.lrExtend > 0 ? fmt::format(" and up to {} past an end where the "
                                   "best lay",
                                   o.lrExtend)
                     : "",
      study.tuneSeeds().front(), study.tuneSeeds().back(),
      study.testSeeds().front(), study.testSeeds().back());
  s += fmt::format("  {:>4}  {:>8}  {:>8}  {:>17}  {:>7}  {:>7}  {:>7}  {:>3}  "
                   "{}\n",
                   "rank", "lr", "tuning", "test mean ± std", "d_adam",
                   "d_addsn", "d_powsn", "div", "rule");
  for (size_t k = 0; k < t.rows.size(); ++k) {
    const FinalRow &r = t.rows[k];
    s += fmt::format("  {:>4}  {:>8g}  {:>8.4f}  {:>8.4f} ± {:<6.4f}", k + 1,
                     r.lr, r.tuning, r.testMean, r.testStd);
    for (const char *y : kYardsticks)
      s += r.ahead.count(y) ? fmt::format("  {:>+7.1f}", r.ahead.at(y))
                            : std::string("        ");
    s += fmt::format("  {:>3}  {}{}\n", r.diverged, r.label,
                     r.reference ? " (reference)" : "");
  }
  return s + "\n";
}

/// Each found rule against the bar of issue 23: ahead of tuned Adam and
/// AddSign by two standard errors, task by task.
std::string formatWins(const std::vector<FinalTaskTable> &tables,
                       nlohmann::json &json) {
  std::map<std::string, int> wins;
  std::vector<std::string> order;
  for (const FinalTaskTable &t : tables)
    for (const FinalRow &r : t.rows) {
      if (r.reference)
        continue;
      if (!wins.count(r.label))
        order.push_back(r.label), wins[r.label] = 0;
      wins[r.label] += r.ahead.at("adam") >= 2 && r.ahead.at("addsign") >= 2;
    }
  if (order.empty())
    return "";
  std::string s = fmt::format("Ahead of Adam and AddSign by >= 2 standard "
                              "errors, of {} task(s):\n",
                              tables.size());
  for (const std::string &label : order) {
    s += fmt::format("  {}  {}\n", wins[label], label);
    json["wins"][label] = wins[label];
  }
  return s;
}

nlohmann::json tableJson(const FinalTaskTable &t) {
  nlohmann::json rows = nlohmann::json::array();
  for (const FinalRow &r : t.rows) {
    nlohmann::json tests = nlohmann::json::array();
    for (double v : r.tests)
      tests.push_back(finiteOrNull(v));
    nlohmann::json ahead;
    for (const auto &[name, d] : r.ahead)
      ahead[name] = finiteOrNull(d);
    rows.push_back({{"rule", r.label},
                    {"canonical", r.canonical},
                    {"reference", r.reference},
                    {"lr", r.lr},
                    {"tuning", finiteOrNull(r.tuning)},
                    {"test_mean", finiteOrNull(r.testMean)},
                    {"test_std", finiteOrNull(r.testStd)},
                    {"tests", tests},
                    {"diverged", r.diverged},
                    {"ahead", ahead}});
  }
  return {{"task", t.describe},
          {"metric", t.metric.name},
          {"higher_is_better", t.metric.higherIsBetter},
          {"rows", rows}};
}

} // namespace

report::BestLr chooseLr(const std::vector<FinalRecord> &tuning,
                        const std::vector<double> &lrs,
                        const report::Metric &metric) {
  std::vector<report::LrValue> values;
  for (const FinalRecord &r : tuning)
    values.push_back({r.lr, r.validation});
  return report::bestMeanLr(values, lrs, metric);
}

namespace {
bool trainedWithAll(const std::vector<FinalRecord> &tuning, double lr,
                    const std::vector<uint64_t> &seeds) {
  return std::all_of(seeds.begin(), seeds.end(), [&](uint64_t seed) {
    return std::any_of(tuning.begin(), tuning.end(), [&](const FinalRecord &r) {
      return r.lr == lr && r.seed == seed;
    });
  });
}

/// `edge` times its ratio to `neighbour`, rounded so that the table and
/// final.jsonl show 9 rather than 9.000000000000002.
double pastEdge(double edge, double neighbour) {
  return std::stod(fmt::format("{:.12g}", edge * (edge / neighbour)));
}
} // namespace

std::vector<double> tuningLrs(const std::vector<FinalRecord> &tuning,
                              const std::vector<double> &grid, int perSide,
                              const std::vector<uint64_t> &seeds,
                              const report::Metric &metric,
                              std::vector<double> &missing) {
  std::vector<double> lrs = grid;
  missing.clear();
  for (double lr : lrs)
    if (!trainedWithAll(tuning, lr, seeds))
      missing.push_back(lr);
  int up = 0, down = 0;
  while (missing.empty() && lrs.size() >= 2) {
    std::vector<double> sorted = lrs;
    std::sort(sorted.begin(), sorted.end());
    double best = chooseLr(tuning, lrs, metric).lr, next;
    if (best == sorted.back() && up < perSide)
      next = pastEdge(sorted.back(), sorted[sorted.size() - 2]), ++up;
    else if (best == sorted.front() && down < perSide)
      next = pastEdge(sorted.front(), sorted[1]), ++down;
    else
      break;
    lrs.push_back(next);
    if (!trainedWithAll(tuning, next, seeds))
      missing.push_back(next);
  }
  return lrs;
}

double aheadBy(const std::vector<double> &rule,
               const std::vector<double> &reference,
               const report::Metric &metric) {
  if (rule.empty() || reference.empty())
    return NAN;
  MeanStd a = meanAndStd(rule), b = meanAndStd(reference);
  double diff = metric.higherIsBetter ? a.mean - b.mean : b.mean - a.mean;
  double se = std::sqrt(a.stddev * a.stddev / double(rule.size()) +
                        b.stddev * b.stddev / double(reference.size()));
  if (std::isnan(diff))
    return NAN;
  return se > 0 ? diff / se : (diff == 0 ? 0 : std::copysign(INFINITY, diff));
}

int runFinal(const FinalOptions &o) {
  return runStudy("nos-search final", [&] {
    for (const std::string &name : o.tasks)
      train::suiteTask(name); // an unknown name fails before any work
    std::filesystem::create_directories(o.dir);
    FinalStudy study(o);
    std::vector<FinalTaskTable> tables = study.run();
    std::string text;
    nlohmann::json json;
    json["protocol"] = {{"lrs", o.lrs},
                        {"lr_extend", o.lrExtend},
                        {"tuning_seeds", study.tuneSeeds()},
                        {"test_seeds", study.testSeeds()}};
    for (const FinalTaskTable &t : tables) {
      text += formatTable(t, o, study);
      json["tasks"][t.name] = tableJson(t);
    }
    text += formatWins(tables, json);
    std::string title =
        fmt::format("test split, {} fresh seeds; lr chosen on validation",
                    study.testSeeds().size());
    writeStudyFiles(o.dir, {{"final.txt", text},
                            {"final.json", json.dump(1) + "\n"},
                            {"final.svg", finalSvg(tables, title)}});
    fmt::print("{}", text);
  });
}

} // namespace nos::studies
