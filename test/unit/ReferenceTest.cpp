//===- ReferenceTest.cpp - The reference interpreter ----------------------===//
//
// The oracle every kernel is compared with must itself be right: these tests
// check it against hand-computed values and hand-written optimizers
// (PowerSign, AddSign, SGD momentum, Adam, RMSprop), the state layout and
// its ema sharing, schedules, the Philox known answers, the statistics and
// determinism of the random operands, and that its error bound covers an
// f32-rounded evaluation of generated rules.
//
//===----------------------------------------------------------------------===//

#include "RuleGen.h"
#include "TestSupport.h"

#include "nos/Philox.h"
#include "nos/Printer.h"
#include "nos/Reference.h"

#include <catch2/catch.hpp>

#include <cmath>

using namespace nos;

namespace {

using nos::test::parse;

/// A rule applied to one parameter tensor of n elements.
struct Run {
  Reference ref;
  std::vector<double> w;
  std::vector<std::vector<double>> state;
  std::vector<RefValue> update;

  Run(const std::string &rule, size_t n, double w0 = 1.0)
      : ref(parse(rule)), w(n, w0),
        state(ref.layout().stateSlots.size(), std::vector<double>(n, 0.0)) {}

  bool step(const std::vector<double> &g, int64_t t, const Hyper &h = {},
            int64_t rngBase = 0) {
    std::vector<double *> ptrs;
    for (auto &s : state)
      ptrs.push_back(s.data());
    return ref.step(w.data(), g.data(), ptrs, static_cast<int64_t>(w.size()),
                    rngBase, t, h, &update);
  }
  double u(size_t i = 0) const { return update.at(i).value; }
};

/// The single value of a one-element rule at step t.
double valueOf(const std::string &rule, double g, int64_t t = 1, Hyper h = {}) {
  Run r(rule, 1);
  REQUIRE(r.step({g}, t, h));
  return r.u();
}

std::vector<double> randomGradients(std::mt19937_64 &rng, size_t n) {
  std::vector<double> g(n);
  for (double &x : g) // f32-representable values in [-2, 2)
    x = static_cast<float>((static_cast<double>(rng() >> 11) * 0x1p-53) * 4 -
                           2);
  return g;
}

} // namespace

TEST_CASE("philox4x32-10 known answers (Random123)", "[reference][philox]") {
  using A = std::array<uint32_t, 4>;
  CHECK(philox4x32(0, 0, 0, 0) ==
        A{0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8});
  CHECK(philox4x32(~0ull, ~0u, ~0u, ~0ull) ==
        A{0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd});
  CHECK(philox4x32(0x85a308d3243f6a88ull, 0x13198a2e, 0x03707344,
                   0x299f31d0a4093822ull) ==
        A{0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1});
  CHECK(uniformFromBits(0xffffffffu) < 1.0f);
  CHECK(uniformFromBits(0) == 0.0f);
  CHECK(uniformOpenFromBits(0) > 0.0f);
}

TEST_CASE("layout: slots, ema sharing, schedules", "[reference][layout]") {
  // emaNodes point into the rule, so the rules must outlive the layouts.
  ExprPtr rule =
      parse("ema(g, 0.9) + gamma * adam + ema(g2, 0.5) + ema(g, 0.9) + g3");
  RuleLayout l = computeLayout(*rule);
  CHECK(l.stateSlots ==
        std::vector<std::string>{"m", "v", "gamma", "ema0", "ema1"});
  REQUIRE(l.emaNodes.size() == 2);
  CHECK(l.emaNodes[0]->param == 0.9);
  CHECK(l.emaNodes[1]->param == 0.5);
  CHECK_FALSE(l.usesRandom);

  CHECK(computeLayout(*parse("rmsprop")).stateSlots ==
        std::vector<std::string>{"v"});
  CHECK(computeLayout(*parse("sign(m) * g")).stateSlots ==
        std::vector<std::string>{"m"});
  CHECK(computeLayout(*parse("g * w + 1")).stateSlots.empty());

  // Pre-order: an outer ema gets its slot before the ema inside it.
  ExprPtr nested = parse("ema(ema(g, 0.5), 0.9) + ema(g, 0.5)");
  l = computeLayout(*nested);
  REQUIRE(l.emaNodes.size() == 2);
  CHECK(l.emaNodes[0]->param == 0.9);
  CHECK(l.emaNodes[1]->param == 0.5);

  // Emas over random draws never share.
  l = computeLayout(*parse("ema(noise, 0.9) + ema(noise, 0.9)"));
  CHECK(l.stateSlots == std::vector<std::string>{"ema0", "ema1"});
  CHECK(l.usesRandom);
  CHECK(computeLayout(*parse("drop(g, 0.1)")).usesRandom);

  l = computeLayout(*parse("cd * ld + cd(0.5) + cd(2) + rd + ld"));
  REQUIRE(l.schedules.size() == 4);
  CHECK(l.schedules[0].kind == Schedule::CD);
  CHECK(l.schedules[0].n == 0.5);
  CHECK(l.schedules[1].kind == Schedule::LD);
  CHECK(l.schedules[2].kind == Schedule::CD);
  CHECK(l.schedules[2].n == 2.0);
  CHECK(l.schedules[3].kind == Schedule::RD);
  CHECK(l.schedules[3].n == 1.0);
}

