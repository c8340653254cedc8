//===- nos-bench.cpp - CPU benchmark of compiled update rules -------------===//
//
// Answers, per rule: is the compiled kernel as fast as memory allows and as
// fast as the same rule written by hand, how much faster is it than LibTorch,
// and what does compiling it cost. The machines this runs on are small,
// shared and noisy, so every number of a rule is measured in the same run and
// the headline figures are ratios of medians. This file never includes torch
// (see EagerTorch.h).
//
//===----------------------------------------------------------------------===//
#include "CudaBench.h"
#include "EagerTorch.h"
#include "HandKernels.h"
#include "JitMemoryBench.h"
#include "SearchBench.h"
#include "TrainBench.h"

#include "nos/Args.h"
#include "nos/Builtins.h"
#include "nos/Compiler.h"
#include "nos/CpuExecutor.h"
#include "nos/KernelABI.h"
#include "nos/Parser.h"
#include "nos/StateBuffers.h"
#include "nos/Statistics.h"

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <iostream>
#include <optional>
#include <random>
#include <stdexcept>

using json = nlohmann::ordered_json;

namespace nos::bench {
namespace {

/// A rule to measure: a built-in name (builtinRule gives its text) or, for
/// --rule, any rule string.
struct BuiltinRule {
  std::string name;
  std::string dsl;
};

struct Options {
  std::string rule = "all";
  int64_t n = 16777216;
  int threads = 0;
  int reps = 9;
  int compiles = 9;
  int cachedLookups = 101;
  bool json = false;
};

/// 64-byte-aligned floats, so the executor hands out aligned slices as it
/// would for real parameters.
class Floats {
public:
  explicit Floats(int64_t n) : n_(n) {
    size_t bytes = (size_t(n) * sizeof(float) + 63) / 64 * 64;
    data_.reset(static_cast<float *>(std::aligned_alloc(64, bytes)));
    if (!data_)
      throw std::bad_alloc();
  }
  float *data() const { return data_.get(); }
  int64_t size() const { return n_; }

private:
  struct Free {
    void operator()(float *p) const { std::free(p); }
  };
  int64_t n_;
  std::unique_ptr<float[], Free> data_;
};

void fillUniform(Floats &a, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  std::generate(a.data(), a.data() + a.size(), [&] { return dist(rng); });
}

/// One parameter tensor with its own weights and zeroed optimizer state, as
/// the one-entry table a kernel takes.
struct Problem {
  Floats w;
  StateBuffers state;
  std::vector<NosTensor> table;

  Problem(const Floats &w0, const Floats &g, int slots)
      : w(w0.size()), state({w0.size()}, slots), table(1) {
    std::copy(w0.data(), w0.data() + w0.size(), w.data());
    table[0].w = w.data();
    table[0].g = g.data();
    table[0].n = w0.size();
    state.fillTable(table);
  }
};

using Clock = std::chrono::steady_clock;

template <class F> double seconds(F &&f) {
  Clock::time_point start = Clock::now();
  f();
  return std::chrono::duration<double>(Clock::now() - start).count();
}

/// Largest |a-b| / max(|a|, |b|) over elements where both are finite; values
/// below 1e-3 of the array's largest magnitude count as that magnitude, so
/// rounding noise in near-cancelled results is not reported as disagreement.
double maxRelDiff(const float *a, const float *b, int64_t n) {
  double scale = 0;
  for (int64_t i = 0; i < n; ++i)
    if (std::isfinite(a[i]))
      scale = std::max(scale, std::fabs(double(a[i])));
  double floor = std::max(1e-3 * scale, 1e-30), worst = 0;
  for (int64_t i = 0; i < n; ++i) {
    if (!std::isfinite(a[i]) || !std::isfinite(b[i]))
      continue;
    double x = a[i], y = b[i];
    double d = std::fabs(x - y) / std::max({std::fabs(x), std::fabs(y), floor});
    worst = std::max(worst, d);
  }
  return worst;
}

double problemDiff(Problem &x, Problem &y) {
  int64_t n = x.w.size();
  double worst = maxRelDiff(x.w.data(), y.w.data(), n);
  for (int k = 0; k < x.state.slots(); ++k)
    worst =
        std::max(worst, maxRelDiff(x.state.get(0, k), y.state.get(0, k), n));
  return worst;
}

void warnIfDifferent(const std::string &rule, const char *what, double diff) {
  if (!(diff < 1e-4))
    std::cerr << "nos-bench: warning: " << rule << ": nos and " << what
              << " differ after one step (max relative difference " << diff
              << ")\n";
}

/// The rule's two compilers: `cold` keeps nothing between compiles, `warm`
/// is the one a training loop would keep.
struct Compilers {
  Compiler cold{coldOptions()};
  Compiler warm{warmOptions()};

