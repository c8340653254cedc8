//===- PipelineTest.cpp - Dedup, fingerprints, screening, hurdle ----------===//
//
// Each check uses rules whose right outcome is known by construction: two
// spellings of one rule, two different formulas that compute equal updates,
// and one rule for each kind of degenerate update.
//
//===----------------------------------------------------------------------===//
#include "nos/search/Pipeline.h"
#include "nos/Builtins.h"
#include "nos/Compiler.h"
#include "nos/Parser.h"
#include "nos/search/Efficiency.h"
#include "nos/train/Trainer.h"

#include <catch2/catch.hpp>

using namespace nos;
using namespace nos::search;

namespace {
ProxySpec toy() {
  ProxySpec p;
  p.kind = "toy";
  return p;
}

Candidate prepared(const Pipeline &pipeline, const std::string &rule) {
  Candidate c;
  c.rule = rule;
  pipeline.canonicalize(c);
  REQUIRE_FALSE(c.settled());
  pipeline.probe(c);
  return c;
}

std::string screenedWhy(const std::string &rule) {
  ParseResult parsed = parseRuleOrBuiltin(rule);
  REQUIRE(parsed);
  return probeRule(*parsed.expr).screened;
}
} // namespace

TEST_CASE("two spellings of a rule share a canonical form", "[search]") {
  Pipeline pipeline(toy());
  Candidate a = prepared(pipeline, "sign(m) * sign(g) * g");
  Candidate b = prepared(pipeline, "g * sign(g) * sign(m)");
  Candidate c = prepared(pipeline, "g * sign(m)");
  CHECK(a.canonical == b.canonical);
  CHECK(a.hash == b.hash);
  CHECK(a.canonical != c.canonical);
  CHECK(a.fingerprint == b.fingerprint);
}

// `rmsprop` is both an operand (bias-corrected, beta2) and a built-in name
// (PyTorch's RMSprop). A searched rule whose canonical form is `rmsprop` was
// once trained as the built-in, because the hurdle and the lanes re-read the
// canonical text as a name; only references are names now.
TEST_CASE("a canonical form is a rule, never a built-in name", "[search]") {
  Pipeline pipeline(toy());
  Candidate operand = prepared(pipeline, "rmsprop");
  CHECK(operand.canonical == "rmsprop");
  Candidate reference;
  reference.origin = "reference:rmsprop", reference.rule = "rmsprop";
  pipeline.canonicalize(reference);
  CHECK(reference.canonical == "g / sqrt(ema(g2, 0.99))");
  train::HurdleSpec spec;
  std::string error;
  CompiledRule compiled = Compiler::shared().compileRule(*operand.expr, &error);
  REQUIRE(compiled);
  CHECK(compiled.info().canonical == "rmsprop");
  CHECK(train::runHurdle(compiled, spec).ratio !=
        train::runHurdle("rmsprop", spec).ratio);
}

TEST_CASE("different formulas with equal updates share a fingerprint",
          "[search]") {
  Pipeline pipeline(toy());
  Candidate sum = prepared(pipeline, "g + g");
  Candidate twice = prepared(pipeline, "2 * g");
  Candidate thrice = prepared(pipeline, "3 * g");
  REQUIRE(sum.canonical != twice.canonical);
  CHECK(sum.fingerprint == twice.fingerprint);
  CHECK(sum.fingerprint != thrice.fingerprint);
  // sign(g)^2 is 1 wherever the probe's gradients are (never exactly 0).
  Candidate g = prepared(pipeline, "g");
  Candidate signs = prepared(pipeline, "g * sign(g) * sign(g)");
  CHECK(g.canonical != signs.canonical);
  CHECK(g.fingerprint == signs.fingerprint);
  CHECK(g.fingerprint != sum.fingerprint);
}

TEST_CASE("each kind of degenerate rule is screened", "[search]") {
  CHECK(screenedWhy("exp(g3)") == "NaN or Inf update on the probe gradients");
  CHECK(screenedWhy("g - g") == "zero update");
  CHECK(screenedWhy("2") == "constant update");
  CHECK(screenedWhy("sign(cd) * 3") == "constant update");
  CHECK(screenedWhy("cd * 3") == "update does not depend on the gradient");
  CHECK(screenedWhy("noise") == "update does not depend on the gradient");
  CHECK(screenedWhy("0.01 * w") == "update does not depend on the gradient");
  for (const char *fine : {"g", "adam", "powersign", "addsign", "rmsprop",
                           "g * noise", "sign(g) * ld"})
    CHECK(screenedWhy(fine).empty());
}

TEST_CASE("the probe is deterministic", "[search]") {
  ParseResult rule = parseRule("drop(g, 0.3) + noise * m");
  Probe a = probeRule(*rule.expr), b = probeRule(*rule.expr);
  CHECK(a.fingerprint == b.fingerprint);
  CHECK(a.updates == b.updates);
  ProbeSpec other;
  other.seed = 2;
  CHECK(probeRule(*rule.expr, other).fingerprint != a.fingerprint);
}