TEST_CASE("PowerSign and AddSign by hand", "[reference]") {
  Hyper h; // lr 0.1, beta1 0.9
  Run p("exp(sign(g) * sign(m)) * g", 2);
  p.state[0] = {0.0, 1.0};
  REQUIRE(p.step({0.5, -2.0}, 1, h));
  // m = 0.1 g and 0.9 - 0.2 = 0.7: signs agree, then disagree.
  CHECK(p.state[0][0] == Approx(0.05));
  CHECK(p.state[0][1] == Approx(0.7));
  CHECK(p.u(0) == Approx(std::exp(1.0) * 0.5));
  CHECK(p.u(1) == Approx(std::exp(-1.0) * -2.0));
  CHECK(p.w[0] == Approx(1 - 0.1 * std::exp(1.0) * 0.5));

  Run a("(1 + sign(g) * sign(m)) * g", 2);
  a.state[0] = {0.0, 1.0};
  REQUIRE(a.step({0.5, -2.0}, 1, h));
  CHECK(a.u(0) == Approx(1.0));
  CHECK(a.u(1) == 0.0);
  CHECK(a.w[1] == 1.0);
}

TEST_CASE("SGD momentum is 10 * ema(g, 0.9)", "[reference]") {
  std::mt19937_64 rng(1);
  Hyper h;
  h.lr = 0.01;
  Run r("10 * ema(g, 0.9)", 8);
  std::vector<double> buf(8, 0.0), w(8, 1.0);
  for (int t = 1; t <= 20; ++t) {
    auto g = randomGradients(rng, 8);
    REQUIRE(r.step(g, t, h));
    for (size_t i = 0; i < 8; ++i) {
      buf[i] = 0.9 * buf[i] + g[i]; // torch.optim.SGD(momentum=0.9)
      w[i] -= h.lr * buf[i];
      CHECK(r.u(i) == Approx(buf[i]).epsilon(1e-12).margin(1e-13));
      CHECK(r.w[i] == Approx(w[i]).epsilon(1e-12));
    }
  }
}

TEST_CASE("adam equals a hand-written Adam", "[reference]") {
  std::mt19937_64 rng(2);
  Hyper h;
  h.lr = 1e-3;
  Run r("adam", 4);
  REQUIRE(r.ref.layout().stateSlots == std::vector<std::string>{"m", "v"});
  std::vector<double> m(4, 0), v(4, 0), w(4, 1.0);
  for (int t = 1; t <= 10; ++t) {
    auto g = randomGradients(rng, 4);
    REQUIRE(r.step(g, t, h));
    for (size_t i = 0; i < 4; ++i) {
      m[i] = 0.9 * m[i] + 0.1 * g[i];
      v[i] = 0.999 * v[i] + 0.001 * g[i] * g[i];
      double mh = m[i] / (1 - std::pow(0.9, t));
      double vh = v[i] / (1 - std::pow(0.999, t));
      double u = mh / (std::sqrt(vh) + 1e-8);
      w[i] -= h.lr * u;
      CHECK(r.u(i) == Approx(u).epsilon(1e-12));
      CHECK(r.w[i] == Approx(w[i]).epsilon(1e-12));
      CHECK(r.state[0][i] == Approx(m[i]).epsilon(1e-12));
    }
  }
}

