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
#include "nos/studies/Final.h"
#include "nos/studies/LevelFidelity.h"
#include "nos/studies/MetaValidation.h"

#include "nos/search/Search.h"
#include "nos/search/Workers.h"
#include "nos/studies/SearchReport.h"
#include "nos/train/Tasks.h"

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <fmt/ranges.h>

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
  app.add_option("--level-cache", o.levelCache,
                 "Level trainings kept across runs: a SQLite file, or 'off' "
                 "(default: levels.db in $NOS_CACHE_DIR or ~/.cache/nos)");
}

std::vector<std::string> presetNames() {
  std::vector<std::string> names;
  for (const auto &[name, spec] : nos::train::proxyPresets())
    names.push_back(name);
  return names;
}

/// The suite's task names, for the flags that take one.
std::vector<std::string> suiteNames() {
  std::vector<std::string> names;
  for (const nos::train::SuiteTask &t : nos::train::taskSuite())
    names.push_back(t.name);
  return names;
}

/// The table's check as a CLI11 validator, so flags and stored settings are
/// refused with the same words.
CLI::Validator validatorOf(const SettingCheck &check) {
  return CLI::Validator(
      [check](std::string &value) -> std::string {
        if (check.kind == SettingCheck::OneOf ||
            check.kind == SettingCheck::Device)
          return check.why(value);
        char *end = nullptr;
        double x = std::strtod(value.c_str(), &end);
        if (end == value.c_str() || *end != '\0')
          return "'" + value + "' is not a number";
        return check.why(x);
      },
      check.describe());
}

/// The flags of the settings table, bound to `given`; `parsed` later copies
/// the ones on the command line into the run's settings.
class SettingFlags {
public:
  void add(CLI::App &app) {
    for (const Setting &setting : settingsTable()) {
      if (setting.flag.empty())
        continue;
      Setting::Ref member = setting.member(given_);
      CLI::Option *option = std::visit(
          [&](auto *p) -> CLI::Option * {
            using T = std::remove_pointer_t<decltype(p)>;
            if constexpr (std::is_same_v<T, bool>)
              return app.add_flag(setting.flag, *p, setting.help);
            else
              return app.add_option(setting.flag, *p, setting.help);
          },
          member);
      if (setting.check.kind != SettingCheck::None)
        option->check(validatorOf(setting.check));
      if (std::holds_alternative<std::vector<double> *>(member) ||
          std::holds_alternative<std::vector<std::string> *>(member))
        option->delimiter(',');
      options_.push_back({&setting, option});
    }
    recipe_ = app.add_option("--recipe", recipeName_,
                             "A named search (" + recipeSummaries() +
                                 "); the other flags change it")
                  ->check(CLI::IsMember(recipeNames()));
    proxy_ = app.add_option(
        "--proxy", preset_,
        "A named proxy (" + fmt::format("{}", fmt::join(presetNames(), ", ")) +
            "); the other proxy flags change its settings");
    childTask_ = app.add_option("--child-task", childTaskName_,
                                "A task of the suite (nos-train --list-tasks) "
                                "as the proxy's task, with its epochs and "
                                "batch size; the other flags change them")
                     ->check(CLI::IsMember(suiteNames()));
    // add_flag(name, "text") is ambiguous to CLI11 2.3 under C++20.
    noHalving_ = app.add_flag("--no-halving")
                     ->description("Train every candidate over the whole lr "
                                   "grid to the end (--rungs 1)");
  }