TEST_CASE("the toy reward knows its answer", "[search]") {
  Pipeline pipeline(toy());
  auto reward = [&](const std::string &rule) {
    Candidate c = prepared(pipeline, rule);
    pipeline.evaluate(c);
    CHECK(c.status == status::Scored);
    return c.reward;
  };
  CHECK(reward("exp(sign(g) * sign(m)) * g") == 1.0);
  CHECK(reward("g * exp(sign(m) * sign(g))") == 1.0);
  double plain = reward("g");
  CHECK(plain > 0.2);
  CHECK(plain < 0.8);
  CHECK(reward("-g") == 0.0);
}

TEST_CASE("the hurdle passes descent and fails ascent", "[search]") {
  train::HurdleSpec spec;
  CHECK(train::runHurdle("g", spec).passed);
  CHECK(train::runHurdle("adam", spec).passed);
  train::HurdleResult up = train::runHurdle("-g", spec);
  CHECK_FALSE(up.passed);
  CHECK(up.ratio > 1);
  CHECK_FALSE(train::runHurdle("g2 - 1", spec).passed);
}

TEST_CASE("the plain hurdle follows the torch one it replaced", "[search]") {
  // Same problem, lrs, steps and step numbering: the same verdicts, and on
  // well-behaved rules the same loss ratios to 1% (f32 rounding in another
  // summation order grows over 200 steps; nos-bench
  // hurdle compares 1,000 sampled rules).
  train::HurdleSpec spec;
  for (const char *text : {"g", "adam", "powersign", "addsign-ld", "-g",
                           "g2 - 1", "rmsprop", "sign(g) * noise"}) {
    INFO(text);
    CompiledRule rule = CompiledRule::fromText(text);
    train::HurdleResult plain = train::runHurdle(rule, spec);
    train::HurdleResult torch = train::runHurdleWithTorch(rule, spec);
    CHECK(plain.passed == torch.passed);
    CHECK(plain.lr == torch.lr);
    if (std::isfinite(torch.ratio) && torch.ratio < 1)
      CHECK(plain.ratio == Approx(torch.ratio).epsilon(0.01));
  }
}

namespace {
/// Logistic regression on 600 generated examples, two lrs: seconds to train.
ProxySpec logisticProxy() {
  ProxySpec p;
  p.task.dataset = "logistic";
  p.task.trainSize = 600;
  p.task.validationSize = 200;
  p.lrs = {0.01, 1};
  return p;
}
} // namespace

TEST_CASE("child training scores a rule over the lr grid", "[search]") {
  uint64_t tests = nos::train::testEvaluations();
  Pipeline pipeline(logisticProxy());
  Candidate good = prepared(pipeline, "g");
  pipeline.evaluate(good);
  // Selection never scores a test split (nos-train --test would).
  CHECK(nos::train::testEvaluations() == tests);
  CHECK(good.status == status::Scored);
  REQUIRE(good.accuracies.size() == 2);
  CHECK(good.reward == std::max(good.accuracies[0], good.accuracies[1]));
  CHECK(good.reward > 0.7);
  CHECK(good.stageMs.count("compile"));
  CHECK(good.stageMs.count("hurdle"));
  CHECK(good.stageMs.count("train"));
  Candidate bad = prepared(pipeline, "-g");
  pipeline.evaluate(bad);
  CHECK(bad.status == status::HurdleFailed);
  CHECK(bad.reward == 0);
}

// How often a scored candidate's rule is read on its way down, from its text
// to its reward: parsed once, canonicalized once (the canonical form parsed
// back once, to check it and to keep its tree), and the compile reuses the
// canonicalized IR; the hurdle's 4 lrs and the 2 training lanes take the
// compiled rule, not its text. (Before the compiled rule was handed down:
// 9 parses and 2 canonicalizations here.) Exact, so that a change to the
// figures is a deliberate one.
TEST_CASE("parses and canonicalizations per scored candidate", "[search]") {
  ProxySpec p = logisticProxy();
  p.rungs = 1;
  Pipeline pipeline(p);
  nos::Compiler &compiler = nos::Compiler::shared();
  uint64_t parses = parseCount();
  unsigned canonicalizations = compiler.stats().canonicalizations;
  // A rule no other test compiles: a memory-cache hit would skip a step.
  Candidate c = prepared(pipeline, "g * 1.75");
  pipeline.evaluate(c);
  REQUIRE(c.status == status::Scored);
  uint64_t parsed = parseCount() - parses;
  unsigned canonicalized =
      compiler.stats().canonicalizations - canonicalizations;
  WARN("per scored candidate: " << parsed << " parses, " << canonicalized
                                << " canonicalizations (hurdle lrs "
                                << p.hurdleSpec.lrs.size() << ", lanes "
                                << p.lrs.size() << ")");
  CHECK(parsed == 2);
  CHECK(canonicalized == 1);
}

