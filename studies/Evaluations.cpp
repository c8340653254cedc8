//===- Evaluations.cpp - Rules rated on named proxies over seeds ----------===//
//
// Every evaluation runs at the proxy's full fidelity for the candidate (no
// bars: nothing is stopped for being worse than earlier ones), with the
// seed replacing the proxy's child seed. Jobs go seed-major, so a study cut
// short has every rule on every proxy for its first seeds.
//
//===----------------------------------------------------------------------===//
#include "nos/studies/Evaluations.h"

#include "FunnelReport.h"

#include "nos/Builtins.h"
#include "nos/Files.h"
#include "nos/report/Runs.h"
#include "nos/search/Search.h"
#include "nos/search/Store.h"
#include "nos/studies/Fidelity.h"

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <exception>
#include <fstream>
#include <memory>
#include <set>
#include <stdexcept>
#include <thread>

namespace nos::studies {
using namespace search;

NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(Evaluation, proxy, rule, seed,
                                                reward, bestLr, seconds, status,
                                                accuracies)

namespace {
std::string key(const std::string &proxy, const std::string &rule,
                uint64_t seed) {
  return proxy + "\n" + rule + "\n" + std::to_string(seed);
}

struct Job {
  std::string proxy;
  size_t rule;
  uint64_t seed;
};
} // namespace

JsonLines::JsonLines(std::string path) : path_(std::move(path)) {
  std::ifstream in(path_);
  std::vector<std::string> text;
  for (std::string line; std::getline(in, line);)
    text.push_back(line);
  std::string kept;
  bool cut = false;
  for (size_t i = 0; i < text.size(); ++i) {
    try {
      lines_.push_back(nlohmann::json::parse(text[i]));
      kept += text[i] + "\n";
    } catch (const nlohmann::json::exception &e) {
      if (i + 1 < text.size()) // only the last line can be cut by a kill
        throw std::runtime_error(
            fmt::format("{}:{}: damaged line: {}", path_, i + 1, e.what()));
      cut = true;
    }
  }
  if (cut) {
    std::string error = writeFileAtomically(path_, {kept});
    if (!error.empty())
      throw std::runtime_error(error);
  }
}

void JsonLines::append(const nlohmann::json &line) {
  std::ofstream out(path_, std::ios::app);
  out << line.dump() << "\n";
  out.flush();
  if (!out)
    throw std::runtime_error("cannot append to " + path_);
}

int runStudy(const std::string &tool, const std::function<void()> &body) {
  try {
    body();
    return 0;
  } catch (const std::exception &e) {
    fmt::print(stderr, "{}: error: {}\n", tool, e.what());
    return 1;
  }
}

std::vector<uint64_t> seedRange(uint64_t first, int n) {
  std::vector<uint64_t> out;
  for (int i = 0; i < n; ++i)
    out.push_back(first + uint64_t(i));
  return out;
}

nlohmann::json finiteOrNull(double v) {
  return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json();
}

double numberOr(const nlohmann::json &j, const char *key) {
  return j.contains(key) && j[key].is_number() ? j[key].get<double>() : NAN;
}

void runJobs(size_t n, int workers, const std::function<void(size_t)> &job) {
  unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  int threadsWanted = workers > 0 ? workers : int(cores);
  std::atomic<size_t> next{0};
  std::exception_ptr failure; // the first one stops every worker
  std::mutex failureLock;
  std::vector<std::thread> threads;
  for (int w = 0; w < threadsWanted; ++w)
    threads.emplace_back([&] {
      train::setTorchThreads(1);
      try {
        for (size_t i; (i = next++) < n;)
          job(i);
      } catch (...) {
        std::lock_guard<std::mutex> lock(failureLock);
        failure = failure ? failure : std::current_exception();
        next = n;
      }
    });
  for (std::thread &t : threads)
    t.join();
  if (failure)
    std::rethrow_exception(failure);
}

void writeStudyFiles(
    const std::string &dir,
    const std::vector<std::pair<std::string, std::string>> &files) {
  for (const auto &[name, body] : files) {
    std::string error = writeFileAtomically(dir + "/" + name, {body});
    if (!error.empty())
      throw std::runtime_error(error);
  }
}

/// A run's `top` rules by margin at funnel level `level`; for "best", empty
/// when no level has a joined result (the run's choice is then its proxy
/// best, as the engine's).
static std::vector<std::string> leadersAt(const std::string &dir,
                                          const std::string &level, int top) {
  std::unique_ptr<Store> store = Store::open(dir, /*readOnly=*/true);
  std::vector<std::string> leaders = levelLeaders(
      *store, SearchSettings::fromJson(store->settingsJson()), level, top);
  if (leaders.empty() && top > 0 && level != "best")
    throw std::invalid_argument("--level " + level + ": run " + dir +
                                " promoted no rule to " + level);
  return leaders;
}

std::vector<RatedRule> collectRules(const std::vector<std::string> &runs,
                                    int top,
                                    const std::vector<std::string> &rules,
                                    const std::string &level) {
  std::vector<RatedRule> out = referenceRatedRules();
  std::set<std::string> seen;
  for (const RatedRule &r : out)
    seen.insert(r.canonical);
  for (const std::string &dir : runs) {
    if (!level.empty()) {
      std::vector<std::string> leaders = leadersAt(dir, level, top);
      for (const std::string &canonical : leaders)
        if (seen.insert(canonical).second)
          out.push_back({canonical, canonical});
      if (!leaders.empty() || level != "best")
        continue;
    }
    std::vector<Candidate> all = Store::open(dir, /*readOnly=*/true)->all();
    std::stable_sort(all.begin(), all.end(),
                     [](auto &a, auto &b) { return a.reward > b.reward; });
    int taken = 0;
    for (const Candidate &c : all)
      if (taken < top && c.batch >= 0 && c.status == status::Scored &&
          seen.insert(c.canonical).second) {
        out.push_back({c.canonical, c.canonical});
        ++taken;
      }
  }
  for (const std::string &text : rules) {
    std::string canonical = report::canonicalForm(text);
    if (canonical.empty())
      throw std::invalid_argument("--rule '" + text +
                                  "': " + parseRuleOrBuiltin(text).error.str());
    if (seen.insert(canonical).second)
      out.push_back({text, canonical});
  }
  return out;
}

EvaluationLog::EvaluationLog(std::string path) : file_(std::move(path)) {
  for (const nlohmann::json &line : file_.lines()) {
    Evaluation e = line.get<Evaluation>();
    done_[key(e.proxy, e.rule, e.seed)] = e;
  }
}

const Evaluation *EvaluationLog::find(const std::string &proxy,
                                      const std::string &rule,
                                      uint64_t seed) const {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = done_.find(key(proxy, rule, seed));
  return it == done_.end() ? nullptr : &it->second;
}

void EvaluationLog::append(const Evaluation &e) {
  std::lock_guard<std::mutex> lock(mutex_);
  file_.append(nlohmann::json(e));
  done_[key(e.proxy, e.rule, e.seed)] = e;
}

void EvaluationLog::complete(const std::vector<std::string> &proxies,
                             const std::vector<RatedRule> &rules,
                             const std::vector<uint64_t> &seeds, int workers,
                             const std::string &tool,
                             const std::string &device) {
  std::map<std::string, std::unique_ptr<Pipeline>> pipelines;
  for (const std::string &n : proxies) {
    auto spec = train::proxyPreset(n);
    spec.task.device = device;
    pipelines[n] = std::make_unique<Pipeline>(spec);
  }
  std::vector<Job> jobs;
  for (uint64_t s : seeds)
    for (size_t r = 0; r < rules.size(); ++r)
      for (const std::string &n : proxies)
        if (!find(n, rules[r].canonical, s))
          jobs.push_back({n, r, s});
  fmt::print(stderr, "{}: {} rules x {} seeds x {} proxies, {} to train\n",
             tool, rules.size(), seeds.size(), proxies.size(), jobs.size());

  std::mutex parseLock; // the compiler's canonical form, one at a time
  auto run = [&](size_t i) {
    const Job &job = jobs[i];
    const Pipeline &pipeline = *pipelines.at(job.proxy);
    Candidate c;
    c.rule = rules[job.rule].canonical;
    {
      std::lock_guard<std::mutex> lock(parseLock);
      pipeline.canonicalize(c);
    }
    if (!c.settled())
      pipeline.evaluate(c, {}, job.seed);
    append({job.proxy, rules[job.rule].canonical, job.seed, c.reward, c.bestLr,
            c.trainSeconds, c.status, c.accuracies});
    fmt::print(stderr, "[{}/{}] {} seed {} {}: {} {:.4f} in {:.2f} s\n", i + 1,
               jobs.size(), job.proxy, job.seed, rules[job.rule].label,
               c.status, c.reward, c.trainSeconds);
  };
  runJobs(jobs.size(), workers, run);
}

std::vector<RatedRule> referenceRatedRules() {
  std::vector<RatedRule> out;
  for (const std::string &name : referenceNames())
    out.push_back({name, report::canonicalForm(name)});
  return out;
}

} // namespace nos::studies