  /// Defaults, then the --recipe, then the --proxy preset, then
  /// --child-task, then every flag given.
  SearchSettings parsed() {
    SearchSettings s;
    if (recipe_->count())
      applyRecipe(recipeName_, s);
    if (proxy_->count())
      s.proxy = nos::train::proxyPreset(preset_);
    if (childTask_->count()) {
      const nos::train::SuiteTask &t = nos::train::suiteTask(childTaskName_);
      s.proxy.task = t.spec;
      s.proxy.epochs = t.epochs, s.proxy.batchSize = t.batchSize;
    }
    for (auto [setting, option] : options_)
      if (option->count())
        std::visit(
            [&](auto *from) {
              *std::get<decltype(from)>(setting->member(s)) = *from;
            },
            setting->member(given_));
    if (noHalving_->count())
      s.proxy.rungs = 1;
    return s;
  }

private:
  SearchSettings given_;
  std::string preset_ = defaultProxyName(), childTaskName_, recipeName_;
  std::vector<std::pair<const Setting *, CLI::Option *>> options_;
  CLI::Option *proxy_ = nullptr, *noHalving_ = nullptr, *childTask_ = nullptr,
              *recipe_ = nullptr;
};
} // namespace

/// --device for a study: where its children train, checked as the flags
/// are read, so that a missing GPU stops the study before its folder exists.
void addDeviceOption(CLI::App &cmd, std::string &device) {
  cmd.add_option("--device", device,
                 "cpu, cuda or cuda:N: where the children train")
      ->check(CLI::Validator(
          [](std::string &name) -> std::string {
            try {
              nos::train::resolveDevice(name);
            } catch (const std::exception &e) {
              return e.what();
            }
            return {};
          },
          "DEVICE"));
}

/// nos-search metaval's flags (studies/MetaValidation.h).
void addMetaValidationOptions(CLI::App &cmd, MetaValidationOptions &o) {
  cmd.add_option("DIR", o.dir, "Output folder (continued if present)")
      ->required();
  cmd.add_option("--run", o.run, "The search run folder")->required();
  cmd.add_option("--task", o.task, "The held-out suite task")
      ->check(CLI::IsMember(suiteNames()));
  cmd.add_option("--lrs", o.lrs, "The lr grid, comma-separated")
      ->delimiter(',')
      ->check(CLI::PositiveNumber);
  cmd.add_option("--seeds", o.seeds, "Child seeds per (rule, lr)")
      ->check(CLI::Range(1, 100));
  cmd.add_option("--points", o.points, "Successive bests to score at most")
      ->check(CLI::Range(2, 1000));
  cmd.add_option("--workers", o.workers, "Worker threads (0: cores)")
      ->check(CLI::NonNegativeNumber);
  addDeviceOption(cmd, o.device);
}

/// The funnel's level names and "best", which a run's top rules may be
/// taken by (studies::levelLeaders).
std::vector<std::string> levelChoices() {
  std::vector<std::string> out;
  for (const LevelSpec &l : defaultLevels())
    out.push_back(l.name);
  out.push_back("best");
  return out;
}

const std::string levelHelp =
    "Take each run's top rules by their margin at this funnel level instead "
    "of by proxy reward; best: the highest level with a joined result, else "
    "by proxy reward, whose first is the rule the run chooses";