  static CompileOptions coldOptions() {
    CompileOptions o = warmOptions();
    o.memoryCache = false;
    return o;
  }
  static CompileOptions warmOptions() {
    CompileOptions o;
    o.diskCache = false;
    return o;
  }
};

std::shared_ptr<const CpuKernel> compileOrThrow(Compiler &c, const Expr &e) {
  std::string error;
  std::shared_ptr<const CpuKernel> k = c.compileCpu(e, &error);
  if (!k)
    throw std::runtime_error("compile failed: " + error);
  return k;
}

struct CompileTimes {
  double coldMs = 0, cachedUs = 0;
};

/// Times compiles after a first one, so only per-rule work is measured (the
/// MLIR context and JIT already exist), then lookups of a held kernel.
CompileTimes timeCompiles(Compilers &c, const Expr &rule, const Options &o) {
  compileOrThrow(c.cold, rule);
  std::vector<double> cold, cached;
  for (int i = 0; i < o.compiles; ++i)
    cold.push_back(seconds([&] { compileOrThrow(c.cold, rule); }));
  compileOrThrow(c.warm, rule);
  for (int i = 0; i < o.cachedLookups; ++i)
    cached.push_back(seconds([&] { compileOrThrow(c.warm, rule); }));
  return {median(cold) * 1e3, median(cached) * 1e6};
}

/// Per-step arguments for steps 1..count (computed before timing).
std::vector<NosArgs> stepArgs(const Hyper &h, const KernelInfo &info,
                              int count) {
  std::vector<NosArgs> args;
  for (int step = 1; step <= count; ++step) {
    std::string error;
    args.push_back(makeArgs(h, step, info.schedules, &error));
    if (!error.empty())
      throw std::runtime_error(error);
  }
  return args;
}

/// Median seconds of the nos kernel, the hand kernel and the copy, timed in
/// turn within each repetition so that drift on a shared machine hits all
/// three alike. Index 0 of `args` is the warm-up step.
struct KernelTimes {
  double nos = 0;
  std::optional<double> hand;
  double copy = 0;
};

KernelTimes timeKernels(CpuExecutor &ex, NosCpuKernelFn fn, Problem &nos,
                        NosCpuKernelFn hand, Problem *handP,
                        const std::vector<NosTensor> &copy,
                        const std::vector<NosArgs> &args) {
  std::vector<double> tn, th, tc;
  for (size_t r = 0; r < args.size(); ++r) {
    const NosArgs &a = args[r];
    double n = seconds([&] { ex.run(fn, nos.table.data(), 1, a); });
    double h = 0;
    if (hand)
      h = seconds([&] { ex.run(hand, handP->table.data(), 1, a); });
    double c = seconds([&] { ex.run(copyKernel, copy.data(), 1, a); });
    if (r == 0)
      continue; // warm-up
    tn.push_back(n);
    th.push_back(h);
    tc.push_back(c);
  }
  KernelTimes t{median(tn), std::nullopt, median(tc)};
  if (hand)
    t.hand = median(th);
  return t;
}

struct TorchTimes {
  std::optional<double> eager, optim;
};

/// Torch runs in its own block: its OpenMP threads spin for a while after
/// each op, which would steal cores from an interleaved nos step.
TorchTimes timeTorch(TorchBaseline *torch, const std::vector<NosArgs> &args) {
  TorchTimes t;
  if (!torch)
    return t;
  std::vector<double> te, to;
  for (size_t r = 0; r < args.size(); ++r) {
    double e = seconds([&] { torch->eagerStep(args[r]); });
    if (r)
      te.push_back(e);
  }
  t.eager = median(te);
  if (!torch->hasOptimizer())
    return t;
  for (size_t r = 0; r < args.size(); ++r) {
    double o = seconds([&] { torch->optimizerStep(); });
    if (r)
      to.push_back(o);
  }
  t.optim = median(to);
  return t;
}

json rounded(double x, int decimals) {
  double s = std::pow(10.0, decimals);
  return std::round(x * s) / s;
}

json rounded(std::optional<double> x, int decimals) {
  return x ? rounded(*x, decimals) : json(nullptr);
}

std::optional<double> ratio(std::optional<double> a, std::optional<double> b) {
  if (!a || !b)
    return std::nullopt;
  return *a / *b;
}

/// Copy source and destination sized so the copy moves (reads plus writes)
/// as many bytes as one kernel step.
struct CopyBuffers {
  Floats src, dst;
  std::vector<NosTensor> table;

