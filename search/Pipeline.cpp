//===- Pipeline.cpp - From sampled tokens to a reward ---------------------===//
//
// A candidate that fails never stops the run: each stage turns errors into a
// status with a reason, and the reward of anything not scored is 0. The
// probe gradients mix scales from 1e-3 to 10 and persistent signs with
// fresh noise, so that momentum-, sign- and magnitude-based rules each leave
// a distinct trace; the screen reruns them on other gradients to catch rules
// that ignore the gradient.
//
//===----------------------------------------------------------------------===//
#include "nos/search/Pipeline.h"

#include "nos/Builtins.h"
#include "nos/Compiler.h"
#include "nos/Parser.h"
#include "nos/Printer.h"
#include "nos/Reference.h"
#include "nos/Tokens.h"
#include "nos/search/Strategies.h"

#include <fmt/core.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <numeric>
#include <stdexcept>

namespace nos::search {

namespace {
using Clock = std::chrono::steady_clock;

double msSince(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start)
      .count();
}

/// [steps][elements] gradients: element i has scale 10^(-3 + 4 (i % 8) / 7)
/// and a persistent mean of either sign, plus fresh noise every step.
std::vector<std::vector<double>> probeGradients(const ProbeSpec &s,
                                                uint64_t seed) {
  Rng rng(seed);
  std::vector<double> scale(s.elements), mean(s.elements);
  for (int64_t i = 0; i < s.elements; ++i) {
    scale[i] = std::pow(10.0, -3 + 4.0 * double(i % 8) / 7);
    mean[i] = (rng.uniform() < 0.5 ? -1 : 1) * rng.uniform();
  }
  std::vector<std::vector<double>> g(s.steps, std::vector<double>(s.elements));
  for (auto &step : g)
    for (int64_t i = 0; i < s.elements; ++i)
      step[i] = scale[i] * (mean[i] + 0.5 * rng.normal());
  return g;
}

/// Every update of a run of the probe, or false when the rule cannot run.
bool runProbe(const Expr &rule, const ProbeSpec &s, uint64_t gradientSeed,
              std::vector<double> &updates) {
  Reference ref(std::make_shared<Expr>(rule));
  ref.setRoundToFloat(true);
  Hyper hyper;
  hyper.lr = 0.01;
  hyper.totalSteps = 2 * s.steps;
  hyper.seed = s.seed;
  Rng rng(s.seed);
  std::vector<double> w(s.elements);
  for (double &x : w)
    x = rng.normal();
  std::vector<std::vector<double>> state(ref.layout().stateSlots.size(),
                                         std::vector<double>(s.elements, 0.0));
  std::vector<double *> slots;
  for (auto &array : state)
    slots.push_back(array.data());
  std::vector<RefValue> step;
  auto g = probeGradients(s, gradientSeed);
  for (int64_t t = 1; t <= s.steps; ++t) {
    if (!ref.step(w.data(), g[t - 1].data(), slots, s.elements, 0, t, hyper,
                  &step))
      return false;
    for (const RefValue &u : step)
      updates.push_back(u.value);
  }
  return true;
}

std::string hashUpdates(const std::vector<double> &updates) {
  uint64_t h = 0xcbf29ce484222325ull; // FNV-1a over the rounded text
  char text[32];
  for (double u : updates) {
    int n = std::snprintf(text, sizeof text, "%.3e;", u == 0 ? 0.0 : u);
    for (int k = 0; k < n; ++k)
      h = (h ^ uint8_t(text[k])) * 0x100000001b3ull;
  }
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", (unsigned long long)h);
  return hex;
}

/// Mean over the probe updates of min(|u|, |t|) / max(|u|, |t|) where u
/// and t have the same sign, else 0: 1 exactly for rules that update like
/// the target, partial credit for the right direction at the wrong size.
double agreement(const std::vector<double> &u, const std::vector<double> &t) {
  if (u.size() != t.size() || t.empty())
    return 0;
  double sum = 0;
  for (size_t i = 0; i < t.size(); ++i) {
    double a = std::abs(u[i]), b = std::abs(t[i]);
    if ((u[i] > 0) == (t[i] > 0) && a > 0 && b > 0)
      sum += std::min(a, b) / std::max(a, b);
  }
  return sum / double(t.size());
}
} // namespace

