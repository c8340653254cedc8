//===- SearchBench.cpp - Distinct rules settled per hour ------------------===//
//
// Both pipelines see the same proposals in the same order and run on the
// same workers (one torch thread each), one after the other in one
// process. "Settled" means given a reward; a candidate counts as distinct
// by its probe fingerprint, which is what the search dedups on, so the
// plain pipeline's repeated rules earn it nothing either.
//
//===----------------------------------------------------------------------===//
#include "SearchBench.h"
#include "TrainBench.h"

#include "nos/Compiler.h"
#include "nos/Statistics.h"
#include "nos/Tokens.h"
#include "nos/search/Efficiency.h"
#include "nos/search/Search.h"
#include "nos/search/Store.h"
#include "nos/studies/Fidelity.h"

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <map>

#include <fstream>
#include <mutex>
#include <set>
#include <stdexcept>
#include <sys/resource.h>
#include <thread>
#include <unistd.h>

namespace nos::bench {

namespace {
using namespace nos::search;
using namespace nos::studies;
using Clock = std::chrono::steady_clock;

struct Throughput {
  int64_t settled = 0, distinct = 0;
  double seconds = 0;
  std::map<std::string, int64_t> statuses;
  Efficiency efficiency; // of nos-search runs only
  double perHour() const { return double(distinct) * 3600 / seconds; }
};

int workerCount(int workers) {
  return workers > 0 ? workers
                     : int(std::max(1u, std::thread::hardware_concurrency()));
}

Throughput runPlain(const SearchBenchOptions &o) {
  ProxySpec spec = train::proxyPreset(o.plainProxy);
  spec.hurdle = false;
  Pipeline pipeline(spec);
  Space space(2);
  StrategyOptions so;
  so.name = "random", so.seed = o.seed;
  std::unique_ptr<Strategy> stream = makeStrategy(so, space);
  std::mutex lock;
  std::set<std::string> fingerprints;
  Throughput t;
  auto start = Clock::now();
  auto deadline = start + std::chrono::duration<double>(60 * o.minutes);
  auto worker = [&] {
    train::setTorchThreads(1);
    for (;;) {
      Candidate c;
      {
        std::lock_guard<std::mutex> guard(lock);
        if (Clock::now() >= deadline)
          return;
        c.tokens = space.tokens(stream->propose(1)[0]);
        pipeline.canonicalize(c);
        if (!c.settled())
          pipeline.probe(c); // for counting only: nothing is skipped
      }
      if (c.status != status::Failed) {
        c.status.clear(), c.detail.clear();
        pipeline.evaluate(c);
      }
      std::lock_guard<std::mutex> guard(lock);
      ++t.settled;
      if (!c.fingerprint.empty())
        fingerprints.insert(c.fingerprint);
    }
  };
  std::vector<std::thread> threads;
  for (int k = 0; k < workerCount(o.workers); ++k)
    threads.emplace_back(worker);
  for (std::thread &th : threads)
    th.join();
  t.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  t.distinct = int64_t(fingerprints.size());
  return t;
}

/// A nos-search run of `strategy` with the default settings otherwise.
Throughput runFull(const SearchBenchOptions &o, const std::string &dir,
                   const std::string &strategy) {
  SearchSettings settings;
  settings.strategy.name = strategy, settings.strategy.seed = o.seed;
  RunOptions run;
  run.workers = workerCount(o.workers), run.torchThreads = 1, run.quiet = true;
  Budget budget;
  budget.minutes = o.minutes;
  // The search's own summary lines go to stderr: stdout is the JSON.
  std::fflush(stdout);
  int saved = ::dup(1);
  ::dup2(2, 1);
  int code = startSearch(dir, settings, budget, run);
  std::fflush(stdout);
  ::dup2(saved, 1);
  ::close(saved);
  if (code != 0)
    throw std::runtime_error("the search in " + dir + " failed");
  std::unique_ptr<Store> store = Store::open(dir, /*readOnly=*/true);
  std::set<std::string> fingerprints;
  Throughput t;
  for (const Candidate &c : store->all())
    if (c.batch >= 0) {
      ++t.settled;
      ++t.statuses[c.status];
      if (!c.fingerprint.empty())
        fingerprints.insert(c.fingerprint);
    }
  t.distinct = int64_t(fingerprints.size());
  t.seconds = store->progress().elapsedSeconds;
  t.efficiency =
      efficiency(store->all(), run.workers, t.seconds, store->levelSeconds());
  return t;
}

nlohmann::json proxySpearman(const std::string &path) {
  std::ifstream in(path);
  if (!in)
    return nullptr;
  nlohmann::json report = nlohmann::json::parse(in);
  return report.at("proxies").at(defaultProxyName()).at("spearman_single_seed");
}
} // namespace

void runSearchBench(const SearchBenchOptions &o) {
  // Per core, as the search runs its children (one torch thread each), and
  // on every core, as a single training would.
  StepFigures step, stepAll;
  std::string error;
  if (!benchProxyStep(1, 15, step, &error) ||
      !benchProxyStep(0, 15, stepAll, &error))
    throw std::runtime_error(error);
  std::string dir = (std::filesystem::temp_directory_path() /
                     fmt::format("nos-bench-search-{}", ::getpid()))
                        .string();
  std::filesystem::remove_all(dir);
  Throughput plain = runPlain(o);
  Throughput full = runFull(o, dir, "random");
  std::filesystem::remove_all(dir);
  // Where users run it: the default strategy (the paper's PPO controller)
  // and settings, whose batches wait on the controller.
  Throughput byDefault = runFull(o, dir, StrategyOptions{}.name);
  std::filesystem::remove_all(dir);
  const Efficiency &e = byDefault.efficiency;
  nlohmann::json spearman = proxySpearman(o.fidelity);
  if (spearman.is_null())
    fmt::print(stderr,
               "nos-bench: no fidelity study at {}; run nos-search "
               "fidelity first (proxy_spearman is null)\n",
               o.fidelity);
  struct rusage usage {};
  getrusage(RUSAGE_SELF, &usage);
  nlohmann::json j = {
      {"bench", "search"},
      {"minutes_each", o.minutes},
      {"seed", o.seed},
      {"workers", workerCount(o.workers)},
      {"plain_proxy", o.plainProxy},
      {"proxy", defaultProxyName()},
      {"settled_plain", plain.settled},
      {"distinct_plain", plain.distinct},
      {"settled", full.settled},
      {"distinct", full.distinct},
      {"candidates_per_hour_plain", plain.perHour()},
      {"candidates_per_hour", full.perHour()},
      {"settled_ratio", full.perHour() / plain.perHour()},
      {"step_ms", step.stepMs},
      {"step_gflops", step.stepGflops},
      {"mm_gflops", step.mmGflops},
      {"mm_efficiency", step.stepGflops / step.mmGflops},
      {"step_gflops_all_cores", stepAll.stepGflops},
      {"mm_gflops_all_cores", stepAll.mmGflops},
      {"mm_efficiency_all_cores", stepAll.stepGflops / stepAll.mmGflops},

      {"default_strategy", StrategyOptions{}.name},
      {"busy_share", e.busyShare},
      {"train_share", e.trainShare},
      {"trained_per_hour", e.trainedPerHour},
      {"compile_ms_p50", e.compileMsP50},
      {"hurdle_ms_p50", e.hurdleMsP50},
      {"train_ms_p50", e.trainMsP50},
      {"random_busy_share", full.efficiency.busyShare},
      {"random_train_share", full.efficiency.trainShare},
      {"proxy_spearman", spearman},
      {"statuses", full.statuses},
      {"peak_rss_mb", double(usage.ru_maxrss) / 1024}};
  fmt::print("{}\n", j.dump());
}

void runHurdleBench(const HurdleBenchOptions &o) {
  train::setTorchThreads(1); // as a search worker runs it
  Space space(2);
  StrategyOptions so;
  so.name = "random", so.seed = o.seed;
  std::unique_ptr<Strategy> stream = makeStrategy(so, space);
  train::HurdleSpec spec; // the search's default
  std::set<std::string> seen;
  std::vector<double> plainMs, torchMs;
  int64_t sampled = 0, failedToCompile = 0, passBoth = 0, failBoth = 0;
  nlohmann::json disagree = nlohmann::json::array();
  auto ms = [](Clock::time_point since) {
    return std::chrono::duration<double, std::milli>(Clock::now() - since)
        .count();
  };
  while (int(seen.size()) < o.rules) {
    ++sampled;
    ParseResult parsed = parseTokens(space.tokens(stream->propose(1)[0]));
    if (!parsed)
      continue;
    std::string error;
    CompiledRule rule = Compiler::shared().compileRule(*parsed.expr, &error);
    if (!rule) {
      ++failedToCompile;
      continue;
    }
    if (!seen.insert(rule.info().canonical).second)
      continue;
    auto start = Clock::now();
    train::HurdleResult plain = train::runHurdle(rule, spec);
    plainMs.push_back(ms(start));
    start = Clock::now();
    train::HurdleResult torch = train::runHurdleWithTorch(rule, spec);
    torchMs.push_back(ms(start));
    if (plain.passed != torch.passed)
      disagree.push_back({{"rule", rule.info().canonical},
                          {"plain_ratio", plain.ratio},
                          {"torch_ratio", torch.ratio}});
    else
      (plain.passed ? passBoth : failBoth) += 1;
  }
  double plainP50 = median(plainMs), torchP50 = median(torchMs);
  nlohmann::json j = {{"bench", "hurdle"},
                      {"seed", o.seed},
                      {"rules", seen.size()},
                      {"sampled", sampled},
                      {"failed_to_compile", failedToCompile},
                      {"pass_both", passBoth},
                      {"fail_both", failBoth},
                      {"disagree", disagree.size()},
                      {"disagreements", disagree},
                      {"hurdle_ms_p50", plainP50},
                      {"torch_hurdle_ms_p50", torchP50},
                      {"speedup", torchP50 / plainP50}};
  fmt::print("{}\n", j.dump());
}

} // namespace nos::bench