TEST_CASE("PyTorch RMSprop and rmsprop", "[reference]") {
  std::mt19937_64 rng(3);
  Run torch("g / (sqrt(ema(g2, 0.99)) + 1e-8)", 4);
  Run paper("rmsprop", 4);
  std::vector<double> sq(4, 0), v(4, 0);
  Hyper h;
  for (int t = 1; t <= 5; ++t) {
    auto g = randomGradients(rng, 4);
    REQUIRE(torch.step(g, t, h));
    REQUIRE(paper.step(g, t, h));
    for (size_t i = 0; i < 4; ++i) {
      sq[i] = 0.99 * sq[i] + 0.01 * g[i] * g[i];
      v[i] = 0.999 * v[i] + 0.001 * g[i] * g[i];
      double vh = v[i] / (1 - std::pow(0.999, t));
      // The rule's '/' is protected: x / (y + delta).
      CHECK(torch.u(i) ==
            Approx(g[i] / (std::sqrt(sq[i]) + 1e-8 + 1e-8)).epsilon(1e-12));
      CHECK(paper.u(i) == Approx(g[i] / (std::sqrt(vh) + 1e-8)).epsilon(1e-12));
    }
  }
}

TEST_CASE("operands and functions", "[reference]") {
  CHECK(valueOf("g2", -3) == 9);
  CHECK(valueOf("g3", -3) == -27);
  CHECK(valueOf("w", 5) == 1.0);
  CHECK(valueOf("log(g)", -std::exp(2.0)) == Approx(2.0));
  CHECK(valueOf("sqrt(g)", -4) == 2.0);
  CHECK(valueOf("sign(g)", 0) == 0.0);
  CHECK(valueOf("sign(g)", -0.1) == -1.0);
  CHECK(valueOf("clip(g, 0.5)", -3) == -0.5);
  CHECK(valueOf("clip(g, 0.5)", 0.25) == 0.25);
  CHECK(valueOf("g / 0", 1) == Approx(1e8));
  CHECK(valueOf("g ^ 2 ^ -1", 9) == Approx(3.0));
  CHECK(valueOf("-g ^ 2", 3) == -9);
  CHECK(valueOf("left(g, 1 / 0)", 2) == 2);
  Hyper h;
  h.beta2 = 0.5;
  CHECK(valueOf("v", 2, 1, h) == Approx(4.0)); // bias-corrected
  CHECK(valueOf("gamma", 2, 1) == Approx(8.0));
  CHECK(valueOf("m", 2, 1) == Approx(2.0));

  // NaN and Inf are values with an infinite bound, not errors.
  Run nan("(-g) ^ 0.5", 1);
  REQUIRE(nan.step({1.0}, 1));
  CHECK(std::isnan(nan.u()));
  CHECK(std::isinf(nan.update[0].bound));
  Run inf("log(g)", 1);
  REQUIRE(inf.step({0.0}, 1));
  CHECK(std::isinf(inf.u()));
  CHECK(std::isinf(inf.update[0].bound));
}

TEST_CASE("ema semantics", "[reference]") {
  // Raw average, no bias correction: after one step, (1 - beta) g.
  CHECK(valueOf("ema(g, 0.9)", 2) == Approx(0.2));
  // The right operand of left() is still evaluated, so its ema updates.
  Run l("left(g, ema(g, 0.5))", 1);
  REQUIRE(l.step({4.0}, 1));
  CHECK(l.u() == 4.0);
  CHECK(l.state[0][0] == 2.0);
  // A shared ema is updated once per step, not once per occurrence.
  Run s("ema(g, 0.5) + ema(g, 0.5)", 1);
  REQUIRE(s.state.size() == 1);
  REQUIRE(s.step({4.0}, 1));
  CHECK(s.state[0][0] == 2.0);
  CHECK(s.u() == 4.0);
  REQUIRE(s.step({4.0}, 2));
  CHECK(s.state[0][0] == 3.0);
  CHECK(s.u() == 6.0);
}