/// nos-search final's flags (studies/Final.h has the protocol).
void addFinalOptions(CLI::App &fin, FinalOptions &o) {
  fin.add_option("DIR", o.dir, "Output folder (continued if present)")
      ->required();
  fin.add_option("--runs", o.runs, "Run folders to take rules from");
  fin.add_option("--top", o.top, "Distinct rules from each run")
      ->check(CLI::Range(0, 1000));
  fin.add_option("--level", o.level, levelHelp)
      ->check(CLI::IsMember(levelChoices()));
  fin.add_option("--rule", o.rules, "More rules (repeatable)");
  fin.add_option("--tasks", o.tasks, "Suite tasks (nos-train --list-tasks)")
      ->delimiter(',')
      ->check(CLI::IsMember(suiteNames()));
  fin.add_option("--lrs", o.lrs, "The lr grid, comma-separated")
      ->delimiter(',')
      ->check(CLI::PositiveNumber);
  fin.add_option("--lr-extend", o.lrExtend,
                 "Lrs tried past each end of the grid while a rule's best "
                 "lies at that end (each the end times its ratio to its "
                 "neighbour; 0: the grid only)")
      ->check(CLI::Range(0, 20));
  fin.add_option("--tune-seeds", o.tuneSeeds,
                 "Seeds that choose each rule's lr on validation")
      ->check(CLI::Range(1, 100));
  fin.add_option("--seeds", o.seeds, "Fresh seeds scored on the test split")
      ->check(CLI::Range(2, 100));
  fin.add_option("--first-seed", o.firstSeed,
                 "The first tuning seed; the test seeds follow them");
  fin.add_option("--workers", o.workers, "Worker threads (0: cores)")
      ->check(CLI::NonNegativeNumber);
  addDeviceOption(fin, o.device);
}

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
  SettingFlags settingFlags;
  Budget budget;
  RunOptions options;
  CLI::App *run = app.add_subcommand("run", "Start a search in a new folder");
  run->add_option("DIR", dir, "Run folder (created)")->required();
  settingFlags.add(*run);
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
  addDeviceOption(*fid, fidelity.device);
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
  addDeviceOption(*cmp, compare.device);
  FinalOptions final;
  CLI::App *fin = app.add_subcommand(
      "final", "Top rules of runs and the references on held-out tasks' test "
               "splits, lr chosen on validation");
  addFinalOptions(*fin, final);
  LevelFidelityOptions levelFidelity;
  CLI::App *lev = app.add_subcommand(
      "levels", "How well the proxy and each funnel level order a final "
                "table's rules");
  lev->add_option("DIR", levelFidelity.dir,
                  "Output folder (continued if present)")
      ->required();
  lev->add_option("--runs", levelFidelity.runs,
                  "The run folders given to nos-search final (the first "
                  "one's levels are trained)")
      ->required();
  lev->add_option("--top", levelFidelity.top, "As given to nos-search final")
      ->check(CLI::Range(0, 1000));
  lev->add_option("--rules-from", levelFidelity.rulesFrom,
                  "As nos-search final's --level: " + levelHelp)
      ->check(CLI::IsMember(levelChoices()));
  lev->add_option("--final", levelFidelity.final,
                  "The folder of nos-search final's table")
      ->required();
  lev->add_option("--level", levelFidelity.extraLevels,
                  "Another level to measure, NAME=TASK[+TASK...]:SEEDS on "
                  "the run's L2 lrs, seeds from 0 or from FIRST given as "
                  ":SEEDS@FIRST (repeatable)");
  lev->add_option("--workers", levelFidelity.workers,
                  "Worker threads (0: cores)")
      ->check(CLI::NonNegativeNumber);
  addDeviceOption(*lev, levelFidelity.device);
  MetaValidationOptions metaval;
  CLI::App *meta = app.add_subcommand(
      "metaval", "Search fitness over a run's time against a held-out task");
  addMetaValidationOptions(*meta, metaval);
  CLI11_PARSE(app, argc, argv);
  if (*fid)
    return runFidelity(fidelity);
  if (*cmp)
    return runCompare(compare);
  if (*fin)
    return runFinal(final);
  if (*meta)
    return runMetaValidation(metaval);
  if (*lev)
    return runLevelFidelity(levelFidelity);
  if (*run) {
    if (budget.candidates <= 0 && budget.minutes <= 0) {
      fmt::print(stderr, "nos-search: error: give a budget: --minutes M or "
                         "--candidates N\n");
      return 1;
    }
    SearchSettings settings;
    try {
      settings = settingFlags.parsed();
    } catch (const std::exception &e) {
      fmt::print(stderr, "nos-search: error: --proxy: {}\n", e.what());
      return 1;
    }
    return startSearch(dir, settings, budget, options);
  }
  if (*resume)
    return resumeSearch(dir, budget, options);
  return report(dirs, reportOptions);
}
