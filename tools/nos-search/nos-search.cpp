//===- nos-search.cpp - Search for update rules with compiled candidates --===//
//
//   nos-search run DIR [--strategy S] [--minutes M | --candidates N] ...
//   nos-search resume DIR [--minutes M | --candidates N]
//   nos-search report DIR... [-o FILE.svg] [--top K]
//   nos-search fidelity DIR [--proxies A,B] [--seeds S] [--rules N]
//
// Every setting of a run is a flag of `run` and is stored in DIR/search.db;
// `resume` takes only a budget, so a resumed run is the same run.
//
//===----------------------------------------------------------------------===//
#include "nos/studies/Compare.h"
#include "nos/studies/Fidelity.h"

#include "nos/search/Search.h"
#include "nos/search/Workers.h"
#include "nos/studies/SearchReport.h"

#include <CLI/CLI.hpp>
#include <fmt/core.h>

using namespace nos::search;
using namespace nos::studies;

namespace {
/// CLI11's PositiveNumber prints the largest double in its message.
std::string positive(const std::string &value) {
  char *end = nullptr;
  double x = std::strtod(value.c_str(), &end);
  return end != value.c_str() && *end == '\0' && x > 0
             ? ""
             : "'" + value + "' is not a positive number";
}

void addBudget(CLI::App &app, Budget &b) {
  auto *m = app.add_option("--minutes", b.minutes, "Wall-time budget")
                ->check(positive, "POSITIVE");
  auto *n = app.add_option("--candidates", b.candidates,
                           "Candidate budget (proposed rules, all statuses)")
                ->check(positive, "POSITIVE");
  m->excludes(n);
}

void addRunOptions(CLI::App &app, RunOptions &o) {
  app.add_option("--workers", o.workers,
                 "Worker threads evaluating candidates (0: one per core)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--torch-threads", o.torchThreads,
                 "Torch threads per worker (0: cores / workers)")
      ->check(CLI::NonNegativeNumber);
  app.add_flag("--quiet", o.quiet, "No per-candidate output");
}

/// `--proxy NAME` picks the preset that the other proxy flags then change,
/// so it is read before CLI11 assigns them.
bool applyProxyPreset(int argc, char **argv, SearchSettings &s) {
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i], name;
    if (arg == "--proxy" && i + 1 < argc)
      name = argv[i + 1];
    else if (arg.rfind("--proxy=", 0) == 0)
      name = arg.substr(8);
    else
      continue;
    try {
      s.proxy = nos::train::proxyPreset(name);
    } catch (const std::exception &e) {
      fmt::print(stderr, "nos-search: error: --proxy: {}\n", e.what());
      return false;
    }
  }
  return true;
}

std::vector<std::string> presetNames() {
  std::vector<std::string> names;
  for (const auto &[name, spec] : nos::train::proxyPresets())
    names.push_back(name);
  return names;
}