TEST_CASE("schedules", "[reference]") {
  // The update of step t reads the schedule at t - 1 (TF contrib's global
  // step before its increment).
  Hyper h;
  h.totalSteps = 100;
  CHECK(valueOf("ld", 0, 1, h) == 1.0);
  CHECK(valueOf("ld", 0, 26, h) == Approx(0.75));
  CHECK(valueOf("ld", 0, 100, h) == Approx(0.01));
  CHECK(valueOf("ld", 0, 150, h) == 0.0);
  CHECK(valueOf("cd", 0, 26, h) == Approx(0.5 * (1 + std::cos(M_PI / 4))));
  CHECK(valueOf("cd", 0, 101, h) == Approx(0.0).margin(1e-15));
  CHECK(valueOf("cd(2)", 0, 26, h) == Approx(0.0).margin(1e-15));
  CHECK(valueOf("rd", 0, 51, h) == Approx(0.5));
  CHECK(valueOf("rd", 0, 100, h) < 0.001); // no restart within T updates
  CHECK(valueOf("rd(2)", 0, 76, h) == Approx(0.5));
  CHECK(valueOf("rd(2)", 0, 51, h) == Approx(1.0));
  CHECK(valueOf("ld * g", 2, 51, h) == Approx(1.0));
}

TEST_CASE("a schedule without total steps is an error", "[reference]") {
  Run r("ld * g", 2, 3.0);
  Hyper h;
  CHECK(r.ref.check(h) ==
        "the rule uses the schedule 'ld', which needs the total number of "
        "steps, but Hyper::totalSteps is 0");
  CHECK_FALSE(r.step({1.0, 1.0}, 1, h));
  CHECK(r.w == std::vector<double>{3.0, 3.0});
  h.totalSteps = 10;
  CHECK(r.ref.check(h).empty());
  CHECK(r.step({1.0, 1.0}, 1, h));
  CHECK(Reference(parse("g")).check(Hyper{}).empty());
  // Other misuse is refused too.
  CHECK_FALSE(r.step({1.0, 1.0}, 0, h));
  Run wrong("m", 1);
  wrong.state.clear();
  CHECK_FALSE(wrong.step({1.0}, 1));
}

TEST_CASE("noise follows the RNG contract", "[reference][random]") {
  Hyper h;
  h.seed = 1234;
  const size_t n = 100000;
  Run r("noise", n);
  REQUIRE(r.step(std::vector<double>(n, 0.0), 7, h));
  double sum = 0, sq = 0;
  for (size_t i = 0; i < n; ++i) {
    sum += r.u(i);
    sq += r.u(i) * r.u(i);
  }
  double mean = sum / n, sd = std::sqrt(sq / n - mean * mean);
  CHECK(std::fabs(mean) < 0.002);
  CHECK(sd == Approx(0.1).epsilon(0.01));

  // Exactly the documented draw: counter (index, step, node), key seed.
  auto bits = philox4x32(5, 7, 0, 1234);
  CHECK(r.u(5) == 0.1 * normalFromBits(bits[0], bits[1]));

  // Same seed, same numbers; a slice with rngBase draws what it would draw
  // in a whole-tensor call.
  Run again("noise", 10), slice("noise", 5);
  REQUIRE(again.step(std::vector<double>(10, 0.0), 7, h));
  REQUIRE(slice.step(std::vector<double>(5, 0.0), 7, h, 5));
  for (size_t i = 0; i < 5; ++i) {
    CHECK(again.u(i) == r.u(i));
    CHECK(slice.u(i) == r.u(i + 5));
  }
  h.seed = 1235;
  Run other("noise", 10);
  REQUIRE(other.step(std::vector<double>(10, 0.0), 7, h));
  CHECK(other.u(0) != r.u(0));
}

TEST_CASE("anoise is annealed", "[reference][random]") {
  const size_t n = 100000;
  Run r("anoise", n);
  REQUIRE(r.step(std::vector<double>(n, 0.0), 99, Hyper{}));
  double sq = 0;
  for (size_t i = 0; i < n; ++i)
    sq += r.u(i) * r.u(i);
  CHECK(std::sqrt(sq / n) == Approx(std::pow(100.0, -0.275)).epsilon(0.01));
}

