//===- FidelityTest.cpp - Rank correlation and the named proxies ----------===//
//
// Spearman's rho on inputs whose value is known by hand (ties included),
// and the proxy presets: known names resolve, unknown ones are refused with
// the list, and the default proxy is one of them.
//
//===----------------------------------------------------------------------===//
#include "nos/studies/Fidelity.h"
#include "nos/report/Plot.h"
#include "nos/search/Settings.h"
#include "nos/studies/LevelFidelity.h"
#include "nos/train/Proxy.h"

#include <catch2/catch.hpp>

#include <cmath>

using namespace nos::search;
using namespace nos::studies;
using namespace nos::train;

TEST_CASE("spearman's rho on known rankings", "[search]") {
  CHECK(spearman({1, 2, 3, 4}, {10, 20, 30, 40}) == Approx(1));
  CHECK(spearman({1, 2, 3, 4}, {4, 3, 2, 1}) == Approx(-1));
  CHECK(spearman({1, 5, 2, 9}, {0.1, 0.7, 0.3, 0.8}) == Approx(1));
  // Average ranks for the tie: 4.5 / sqrt(4.5 * 5).
  CHECK(spearman({1, 2, 2, 3}, {1, 2, 3, 4}) == Approx(0.9486833));
  CHECK(spearman({1, 1, 1}, {1, 2, 3}) == 0);
  CHECK(spearman({1, 2}, {1, 2, 3}) == 0);
}

TEST_CASE("a level to measure is read from its short form", "[search]") {
  nos::search::LevelSpec l = parseLevel("text=fmnist-mlp+charlm-s:2", {0.1, 1});
  CHECK(l.name == "text");
  CHECK(l.tasks == std::vector<std::string>{"fmnist-mlp", "charlm-s"});
  CHECK(l.seeds == 2);
  CHECK(l.lrs == std::vector<double>{0.1, 1});
  CHECK(parseLevel("one=logistic:1", {0.1}).tasks.size() == 1);
  CHECK(l.firstSeed == 0);
  nos::search::LevelSpec late = parseLevel("L4=logistic:6@8", {0.1});
  CHECK(late.seeds == 6);
  CHECK(late.firstSeed == 8);
  CHECK(late.seedList().front() == 8);
  CHECK_THROWS_WITH(parseLevel("x=logistic:2@", {0.1}),
                    Catch::Contains("the first seed is not a number"));
  CHECK_THROWS_WITH(parseLevel("x=logistic:2@-1", {0.1}),
                    Catch::Contains("not in 0..1000000"));
  CHECK_THROWS_WITH(parseLevel("text=mnist:2", {0.1}),
                    Catch::Contains("unknown task 'mnist'"));
  CHECK_THROWS_WITH(parseLevel("logistic:2", {0.1}),
                    Catch::Contains("not of the form"));
  CHECK_THROWS_WITH(parseLevel("x=logistic:two", {0.1}),
                    Catch::Contains("not a number"));
  CHECK_THROWS_WITH(parseLevel("x=logistic:0", {0.1}),
                    Catch::Contains("not in 1..100"));
}

TEST_CASE("average ranks share ties and skip what is not finite", "[search]") {
  std::vector<double> r = averageRanks({3, NAN, 1, 3, INFINITY, 2});
  CHECK(r[0] == 2.5);
  CHECK(r[2] == 0);
  CHECK(r[3] == 2.5);
  CHECK(r[5] == 1);
  CHECK(std::isnan(r[1]));
  CHECK(std::isnan(r[4]));
}

TEST_CASE("spearman's rho over the finite pairs only", "[search]") {
  // The NaN pairs are dropped: what is left is perfectly ordered.
  CHECK(finiteSpearman({1, NAN, 2, 3, 4}, {5, 0, 6, 7, NAN}) == Approx(1));
  CHECK(finiteSpearman({3, 2, 1, NAN}, {1, 2, 3, 9}) == Approx(-1));
  CHECK(std::isnan(finiteSpearman({1, 2, NAN}, {1, 2, 3})));
}

TEST_CASE("proxies are known by name", "[search]") {
  CHECK(proxyPreset("full").task.trainSize == 0);
  CHECK(proxyPreset("12k").rungs == 1);
  CHECK(proxyPreset("12k-pool").task.pool == 2);
  CHECK(proxyPresets().count(defaultProxyName()));
  CHECK(proxyJson(proxyPreset(defaultProxyName())) == proxyJson(ProxySpec{}));
  try {
    proxyPreset("huge");
    FAIL("an unknown proxy was accepted");
  } catch (const std::invalid_argument &e) {
    CHECK(std::string(e.what()).find("12k-halving") != std::string::npos);
  }
}

// The axes of every SVG report (nos/report/Plot.h).
TEST_CASE("plot ticks are round and cover the range", "[search][plot]") {
  using namespace nos::report;
  CHECK(niceTicks(0, 1000) == std::vector<double>{0, 200, 400, 600, 800, 1000});
  CHECK(niceTicks(0, 1170) == std::vector<double>{0, 200, 400, 600, 800, 1000});
  std::vector<double> rho = niceTicks(-0.4, 1.0);
  REQUIRE(rho.size() == 8);
  CHECK(rho.front() == Approx(-0.4));
  CHECK(rho[2] == 0.0);
  CHECK(rho.back() == Approx(1.0));
  std::vector<double> acc = niceTicks(0.62, 0.87);
  REQUIRE(acc.size() == 5); // 0.65 to 0.85 by 0.05
  CHECK(acc.front() == Approx(0.65));
  CHECK(acc.back() == Approx(0.85));
  CHECK(niceTicks(3, 3) == std::vector<double>{3});
  auto [lo, hi] = niceRange(0.613, 0.871);
  CHECK(lo == Approx(0.6));
  CHECK(hi == Approx(0.9));
  CHECK(logTicks(0.01, 1000) ==
        std::vector<double>{0.01, 0.1, 1, 10, 100, 1000});
  CHECK(logTicks(0.3, 20) == std::vector<double>{0.5, 1, 2, 5, 10, 20});
  CHECK(tickLabel(2000) == "2000");
  CHECK(tickLabel(0.25) == "0.25");
}

TEST_CASE("a plot panel draws a labelled grid", "[search][plot]") {
  nos::report::Panel panel{100, 50, 400, 200, 0, 1000, 0.5, 1.0};
  CHECK(panel.px(0) == 100);
  CHECK(panel.px(1000) == 500);
  CHECK(panel.py(0.5) == 250);
  CHECK(panel.py(1.0) == 50);
  std::string svg = panel.axes("step", "accuracy");
  // Six x ticks (0..1000 by 200) and six y ticks (0.5..1 by 0.1), each a
  // grid line, a tick mark and a number.
  auto count = [&](const std::string &what) {
    size_t n = 0;
    for (size_t at = svg.find(what); at != std::string::npos;
         at = svg.find(what, at + 1))
      ++n;
    return n;
  };
  CHECK(count("stroke=\"#e0e0e0\"") == 12);
  CHECK(count(">600</text>") == 1);
  CHECK(count(">0.7</text>") == 1);
  CHECK(count(">step</text>") == 1);
  CHECK(count(">accuracy</text>") == 1);
}