  explicit CopyBuffers(int64_t floats) : src(floats), dst(floats), table(1) {
    std::fill(src.data(), src.data() + floats, 1.0f);
    std::fill(dst.data(), dst.data() + floats, 0.0f);
    table[0].w = dst.data();
    table[0].g = src.data();
    table[0].n = floats;
  }
};

json benchRule(const std::string &name, const std::string &dsl,
               const Options &o, Compilers &compilers, CpuExecutor &ex) {
  ParseResult parsed = parseRule(dsl);
  if (!parsed)
    throw std::runtime_error("'" + dsl + "': " + parsed.error.str());
  CompileTimes ct = timeCompiles(compilers, *parsed.expr, o);
  std::shared_ptr<const CpuKernel> kernel =
      compileOrThrow(compilers.warm, *parsed.expr);
  int slots = int(kernel->info.stateSlots.size());
  int64_t n = o.n, bytesPerElem = NOS_BYTES_PER_ELEMENT(slots);

  Hyper h;
  h.totalSteps = 1000; // only rules with schedules read it
  Floats w0(n), g(n);
  fillUniform(w0, 1);
  fillUniform(g, 2);
  NosCpuKernelFn hand = handKernel(name);
  Problem nosP(w0, g, slots);
  std::optional<Problem> handP;
  if (hand)
    handP.emplace(w0, g, slots);
  std::unique_ptr<TorchBaseline> torch =
      makeTorchBaseline(name, w0.data(), g.data(), n, h, ex.threads());
  CopyBuffers copy(bytesPerElem * n / 8);

  std::vector<NosArgs> args = stepArgs(h, kernel->info, o.reps + 2);
  ex.run(kernel->fn, nosP.table.data(), 1, args[0]);
  std::optional<double> handDiff, eagerDiff;
  if (hand) {
    ex.run(hand, handP->table.data(), 1, args[0]);
    handDiff = problemDiff(nosP, *handP);
    warnIfDifferent(name, "the hand-written loop", *handDiff);
  }
  if (torch) {
    torch->eagerStep(args[0]);
    eagerDiff = maxRelDiff(nosP.w.data(), torch->eagerWeights(), n);
    warnIfDifferent(name, "eager LibTorch", *eagerDiff);
  }
  std::vector<NosArgs> timed(args.begin() + 1, args.end());
  KernelTimes kt = timeKernels(ex, kernel->fn, nosP, hand,
                               handP ? &*handP : nullptr, copy.table, timed);
  TorchTimes tt = timeTorch(torch.get(), timed);

  double bytes = double(bytesPerElem) * double(n);
  json r;
  r["rule"] = name;
  r["dsl"] = dsl;
  r["canonical"] = kernel->info.canonical;
  r["n"] = n;
  r["threads"] = ex.threads();
  r["reps"] = o.reps;
  r["bytes_per_elem"] = bytesPerElem;
  r["nos_ms"] = rounded(kt.nos * 1e3, 3);
  r["nos_gbps"] = rounded(bytes / kt.nos / 1e9, 2);
  r["copy_gbps"] = rounded(bytes / kt.copy / 1e9, 2);
  r["nos_copy_ratio"] = rounded(kt.copy / kt.nos, 3);
  r["hand_gbps"] = rounded(ratio(bytes / 1e9, kt.hand), 2);
  r["hand_ratio"] = rounded(ratio(kt.nos, kt.hand), 3);
  r["eager_gbps"] = rounded(ratio(bytes / 1e9, tt.eager), 2);
  r["eager_ratio"] = rounded(ratio(tt.eager, kt.nos), 3);
  r["torch_optim_ratio"] = rounded(ratio(tt.optim, kt.nos), 3);
  r["compile_ms_cold"] = rounded(ct.coldMs, 3);
  r["compile_us_cached"] = rounded(ct.cachedUs, 3);
  r["hand_max_rel_diff"] = rounded(handDiff, 9);
  r["eager_max_rel_diff"] = rounded(eagerDiff, 9);
  r["target"] = compilers.warm.targetId();
  return r;
}

std::string field(const json &r, const char *key) {
  return r[key].is_null() ? "-" : r[key].dump();
}

void printHuman(const json &r) {
  std::cout << r["rule"].get<std::string>() << " (" << field(r, "canonical")
            << "): nos " << field(r, "nos_gbps") << " GB/s, copy "
            << field(r, "copy_gbps") << " GB/s, hand ratio "
            << field(r, "hand_ratio") << ", eager ratio "
            << field(r, "eager_ratio") << ", torch.optim ratio "
            << field(r, "torch_optim_ratio") << ", compile "
            << field(r, "compile_ms_cold") << " ms cold / "
            << field(r, "compile_us_cached") << " us cached" << std::endl;
}

/// "all" runs the paper's references (referenceNames); a built-in name runs
/// its rule; anything else is taken as a DSL string. Hand and torch
/// baselines exist for the references only.
std::vector<BuiltinRule> selectRules(const std::string &rule) {
  std::vector<BuiltinRule> out;
  if (rule == "all") {
    for (const std::string &name : referenceNames())
      out.push_back({name, builtinRule(name)});
  } else if (const char *text = builtinRule(rule)) {
    out.push_back({rule, text});
  } else {
    out.push_back({rule, rule});
  }
  return out;
}

int runCpu(const Options &o) {
  Compilers compilers;
  CpuExecutor ex(o.threads);
  for (const BuiltinRule &r : selectRules(o.rule)) {
    json result = benchRule(r.name, r.dsl, o, compilers, ex);
    if (o.json)
      std::cout << result.dump() << std::endl;
    else
      printHuman(result);
  }
  return 0;
}

void addCpuOptions(CLI::App &cpu, Options &o) {
  cpu.add_option("--rule", o.rule,
                 "A built-in name (nosc --builtins), all (sgd, momentum, "
                 "adam, rmsprop, powersign, addsign), or a DSL string");
  cpu.add_option("--n", o.n, "Elements of the parameter tensor")
      ->check(CLI::Range(int64_t(1), int64_t(1) << 30));
  cpu.add_option("--threads", o.threads, "Executor and torch threads (0: all)")
      ->check(CLI::Range(0, 1024));
  cpu.add_option("--reps", o.reps, "Timed steps per measurement (median)")
      ->check(CLI::Range(7, 10000));
  cpu.add_option("--compiles", o.compiles, "Timed cold compiles (median)")
      ->check(CLI::Range(1, 1000));
  cpu.add_flag("--json", o.json, "One JSON object per rule and line");
}

int runTrain(const TrainBenchOptions &o) {
  std::string error;
  std::string line = benchTrainStep(o, &error);
  if (line.empty())
    throw std::runtime_error(error);
  std::cout << line << std::endl;
  return 0;
}

} // namespace
} // namespace nos::bench