void addSettings(CLI::App &app, SearchSettings &s) {
  StrategyOptions &o = s.strategy;
  app.add_option("--strategy", o.name, "ppo, reinforce, random or evolution")
      ->check(CLI::IsMember(strategyNames()));
  app.add_option("--seed", o.seed, "Seed of the strategy");
  app.add_option("--units", s.units, "Units of 5 tokens per rule")
      ->check(CLI::Range(Space::kMinUnits, Space::kMaxUnits));
  app.add_option("--batch", s.batchSize, "Candidates per controller update")
      ->check(CLI::Range(1, 4096));
  app.add_flag("!--no-references", s.references,
               "Do not score the six reference rules first");
  app.add_option("--controller-hidden", o.hidden, "LSTM units")
      ->check(CLI::PositiveNumber);
  app.add_option("--controller-layers", o.layers, "LSTM layers")
      ->check(CLI::Range(1, 8));
  app.add_option("--controller-embedding", o.embedding, "Token embedding size")
      ->check(CLI::PositiveNumber);
  app.add_option("--controller-init", o.initScale,
                 "Initial weights uniform in +-this");
  app.add_option("--controller-lr", o.learningRate, "Adam lr of the controller")
      ->check(CLI::PositiveNumber);
  app.add_option("--entropy-weight", o.entropyWeight, "Entropy bonus");
  app.add_option("--baseline-decay", o.baselineDecay,
                 "EMA decay of the reward baseline")
      ->check(CLI::Range(0.0, 0.9999));
  app.add_flag("--normalize-advantages", o.normalizeAdvantages,
               "Divide reward - baseline by the batch's standard deviation");
  app.add_option("--ppo-clip", o.clip, "PPO ratio clip")
      ->check(CLI::PositiveNumber);
  app.add_option("--ppo-epochs", o.ppoEpochs, "PPO epochs per batch")
      ->check(CLI::Range(1, 100));
  app.add_option("--population", o.population, "Evolution population")
      ->check(CLI::Range(2, 100000));
  app.add_option("--tournament", o.tournament, "Evolution tournament size")
      ->check(CLI::Range(1, 100000));
  app.add_option("--unit-mutation", o.unitMutation,
                 "Share of mutations that redraw a whole unit")
      ->check(CLI::Range(0.0, 1.0));
  ProxySpec &p = s.proxy;
  static std::string preset =
      nos::train::defaultProxyName(); // read by applyProxyPreset
  app.add_option("--proxy", preset,
                 "A named proxy; the other proxy flags change its settings")
      ->check(CLI::IsMember(presetNames()));
  app.add_option("--task", p.kind, "train (child training) or toy")
      ->check(CLI::IsMember({"train", "toy"}));
  app.add_option("--dataset", p.task.dataset,
                 "fashion-mnist, cifar10 or logistic")
      ->check(CLI::IsMember({"fashion-mnist", "cifar10", "logistic"}));
  app.add_option("--data-dir", p.task.dataDir, "Folder of the dataset files");
  app.add_option("--model", p.task.model, "mlp or convnet")
      ->check(CLI::IsMember({"mlp", "convnet"}));
  app.add_option("--train-size", p.task.trainSize,
                 "Training examples of the proxy (0: all)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--validation-size", p.task.validationSize,
                 "Validation examples of the proxy")
      ->check(CLI::PositiveNumber);
  app.add_option("--lrs", p.lrs, "The proxy's lr grid, comma-separated")
      ->delimiter(',')
      ->check(positive, "POSITIVE");
  app.add_option("--pool", p.task.pool,
                 "Average-pool images over N x N pixels (1: full size)")
      ->check(CLI::Range(int64_t(1), int64_t(16)));
  app.add_option("--rungs", p.rungs,
                 "Successive halving rungs (1: every lr trains to the end)")
      ->check(CLI::Range(int64_t(1), int64_t(8)));
  app.add_option("--eta", p.eta, "Successive halving's reduction factor")
      ->check(CLI::Range(1.01, 100.0));
  app.add_flag_callback(
      "--no-halving", [&p] { p.rungs = 1; },
      "Train every candidate over the whole lr grid to the end (--rungs 1)");
  app.add_option("--epochs", p.epochs, "Child training epochs")
      ->check(CLI::Range(int64_t(1), int64_t(1000)));
  app.add_option("--child-batch", p.batchSize, "Child training batch size")
      ->check(CLI::Range(int64_t(1), int64_t(1) << 20));
  app.add_option("--child-seed", p.seed, "Seed of every child run");
  app.add_flag("!--no-hurdle", p.hurdle, "Skip the quadratic hurdle");
  app.add_option("--hurdle-steps", p.hurdleSpec.steps, "Steps of the hurdle")
      ->check(CLI::Range(int64_t(1), int64_t(100000)));
  app.add_option("--toy-target", p.toyTarget, "Target rule of --task toy");
}
} // namespace