namespace {
ProxySpec halvingProxy() {
  ProxySpec p;
  p.task.dataset = "logistic";
  p.task.trainSize = 1200;
  p.task.validationSize = 300;
  p.task.hidden = {16};
  p.lrs = {0.001, 0.01, 0.1, 1};
  p.batchSize = 32;
  p.rungs = 2;
  p.eta = 4; // one lane of four goes on
  return p;
}
} // namespace

TEST_CASE("successive halving trains only the best lane further", "[search]") {
  Pipeline pipeline(halvingProxy());
  std::vector<int64_t> steps = pipeline.rungSteps();
  REQUIRE(steps.size() == 2);
  CHECK(steps[1] == 38 * 1); // ceil(1200 / 32) steps, one epoch
  CHECK(steps[0] == 10);     // ceil(38 / 4)
  // A bar no one reaches stops every candidate at the first rung ...
  Candidate stopped = prepared(pipeline, "adam");
  pipeline.evaluate(stopped, {INFINITY});
  CHECK(stopped.status == status::Stopped);
  CHECK(stopped.fidelity == Approx(10.0 / 38));
  REQUIRE(stopped.rungs.size() == 1);
  REQUIRE(stopped.accuracies.size() == 4);
  CHECK(stopped.reward == *std::max_element(stopped.accuracies.begin(),
                                            stopped.accuracies.end()));
  CHECK(stopped.rungs[0] == stopped.reward);
  // ... and one everyone reaches lets the best lane alone go on: the other
  // lanes keep exactly their first-rung accuracies.
  Candidate full = prepared(pipeline, "adam");
  pipeline.evaluate(full, {-INFINITY});
  CHECK(full.status == status::Scored);
  CHECK(full.fidelity == 1);
  REQUIRE(full.rungs.size() == 2);
  CHECK(full.rungs[0] == stopped.rungs[0]);
  CHECK(full.bestLr == stopped.bestLr);
  int same = 0;
  for (size_t i = 0; i < 4; ++i) {
    same += full.accuracies[i] == stopped.accuracies[i];
    CHECK(full.accuracies[i] >= stopped.accuracies[i]);
  }
  CHECK(same >= 3);
  CHECK(full.reward == full.rungs[1]);
}

TEST_CASE("rung bars follow the top 1/eta of earlier results", "[search]") {
  RungHistory history(2, 3);
  for (int v = 0; v < int(RungHistory::kMinResults) - 1; ++v)
    history.add({double(v)});
  REQUIRE(history.bars().size() == 1); // no bar at the top rung
  CHECK(history.bars()[0] == -INFINITY);
  for (int v = int(RungHistory::kMinResults) - 1; v < 99; ++v)
    history.add({double(98 - v + int(RungHistory::kMinResults) - 1), 0.5});
  // 0..98 in some order: the top third starts at 66.
  CHECK(history.bars()[0] == 66);
}

TEST_CASE("worker time shares come from the stored stage times", "[search]") {
  // Two workers for 10 s: 20 worker-seconds. The workers' stages total
  // 8.5 s (one reference included), 6 s of them training; the 0.5 s of
  // canonicalization ran on the engine's thread.
  auto make = [](int64_t batch, const char *st,
                 std::map<std::string, double> ms) {
    Candidate c;
    c.batch = batch, c.status = st, c.stageMs = std::move(ms);
    return c;
  };
  std::vector<Candidate> all = {
      make(-1, status::Scored, {{"train", 2000}}),
      make(0, status::Scored,
           {{"canonical", 500},
            {"compile", 10},
            {"hurdle", 490},
            {"train", 3000}}),
      make(0, status::Stopped,
           {{"compile", 20}, {"hurdle", 480}, {"train", 1000}}),
      make(1, status::HurdleFailed, {{"compile", 30}, {"hurdle", 1470}}),
      make(1, status::Duplicate, {})};
  Efficiency e = efficiency(all, 2, 10);
  CHECK(e.workerSeconds == 20);
  CHECK(e.busyShare == Approx(8.5 / 20));
  CHECK(e.trainShare == Approx(6.0 / 20));
  CHECK(e.trainedPerHour == Approx(2 * 360)); // the reference is not counted
  CHECK(e.compileMsP50 == Approx(20));        // of 10, 20, 30
  CHECK(e.hurdleMsP50 == Approx(490));
  CHECK(e.trainMsP50 == Approx(2000)); // of 1000, 2000, 3000
  CHECK(efficiency({}, 2, 0).busyShare == 0);
  all.pop_back(), all.pop_back(); // an even count: compile 10 and 20
  CHECK(efficiency(all, 2, 10).compileMsP50 == Approx(15));
}
