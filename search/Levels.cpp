//===- Levels.cpp - The funnel's levels above the proxy -------------------===//
//
// A level trains with the suite task's own budget (epochs, batch size) and
// only swaps in the lr and the seed, so a rule's level score is what
// `nos-train --task` would report for it. Seeds are the same for every rule
// (common random numbers), so two rules at a level differ by their rule.
//
//===----------------------------------------------------------------------===//
#include "nos/search/Levels.h"

#include "nos/train/Tasks.h"
#include "nos/train/Trainer.h"

#include <algorithm>
#include <cmath>

namespace nos::search {

std::vector<LevelSpec> defaultLevels() {
  const std::vector<double> halfDecades = {1e-3, 3e-3, 0.01, 0.03, 0.1, 0.3, 1};
  return {{"L2", {"fmnist-mlp-s"}, halfDecades, 3, 2},
          {"L3", {"fmnist-mlp", "logistic"}, halfDecades, 2, 1},
          {"L4", {"fmnist-mlp", "logistic"}, halfDecades, 6, 1, 8}};
}

LevelSpec defaultMetaValidation() {
  return {"meta", {"charlm-s"}, {3e-3, 0.03, 0.3, 3}, 1, 0};
}

LevelTrainer::LevelTrainer(LevelSpec spec, const std::string &device)
    : spec_(std::move(spec)) {
  for (const std::string &name : spec_.tasks) {
    train::TaskSpec task = train::suiteTask(name).spec;
    task.device = device;
    tasks_[name] = std::make_unique<train::Task>(task);
  }
}

LevelTrainer::~LevelTrainer() = default;

std::vector<LevelRun> LevelTrainer::train(const CompiledRule &rule) const {
  std::vector<LevelRun> out;
  for (uint64_t seed : spec_.seedList())
    for (const std::string &name : spec_.tasks)
      for (LevelRun &r : train(rule, name, seed))
        out.push_back(std::move(r));
  return out;
}

std::vector<LevelRun> LevelTrainer::train(const CompiledRule &rule,
                                          const std::string &name,
                                          uint64_t seed) const {
  std::vector<LevelRun> out;
  for (double lr : spec_.lrs)
    out.push_back(train(rule, name, seed, lr));
  return out;
}

LevelRun LevelTrainer::train(const CompiledRule &rule, const std::string &name,
                             uint64_t seed, double lr) const {
  const train::Task &task = *tasks_.at(name);
  train::TrainConfig config = train::suiteTask(name).config();
  config.compiled = rule, config.lr = lr, config.seed = seed;
  train::RunResult r = task.run(config);
  report::Metric metric = report::metricNamed(task.metric());
  return {name, lr, seed, r.status, metric.validation(r), r.seconds};
}

std::string LevelTrainer::fingerprint(const std::string &task) const {
  return tasks_.at(task)->fingerprint();
}

std::vector<TaskScore> scoreLevel(const LevelSpec &spec,
                                  const std::vector<LevelRun> &runs) {
  std::vector<TaskScore> out;
  for (const std::string &name : spec.tasks) {
    report::Metric metric =
        report::metricNamed(train::metricOf(train::suiteTask(name).spec));
    std::vector<report::LrValue> values;
    for (const LevelRun &r : runs)
      if (r.task == name)
        values.push_back({r.lr, r.metric});
    if (values.empty())
      continue;
    report::BestLr best = report::bestMeanLr(values, spec.lrs, metric);
    out.push_back({name, best.lr, best.mean, metric});
  }
  return out;
}

const TaskScore *scoreOf(const std::vector<TaskScore> &scores,
                         const std::string &task) {
  for (const TaskScore &s : scores)
    if (s.task == task)
      return &s;
  return nullptr;
}

std::map<std::string, double>
bestReference(const std::vector<std::vector<TaskScore>> &references) {
  std::map<std::string, double> best;
  for (const std::vector<TaskScore> &scores : references)
    for (const TaskScore &s : scores) {
      if (!std::isfinite(s.mean))
        continue;
      auto [it, fresh] = best.try_emplace(s.task, s.mean);
      if (s.metric.higherIsBetter ? s.mean > it->second : s.mean < it->second)
        it->second = s.mean;
    }
  return best;
}

double marginOverBest(const LevelSpec &spec,
                      const std::vector<TaskScore> &scores,
                      const std::map<std::string, double> &best) {
  double sum = 0;
  for (const std::string &task : spec.tasks) {
    const TaskScore *s = scoreOf(scores, task);
    auto b = best.find(task);
    double margin = -1;
    if (s && b != best.end() && std::isfinite(s->mean) && b->second != 0)
      margin = (s->metric.higherIsBetter ? s->mean - b->second
                                         : b->second - s->mean) /
               std::abs(b->second);
    sum += std::max(margin, -1.0);
  }
  return spec.tasks.empty() ? NAN : sum / double(spec.tasks.size());
}

} // namespace nos::search