int main(int argc, char **argv) {
  // Under mpirun, rank 0 is nos-search as usual (its pool is the other
  // ranks) and every other rank serves it until told to stop.
  std::unique_ptr<MpiSession> mpi;
  if (launchedByMpi()) {
    try {
      mpi = std::make_unique<MpiSession>(argc, argv);
    } catch (const std::exception &e) {
      fmt::print(stderr, "nos-search: error: {}\n", e.what());
      return 1;
    }
    setMpiSession(mpi.get());
    if (mpi->rank() > 0)
      return mpi->serve();
  }
  CLI::App app{"nos-search: search for optimizer update rules"};
  app.require_subcommand(1);
  app.option_defaults()->always_capture_default();
  std::string dir;
  SearchSettings settings;
  if (!applyProxyPreset(argc, argv, settings))
    return 1;
  Budget budget;
  RunOptions options;
  CLI::App *run = app.add_subcommand("run", "Start a search in a new folder");
  run->add_option("DIR", dir, "Run folder (created)")->required();
  addSettings(*run, settings);
  addBudget(*run, budget);
  addRunOptions(*run, options);
  CLI::App *resume = app.add_subcommand("resume", "Continue a stored search");
  resume->add_option("DIR", dir, "Run folder")->required();
  addBudget(*resume, budget);
  addRunOptions(*resume, options);
  std::vector<std::string> dirs;
  ReportOptions reportOptions;
  CLI::App *rep = app.add_subcommand("report", "Tables and plots of runs");
  rep->add_option("DIR", dirs, "Run folders")->required();
  rep->add_option("-o,--output", reportOptions.svgPath,
                  "SVG path (default DIR/report.svg)");
  rep->add_option("--top", reportOptions.top, "Rows of the top table")
      ->check(CLI::Range(1, 10000));
  FidelityOptions fidelity;
  // Every preset but the transfer task, which is no proxy.
  for (const std::string &name : presetNames())
    if (name != "convnet")
      fidelity.proxies.push_back(name);

  CLI::App *fid = app.add_subcommand(
      "fidelity", "Rank rules on proxies and on the full task (Spearman)");
  fid->add_option("DIR", fidelity.dir, "Study folder (continued if present)")
      ->required();
  fid->add_option("--proxies", fidelity.proxies, "Proxies to compare")
      ->delimiter(',')
      ->check(CLI::IsMember(presetNames()));
  fid->add_option("--seeds", fidelity.seeds, "Child seeds per rule")
      ->check(CLI::Range(1, 100));
  fid->add_option("--rules", fidelity.sampledRules,
                  "Sampled rules besides the six references")
      ->check(CLI::Range(0, 10000));
  fid->add_option("--sample-seed", fidelity.sampleSeed,
                  "Seed of the rule sample");
  fid->add_option("--workers", fidelity.workers, "Worker threads (0: cores)")
      ->check(CLI::NonNegativeNumber);
  CompareOptions compare;
  CLI::App *cmp = app.add_subcommand(
      "compare", "Top rules of runs and the references over fresh seeds");
  cmp->add_option("DIR", compare.dir, "Output folder (continued if present)")
      ->required();
  cmp->add_option("--runs", compare.runs, "Run folders to take rules from");
  cmp->add_option("--top", compare.top, "Distinct rules from each run")
      ->check(CLI::Range(0, 1000));
  cmp->add_option("--rule", compare.rules, "More rules (repeatable)");
  cmp->add_option("--proxies", compare.proxies, "Tasks to train on")
      ->delimiter(',')
      ->check(CLI::IsMember(presetNames()));
  cmp->add_option("--seeds", compare.seeds, "Fresh seeds per rule")
      ->check(CLI::Range(1, 100));
  cmp->add_option("--first-seed", compare.firstSeed, "The first of them");
  cmp->add_option("--workers", compare.workers, "Worker threads (0: cores)")
      ->check(CLI::NonNegativeNumber);
  CLI11_PARSE(app, argc, argv);
  if (*fid)
    return runFidelity(fidelity);
  if (*cmp)
    return runCompare(compare);
  if (*run) {
    if (budget.candidates <= 0 && budget.minutes <= 0) {
      fmt::print(stderr, "nos-search: error: give a budget: --minutes M or "
                         "--candidates N\n");
      return 1;
    }
    return startSearch(dir, settings, budget, options);
  }
  if (*resume)
    return resumeSearch(dir, budget, options);
  return report(dirs, reportOptions);
}