Probe probeRule(const Expr &rule, const ProbeSpec &spec) {
  Probe p;
  std::vector<double> other;
  if (!runProbe(rule, spec, spec.seed, p.updates) ||
      !runProbe(rule, spec, spec.seed + 1, other)) {
    p.screened = "cannot run on the probe (a schedule without total steps?)";
    return p;
  }
  bool finite = true, zero = true, constant = true;
  for (double u : p.updates) {
    finite = finite && std::isfinite(u);
    zero = zero && u == 0;
    constant = constant && u == p.updates[0];
  }
  if (!finite)
    p.screened = "NaN or Inf update on the probe gradients";
  else if (zero)
    p.screened = "zero update";
  else if (constant)
    p.screened = "constant update";
  else if (other == p.updates)
    p.screened = "update does not depend on the gradient";
  p.fingerprint = hashUpdates(p.updates);
  return p;
}

RungHistory::RungHistory(int64_t rungs, double eta)
    : eta_(eta), sorted_(size_t(std::max<int64_t>(1, rungs))) {}

void RungHistory::add(const std::vector<double> &rungValues) {
  for (size_t r = 0; r < rungValues.size() && r < sorted_.size(); ++r) {
    std::vector<double> &v = sorted_[r];
    v.insert(std::upper_bound(v.begin(), v.end(), rungValues[r]),
             rungValues[r]);
  }
}

std::vector<double> RungHistory::bars() const {
  std::vector<double> out;
  for (size_t r = 0; r + 1 < sorted_.size(); ++r) {
    const std::vector<double> &v = sorted_[r];
    out.push_back(v.size() < kMinResults
                      ? -INFINITY
                      : v[size_t(double(v.size()) * (1 - 1 / eta_))]);
  }
  return out;
}

Pipeline::Pipeline(ProxySpec spec, ProbeSpec probe)
    : spec_(std::move(spec)), probeSpec_(probe) {
  if (spec_.kind == "toy") {
    ParseResult target = parseRuleOrBuiltin(spec_.toyTarget);
    if (!target)
      throw std::runtime_error("bad toy target: " + target.error.str());
    toyTarget_ = probeRule(*target.expr, probeSpec_).updates;
  } else if (spec_.kind == "train") {
    if (spec_.lrs.empty())
      throw std::runtime_error("the lr grid is empty");
    if (spec_.rungs < 1 || !(spec_.eta > 1))
      throw std::runtime_error("successive halving needs at least 1 rung "
                               "and a reduction factor above 1");
    task_ = std::make_unique<train::Task>(spec_.task);
  } else {
    throw std::runtime_error("unknown proxy kind '" + spec_.kind +
                             "'; expected train or toy");
  }
}

Pipeline::~Pipeline() = default;

std::string Pipeline::describe() const {
  if (!task_)
    return "toy: agreement with the probe updates of " + spec_.toyTarget;
  std::string lrs;
  for (double lr : spec_.lrs)
    lrs += (lrs.empty() ? "" : ",") + std::to_string(lr).substr(0, 6);
  std::string halving =
      spec_.rungs > 1 ? fmt::format(", successive halving: {} rungs, eta {:g}",
                                    spec_.rungs, spec_.eta)
                      : ", no halving";
  return task_->describe() + ", " + std::to_string(spec_.epochs) +
         " epoch(s), lrs " + lrs + halving;
}

std::vector<int64_t> Pipeline::rungSteps() const {
  int64_t total =
      task_ ? task_->stepsPerEpoch(spec_.batchSize) * spec_.epochs : 0;
  std::vector<int64_t> steps;
  for (int64_t r = 0; r < spec_.rungs; ++r) {
    double share = std::pow(spec_.eta, double(r + 1 - spec_.rungs));
    steps.push_back(std::max<int64_t>(
        1, std::min(total, int64_t(std::ceil(share * double(total))))));
  }
  return steps;
}

