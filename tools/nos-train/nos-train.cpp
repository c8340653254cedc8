//===- nos-train.cpp - Train with compiled rules and compare them ---------===//
//
// Trains one rule, or compares several over a learning-rate grid and several
// seeds, on a child task (one of the suite's, --task); prints mean ± std of
// the best validation metric at each rule's best lr (and of the test split's,
// with --test), and writes CSV, JSON and an SVG of the curves.
// Every rule is parsed before any training, so a typo costs nothing.
//
//===----------------------------------------------------------------------===//
#include "nos/Builtins.h"
#include "nos/report/Runs.h"
#include "nos/train/Tasks.h"
#include "nos/train/Trainer.h"

#include <CLI/CLI.hpp>
#include <fmt/core.h>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <functional>
#include <memory>

#include <sys/stat.h>
#include <unistd.h>

using namespace nos;

namespace {
struct Options {
  std::string rule, compare, lrs, out = "nos-train-out", taskName;
  int seeds = 1;
  bool listTasks = false;
  train::TaskSpec task;
  train::TrainConfig config;
  /// Flags given on the command line, applied over --task's settings.
  std::vector<std::function<void(Options &)>> overrides;
};

int fail(const std::string &message) {
  fmt::print(stderr, "nos-train: error: {}\n", message);
  return 1;
}

std::vector<std::string> splitList(const std::string &text) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find(',', start);
    if (end == std::string::npos)
      end = text.size();
    if (end > start)
      out.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

/// The first bad rule's error, with the parser's position, or "".
std::string checkRules(const std::vector<std::string> &rules) {
  for (const std::string &rule : rules) {
    ParseResult parsed = parseRuleOrBuiltin(rule);
    if (!parsed)
      return fmt::format("rule '{}' is neither a built-in ({}) nor a valid "
                         "rule: {}",
                         rule, fmt::join(builtinNames(), ", "),
                         parsed.error.str());
  }
  return {};
}

bool parseLrs(const std::string &text, std::vector<double> &lrs,
              std::string &error) {
  for (const std::string &item : splitList(text)) {
    char *end = nullptr;
    double lr = std::strtod(item.c_str(), &end);
    if (*end != '\0' || !(lr > 0)) {
      error = "bad learning rate '" + item + "' in --lrs";
      return false;
    }
    lrs.push_back(lr);
  }
  return true;
}

void progress(size_t done, size_t total, const std::string &what) {
  if (!isatty(fileno(stderr)))
    return;
  const int width = 30;
  int filled = int(width * done / std::max<size_t>(total, 1));
  fmt::print(stderr, "\r[{}{}] {}/{} {:<40.40}", std::string(filled, '='),
             std::string(width - filled, ' '), done, total, what);
  if (done == total)
    fmt::print(stderr, "\n");
}

/// An option whose value, when given, overrides what --task set.
template <typename T>
CLI::Option *overriding(CLI::App &app, Options &o, const std::string &flag,
                        T &target, const std::string &help) {
  auto value = std::make_shared<T>(target);
  CLI::Option *opt = app.add_option(flag, *value, help);
  opt->each([&o, &target, value](const std::string &) {
    o.overrides.push_back([&target, value](Options &) { target = *value; });
  });
  return opt;
}

void addOptions(CLI::App &app, Options &o) {
  app.add_option("--rule", o.rule, "Train one rule (built-in name or rule)");
  app.add_option("--compare", o.compare,
                 "Compare rules: comma-separated names or rules");
  app.add_option("--task", o.taskName,
                 "A task of the suite (--list-tasks); the flags below change "
                 "its settings");
  app.add_flag("--list-tasks", o.listTasks, "List the task suite and exit");
  app.add_flag("--test", o.config.evaluateTest,
               "Also score each run's final model on the task's test split "
               "(reported beside validation; never used to choose the lr)");
  app.add_option("--lr", o.config.lr, "Learning rate for --rule");
  app.add_option("--lrs", o.lrs, "Learning-rate grid, e.g. 1e-3,1e-2,0.1,1");
  app.add_option("--seeds", o.seeds, "Seeds per (rule, lr)")
      ->check(CLI::Range(1, 1000));
  overriding(app, o, "--epochs", o.config.epochs, "Epochs per run")
      ->check(CLI::Range(int64_t(1), int64_t(10000)));
  overriding(app, o, "--batch-size", o.config.batchSize, "Mini-batch size")
      ->check(CLI::Range(int64_t(1), int64_t(1) << 20));
  overriding(app, o, "--dataset", o.task.dataset,
             "fashion-mnist, cifar10, logistic or fortunes");
  overriding(app, o, "--data-dir", o.task.dataDir,
             "Folder of the dataset files");
  overriding(app, o, "--model", o.task.model, "mlp, convnet or lstm");
  overriding(app, o, "--train-size", o.task.trainSize,
             "Training examples (0: all)");
  overriding(app, o, "--validation-size", o.task.validationSize,
             "Held-out validation examples");
  overriding(app, o, "--device", o.task.device,
             "cpu, cuda or cuda:N: where the data, the model and the update "
             "kernel live (default cpu)");
  app.add_option("--out", o.out, "Folder for results.csv/json, curves.svg");
}

void listTasks() {
  for (const train::SuiteTask &t : train::taskSuite())
    fmt::print("{:<16} {}{}\n", t.name, t.summary,
               t.package.empty() ? "" : " [" + t.package + "]");
}

/// --task's settings, then the flags given over them.
std::string applyTask(Options &o) {
  if (!o.taskName.empty()) {
    try {
      const train::SuiteTask &t = train::suiteTask(o.taskName);
      o.task = t.spec;
      o.config = t.config(o.config);
    } catch (const std::exception &e) {
      return e.what();
    }
  }
  for (auto &apply : o.overrides)
    apply(o);
  return {};
}

int run(Options &o) {
  if (o.listTasks) {
    listTasks();
    return 0;
  }
  if (std::string error = applyTask(o); !error.empty())
    return fail(error);
  if (o.rule.empty() == o.compare.empty())
    return fail("give exactly one of --rule RULE or --compare A,B,...");
  std::vector<std::string> rules =
      o.rule.empty() ? splitList(o.compare) : std::vector{o.rule};
  if (std::string error = checkRules(rules); !error.empty())
    return fail(error);
  std::vector<double> lrs;
  std::string error;
  if (!o.lrs.empty() && !parseLrs(o.lrs, lrs, error))
    return fail(error);
  if (lrs.empty()) {
    if (!(o.config.lr > 0) || !std::isfinite(o.config.lr))
      return fail(
          fmt::format("--lr {} is not a positive learning rate", o.config.lr));
    lrs.push_back(o.config.lr);
  }

  try {
    o.task.device = train::resolveDevice(o.task.device);
  } catch (const std::exception &e) {
    return fail(e.what());
  }
  if (mkdir(o.out.c_str(), 0755) != 0 && errno != EEXIST)
    return fail("cannot create the output folder '" + o.out + "'");
  std::unique_ptr<train::Task> task;
  try {
    task = std::make_unique<train::Task>(o.task);
  } catch (const std::exception &e) {
    return fail(e.what());
  }
  fmt::print("task: {}\n", task->describe());
  std::vector<report::Run> runs;
  size_t total = rules.size() * lrs.size() * size_t(o.seeds);
  for (const std::string &rule : rules)
    for (double lr : lrs)
      for (int seed = 0; seed < o.seeds; ++seed) {
        progress(runs.size(), total,
                 fmt::format("{} lr={:g} seed={}", rule, lr, seed));
        train::TrainConfig config = o.config;
        config.rule = rule, config.lr = lr, config.seed = uint64_t(seed);
        try {
          runs.push_back({rule, lr, uint64_t(seed), task->run(config)});
        } catch (const std::exception &e) {
          return fail(fmt::format("rule '{}': {}", rule, e.what()));
        }
      }
  progress(total, total, "done");
  report::Metric metric = report::metricNamed(task->metric());
  std::vector<report::Summary> summaries = report::summarize(runs, metric);
  fmt::print("{}", report::formatTable(summaries, metric));
  std::string title = fmt::format("{}, {} epoch(s), {} seed(s)",
                                  task->describe(), o.config.epochs, o.seeds);
  if (!report::writeCsv(o.out + "/results.csv", runs, &error) ||
      !report::writeJson(o.out + "/results.json", runs, summaries,
                         task->describe(), &error, metric) ||
      !report::writeSvg(o.out + "/curves.svg", runs, summaries, title, &error))
    return fail(error);
  fmt::print("wrote {0}/results.csv, {0}/results.json, {0}/curves.svg\n",
             o.out);
  return 0;
}
} // namespace

int main(int argc, char **argv) {
  CLI::App app{"nos-train: train and compare optimizer update rules"};
  Options options;
  addOptions(app, options);
  CLI11_PARSE(app, argc, argv);
  return run(options);
}
