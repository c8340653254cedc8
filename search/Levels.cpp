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

namespace nos::search {

std::vector<LevelSpec> defaultLevels() {
  const std::vector<double> halfDecades = {1e-3, 3e-3, 0.01, 0.03, 0.1, 0.3, 1};
  return {{"L2", {"fmnist-mlp-s"}, halfDecades, 2},
          {"L3", {"fmnist-mlp", "logistic"}, halfDecades, 3}};
}

LevelTrainer::LevelTrainer(LevelSpec spec) : spec_(std::move(spec)) {
  for (const std::string &name : spec_.tasks)
    tasks_[name] = std::make_unique<train::Task>(train::suiteTask(name).spec);
}

LevelTrainer::~LevelTrainer() = default;

std::vector<LevelRun> LevelTrainer::train(const CompiledRule &rule) const {
  std::vector<LevelRun> out;
  for (int seed = 0; seed < spec_.seeds; ++seed)
    for (const std::string &name : spec_.tasks)
      for (double lr : spec_.lrs) {
        const train::Task &task = *tasks_.at(name);
        train::TrainConfig config = train::suiteTask(name).config();
        config.compiled = rule, config.lr = lr, config.seed = uint64_t(seed);
        train::RunResult r = task.run(config);
        report::Metric metric = report::metricNamed(task.metric());
        out.push_back({name, lr, uint64_t(seed), r.status, metric.validation(r),
                       r.seconds});
      }
  return out;
}

std::vector<TaskScore>
LevelTrainer::score(const std::vector<LevelRun> &runs) const {
  std::vector<TaskScore> out;
  for (const std::string &name : spec_.tasks) {
    report::Metric metric = report::metricNamed(tasks_.at(name)->metric());
    std::vector<report::LrValue> values;
    for (const LevelRun &r : runs)
      if (r.task == name)
        values.push_back({r.lr, r.metric});
    if (values.empty())
      continue;
    report::BestLr best = report::bestMeanLr(values, spec_.lrs, metric);
    out.push_back({name, best.lr, best.mean, metric});
  }
  return out;
}

} // namespace nos::search