/// Every lr is a lane; after each rung below the top the lanes that
/// diverged are frozen and the best 1/eta of the rest go on, if the
/// candidate reaches the rung's bar.
void Pipeline::train(Candidate &c, const CompiledRule &rule,
                     const std::vector<double> &bars, uint64_t seed) const {
  std::vector<train::ChildRun> lanes;
  for (double lr : spec_.lrs) {
    train::TrainConfig config;
    config.rule = c.canonical;
    config.compiled = rule;
    config.lr = lr;
    config.epochs = spec_.epochs;
    config.batchSize = spec_.batchSize;
    config.seed = seed;
    config.evalsPerEpoch = spec_.evalsPerEpoch;
    lanes.emplace_back(*task_, config);
  }
  std::vector<int64_t> steps = rungSteps();
  double total = double(steps.back());
  std::vector<size_t> active(lanes.size());
  std::iota(active.begin(), active.end(), size_t(0));
  c.accuracies.assign(lanes.size(), 0);
  for (size_t r = 0; r < steps.size(); ++r) {
    std::vector<size_t> alive;
    for (size_t i : active) {
      const train::RunResult &result = lanes[i].advanceTo(steps[r]);
      if (result.status == "ok")
        c.accuracies[i] = result.bestValidationAccuracy, alive.push_back(i);
      else
        c.accuracies[i] = 0;
    }
    c.fidelity = double(steps[r]) / total;
    if (alive.empty()) {
      c.status = status::Diverged, c.reward = 0;
      return;
    }
    std::stable_sort(alive.begin(), alive.end(), [&](size_t a, size_t b) {
      return c.accuracies[a] > c.accuracies[b];
    });
    c.reward = c.accuracies[alive[0]], c.bestLr = spec_.lrs[alive[0]];
    c.rungs.push_back(c.reward);
    if (r + 1 == steps.size())
      break;
    if (r < bars.size() && c.reward < bars[r]) {
      c.status = status::Stopped;
      c.detail = fmt::format("stopped at rung {} of {} ({} of {} steps): "
                             "{:.4f} is below the bar {:.4f}",
                             r + 1, steps.size(), steps[r], steps.back(),
                             c.reward, bars[r]);
      return;
    }
    alive.resize(std::max<size_t>(
        1, size_t(std::floor(double(alive.size()) / spec_.eta))));
    active = alive;
  }
  c.status = status::Scored;
}

void Pipeline::canonicalize(Candidate &c) const {
  auto start = Clock::now();
  // Only a reference is a built-in name: a canonical form such as `rmsprop`
  // (the operand) is a rule, never PyTorch's RMSprop.
  bool named = c.origin.rfind("reference:", 0) == 0;
  ParseResult parsed = !c.tokens.empty() ? parseTokens(c.tokens)
                       : named           ? parseRuleOrBuiltin(c.rule)
                                         : parseRule(c.rule);
  c.stageMs["parse"] = msSince(start);
  if (!parsed) {
    c.status = status::Failed;
    c.detail = "parse: " + parsed.error.str();
    return;
  }
  c.expr = parsed.expr;
  c.rule = printRule(*c.expr);
  start = Clock::now();
  KernelInfo info;
  std::string error;
  if (!Compiler::shared().canonicalize(*c.expr, info, &error)) {
    c.status = status::Failed;
    c.detail = "canonicalize: " + error;
  }
  c.canonical = info.canonical;
  c.hash = info.hash;
  c.stageMs["canonical"] = msSince(start);
}

void Pipeline::probe(Candidate &c) const {
  auto start = Clock::now();
  Probe p = probeRule(*c.expr, probeSpec_);
  c.fingerprint = p.fingerprint;
  c.updates = std::move(p.updates);
  c.stageMs["probe"] = msSince(start);
  if (!p.screened.empty())
    c.status = status::Screened, c.detail = p.screened, c.reward = 0;
}

void Pipeline::evaluate(Candidate &c, const std::vector<double> &bars,
                        std::optional<uint64_t> seed) const {
  if (spec_.kind == "toy") {
    c.reward = agreement(c.updates, toyTarget_);
    c.status = status::Scored;
    return;
  }
  auto start = Clock::now();
  std::string error;
  CompiledRule rule = Compiler::shared().compileRule(*c.expr, &error);
  c.compileMs = msSince(start);
  c.stageMs["compile"] = c.compileMs;
  if (!rule) {
    c.status = status::Failed, c.detail = "compile: " + error;
    return;
  }
  try {
    if (spec_.hurdle) {
      start = Clock::now();
      train::HurdleResult h = train::runHurdle(rule, spec_.hurdleSpec);
      c.stageMs["hurdle"] = msSince(start);
      if (!h.passed) {
        char why[96];
        std::snprintf(why, sizeof why,
                      "quadratic loss ratio %.3g after %lld steps (needs < "
                      "%g)",
                      h.ratio, (long long)spec_.hurdleSpec.steps,
                      spec_.hurdleSpec.target);
        c.status = status::HurdleFailed, c.detail = why;
        return;
      }
    }
    start = Clock::now();
    train(c, rule, bars, seed.value_or(spec_.seed));
    c.trainSeconds = msSince(start) / 1000;
    c.stageMs["train"] = c.trainSeconds * 1000;
  } catch (const std::exception &e) {
    c.status = status::Failed, c.detail = std::string("train: ") + e.what();
    c.reward = 0;
  }
}

} // namespace nos::search