int main(int argc, char **argv) {
  using namespace nos::bench;
  CLI::App app{"nos-bench: compiled update rules against memory bandwidth, "
               "hand-written C++ and LibTorch"};
  app.require_subcommand(1, 1);
  Options o;
  CLI::App *cpu = app.add_subcommand("cpu", "Benchmark the CPU kernels");
  addCpuOptions(*cpu, o);
  TrainBenchOptions t;
  CLI::App *trainCmd = app.add_subcommand(
      "train", "Optimizer step time on an MLP with >= 10M parameters");
  trainCmd->add_option("--width", t.width, "Hidden width")
      ->check(CLI::Range(int64_t(1), int64_t(1) << 16));
  trainCmd->add_option("--layers", t.layers, "Hidden layers")
      ->check(CLI::Range(int64_t(1), int64_t(64)));
  trainCmd->add_option("--threads", t.threads, "Threads (0: all)");
  trainCmd->add_option("--reps", t.reps, "Timed steps (median)")
      ->check(CLI::Range(3, 10000));
  trainCmd->add_option("--device", t.device,
                       "cpu, cuda or cuda:N: where the model and its "
                       "optimizers run");
  CudaBenchOptions c;
  CLI::App *cudaCmd = app.add_subcommand(
      "cuda", "Benchmark the GPU kernels against a device-to-device copy");
  cudaCmd->add_option("--rule", c.rule,
                      "Comma-separated rules: adam, powersign, addsign, sgd, "
                      "rmsprop or DSL strings without commas");
  cudaCmd->add_option("--n", c.n, "Parameters in all")
      ->check(CLI::Range(int64_t(1), int64_t(1) << 32));
  cudaCmd->add_option("--tensors", c.tensors, "Equal tensors they form")
      ->check(CLI::Range(1, 100000));
  cudaCmd->add_option("--reps", c.reps, "Timed steps (median)")
      ->check(CLI::Range(3, 10000));
  cudaCmd
      ->add_option("--vector-width", c.vectorWidth,
                   "Adjacent elements per thread and iteration")
      ->check(CLI::IsMember({1u, 2u, 4u}));
  cudaCmd->add_option("--device", c.device, "CUDA device")
      ->check(CLI::Range(0, 64));
  JitMemoryOptions j;
  CLI::App *jitCmd = app.add_subcommand(
      "jit", "Resident memory per compiled kernel over many distinct rules");
  jitCmd->add_option("--kernels", j.kernels, "Distinct rules to compile")
      ->check(CLI::Range(1, 10000000));
  jitCmd
      ->add_option("--cache-kernels", j.cacheKernels,
                   "Memory cache limit (0: unbounded; default: the "
                   "compiler's)")
      ->check(CLI::Range(0, 10000000));
  SearchBenchOptions s;
  CLI::App *searchCmd = app.add_subcommand(
      "search", "Distinct rules settled per hour: plain against full pipeline");
  searchCmd->add_option("--minutes", s.minutes, "Wall time of each pipeline")
      ->check(CLI::Range(0.001, 600.0));
  searchCmd->add_option("--seed", s.seed, "Seed of the sampled stream");
  searchCmd->add_option("--workers", s.workers, "Workers (0: one per core)")
      ->check(CLI::NonNegativeNumber);
  searchCmd->add_option("--fidelity", s.fidelity,
                        "report.json of nos-search fidelity");
  HurdleBenchOptions hb;
  CLI::App *hurdleCmd = app.add_subcommand(
      "hurdle", "The hurdle on plain arrays against the torch one it replaced");
  hurdleCmd->add_option("--rules", hb.rules, "Distinct sampled rules")
      ->check(CLI::Range(1, 1000000));
  hurdleCmd->add_option("--seed", hb.seed, "Seed of the sampled stream");
  int lanes = 4, laneReps = 50, laneThreads = 1;
  CLI::App *lanesCmd = app.add_subcommand(
      "lanes", "K lanes one after another against stacked in one model");
  lanesCmd->add_option("--lanes", lanes, "Lanes")->check(CLI::Range(1, 64));
  lanesCmd->add_option("--reps", laneReps, "Timed steps (median)")
      ->check(CLI::Range(3, 100000));
  lanesCmd->add_option("--threads", laneThreads, "Torch threads (0: all)")
      ->check(CLI::NonNegativeNumber);
  CLI11_PARSE(app, argc, argv);
  try {
    if (searchCmd->parsed()) {
      runSearchBench(s);
      return 0;
    }
    if (hurdleCmd->parsed()) {
      runHurdleBench(hb);
      return 0;
    }
    if (lanesCmd->parsed()) {
      std::string error, out = benchLanes(lanes, laneReps, laneThreads, &error);
      if (!error.empty())
        throw std::runtime_error(error);
      std::cout << out;
      return 0;
    }
    if (jitCmd->parsed()) {
      runJitMemoryBench(j);
      return 0;
    }
    if (cudaCmd->parsed()) {
      runCudaBench(c);
      return 0;
    }
    return trainCmd->parsed() ? runTrain(t) : runCpu(o);
  } catch (const std::exception &e) {
    std::cerr << "nos-bench: error: " << e.what() << "\n";
    return 1;
  }
}
