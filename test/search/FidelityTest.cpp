//===- FidelityTest.cpp - Rank correlation and the named proxies ----------===//
//
// Spearman's rho on inputs whose value is known by hand (ties included),
// and the proxy presets: known names resolve, unknown ones are refused with
// the list, and the default proxy is one of them.
//
//===----------------------------------------------------------------------===//
#include "nos/search/Fidelity.h"

#include <catch2/catch.hpp>

using namespace nos::search;

TEST_CASE("spearman's rho on known rankings", "[search]") {
  CHECK(spearman({1, 2, 3, 4}, {10, 20, 30, 40}) == Approx(1));
  CHECK(spearman({1, 2, 3, 4}, {4, 3, 2, 1}) == Approx(-1));
  CHECK(spearman({1, 5, 2, 9}, {0.1, 0.7, 0.3, 0.8}) == Approx(1));
  // Average ranks for the tie: 4.5 / sqrt(4.5 * 5).
  CHECK(spearman({1, 2, 2, 3}, {1, 2, 3, 4}) == Approx(0.9486833));
  CHECK(spearman({1, 1, 1}, {1, 2, 3}) == 0);
  CHECK(spearman({1, 2}, {1, 2, 3}) == 0);
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