TEST_CASE("stochastic nodes are numbered in pre-order", "[reference][random]") {
  Hyper h;
  h.seed = 9;
  Run r("drop(noise, 0.5) - noise", 64);
  REQUIRE(r.step(std::vector<double>(64, 0.0), 3, h));
  for (uint64_t i = 0; i < 64; ++i) {
    auto drop = philox4x32(i, 3, 0, 9), first = philox4x32(i, 3, 1, 9),
         second = philox4x32(i, 3, 2, 9);
    double kept = uniformFromBits(drop[0]) >= 0.5f
                      ? 0.1 * normalFromBits(first[0], first[1])
                      : 0.0;
    CHECK(r.u(i) == kept - 0.1 * normalFromBits(second[0], second[1]));
  }
}

TEST_CASE("drop rate is p", "[reference][random]") {
  const size_t n = 100000;
  for (double p : {0.1, 0.3, 0.5}) {
    Run r("drop(1, " + std::to_string(p) + ")", n);
    REQUIRE(r.step(std::vector<double>(n, 0.0), 1, Hyper{}));
    size_t dropped = 0;
    for (size_t i = 0; i < n; ++i) {
      CHECK((r.u(i) == 0.0 || r.u(i) == 1.0));
      dropped += r.u(i) == 0.0;
    }
    CHECK(static_cast<double>(dropped) / n == Approx(p).margin(0.01));
  }
}

TEST_CASE("round-to-float mode", "[reference]") {
  Run r("g / 3 + 0.1", 1);
  r.ref.setRoundToFloat(true);
  REQUIRE(r.step({1.0}, 1));
  double u = r.u();
  CHECK(static_cast<double>(static_cast<float>(u)) == u);
  CHECK(u == Approx(1.0 / 3 + 0.1).epsilon(1e-6));
  CHECK(u != 1.0 / 3 + 0.1);
  CHECK(static_cast<double>(static_cast<float>(r.w[0])) == r.w[0]);
}

TEST_CASE("the bound covers f32 rounding of generated rules",
          "[reference][bound]") {
  std::mt19937_64 rng(42);
  Hyper h;
  h.totalSteps = 1000;
  h.seed = 3;
  int finite = 0, total = 0;
  double maxRatio = 0;
  for (int k = 0; k < 1500; ++k) {
    ExprPtr rule = test::randomTokenRule(rng, 1 + k % 5);
    REQUIRE(rule);
    Reference exact(rule), rounded(rule);
    rounded.setRoundToFloat(true);
    const size_t n = 16;
    auto g = randomGradients(rng, n);
    auto s0 = randomGradients(rng, n);
    for (double &x : s0) // v-like slots want non-negative values
      x = std::fabs(x);
    size_t slots = exact.layout().stateSlots.size();
    std::vector<std::vector<double>> se(slots, s0), sr(slots, s0);
    std::vector<double *> pe, pr;
    for (size_t j = 0; j < slots; ++j) {
      pe.push_back(se[j].data());
      pr.push_back(sr[j].data());
    }
    std::vector<double> we(n, 0.5), wr(n, 0.5);
    std::vector<RefValue> ue, ur;
    int64_t t = 1 + static_cast<int64_t>(rng() % 50);
    REQUIRE(exact.step(we.data(), g.data(), pe, n, 0, t, h, &ue));
    REQUIRE(rounded.step(wr.data(), g.data(), pr, n, 0, t, h, &ur));
    for (size_t i = 0; i < n; ++i) {
      ++total;
      if (!(ue[i].bound < 1e300))
        continue;
      if (std::isnan(ue[i].value) && std::isnan(ur[i].value))
        continue; // NaN in both modes is agreement
      ++finite;
      INFO(printRule(*rule) << " at g=" << g[i] << ": " << ue[i].value << " vs "
                            << ur[i].value << ", bound " << ue[i].bound);
      double diff = std::fabs(ue[i].value - ur[i].value);
      CHECK(diff <= 2 * ue[i].bound);
      if (diff > 0)
        maxRatio = std::max(maxRatio, diff / ue[i].bound);
    }
  }
  // The bound must be useful, not infinite everywhere.
  CHECK(finite > total / 2);
  // ... and tight enough that real rounding errors come close to it.
  CHECK(maxRatio > 0.1);
}
