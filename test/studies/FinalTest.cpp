//===- FinalTest.cpp - The final table: choice on validation, test after --===//
//
// The lr choice and the distance in standard errors on values worked out
// by hand; then a whole table on the cheap logistic task: the test split is
// read by the test-seed runs and by nothing else, a second run continues
// from final.jsonl and trains nothing, and a line cut by a kill is dropped.
//
//===----------------------------------------------------------------------===//
#include "nos/studies/Final.h"
#include "nos/studies/MetaValidation.h"
#include "nos/train/Trainer.h"

#include "../torch/TempDir.h"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

using namespace nos;
using namespace nos::studies;
using nos::test::TempDir;

namespace {
FinalRecord tuned(double lr, double validation) {
  FinalRecord r;
  r.phase = "tune", r.status = "ok", r.lr = lr, r.validation = validation;
  return r;
}

std::vector<std::string> linesOf(const std::string &path) {
  std::ifstream in(path);
  std::vector<std::string> out;
  for (std::string line; std::getline(in, line);)
    out.push_back(line);
  return out;
}
} // namespace

TEST_CASE("the lr is the best mean on validation, in the metric's direction",
          "[studies]") {
  std::vector<FinalRecord> runs = {tuned(0.1, 0.80), tuned(0.1, 0.90),
                                   tuned(1.0, 0.86), tuned(1.0, 0.86),
                                   tuned(0.01, NAN)};
  std::vector<double> lrs = {0.01, 0.1, 1.0};
  report::Metric accuracy = report::metricNamed("accuracy");
  report::Metric bpc = report::metricNamed("bits-per-char");
  CHECK(chooseLr(runs, lrs, accuracy).lr == 1.0); // 0.86 over 0.85
  CHECK(chooseLr(runs, lrs, accuracy).mean == Approx(0.86));
  CHECK(chooseLr(runs, lrs, bpc).lr == 0.1); // 0.85 bits under 0.86
  // Equal means: the first lr of the grid; nothing measured: the first.
  CHECK(chooseLr({tuned(1.0, 0.5), tuned(0.1, 0.5)}, lrs, accuracy).lr == 0.1);
  CHECK(chooseLr({}, lrs, accuracy).lr == 0.01);
  CHECK_THROWS(chooseLr(runs, {}, accuracy));
}

namespace {
/// Tuning records of seeds 1 and 2 at `lrs`, valued by `f`.
void measure(std::vector<FinalRecord> &runs, std::vector<double> lrs,
             double (*f)(double)) {
  for (double lr : lrs)
    for (uint64_t seed : {1, 2}) {
      runs.push_back(tuned(lr, f(lr)));
      runs.back().seed = seed;
    }
}
double peakAt9(double lr) { return -std::abs(std::log(lr / 9)); }
double peakAt001(double lr) { return -std::abs(std::log(lr / 0.01)); }
} // namespace

TEST_CASE("the tuning grid goes on past an end while the best lies there",
          "[studies]") {
  const std::vector<double> grid = {0.1, 0.3, 1, 3};
  const std::vector<uint64_t> seeds = {1, 2};
  report::Metric accuracy = report::metricNamed("accuracy");
  std::vector<FinalRecord> runs;
  std::vector<double> missing;
  // Nothing measured: the grid, all of it missing, nothing past it.
  CHECK(tuningLrs(runs, grid, 3, seeds, accuracy, missing) == grid);
  CHECK(missing == grid);
  measure(runs, grid, peakAt9);
  using Lrs = std::vector<double>;
  CHECK(tuningLrs(runs, grid, 3, seeds, accuracy, missing) ==
        Lrs{0.1, 0.3, 1, 3, 9});
  CHECK(missing == Lrs{9});
  // One seed of two is not enough to decide the next point.
  runs.push_back(tuned(9, peakAt9(9)));
  runs.back().seed = 1;
  tuningLrs(runs, grid, 3, seeds, accuracy, missing);
  CHECK(missing == Lrs{9});
  runs.push_back(tuned(9, peakAt9(9)));
  runs.back().seed = 2;
  CHECK(tuningLrs(runs, grid, 3, seeds, accuracy, missing).back() == 27);
  CHECK(missing == Lrs{27});
  // 27 is worse: 9 is inside the points tried, and chosen.
  measure(runs, {27}, peakAt9);
  Lrs lrs = tuningLrs(runs, grid, 3, seeds, accuracy, missing);
  CHECK(lrs == Lrs{0.1, 0.3, 1, 3, 9, 27});
  CHECK(missing.empty());
  CHECK(chooseLr(runs, lrs, accuracy).lr == 9);
  // The cap, and 0 for the grid alone.
  CHECK(tuningLrs(runs, grid, 1, seeds, accuracy, missing) ==
        Lrs{0.1, 0.3, 1, 3, 9});
  CHECK(missing.empty());
  CHECK(tuningLrs(runs, grid, 0, seeds, accuracy, missing) == grid);
  // Bits per character: lower is better, so the best is at the low end.
  report::Metric bpc = report::metricNamed("bits-per-char");
  std::vector<FinalRecord> text;
  measure(text, grid, [](double lr) { return std::abs(std::log(lr / 9)); });
  CHECK(tuningLrs(text, grid, 3, seeds, bpc, missing).back() == 9);
  // Downwards, rounded to 12 digits (0.1 x 0.1 / 0.3).
  std::vector<FinalRecord> low;
  measure(low, grid, peakAt001);
  tuningLrs(low, grid, 3, seeds, accuracy, missing);
  REQUIRE(missing.size() == 1);
  CHECK(missing[0] == 0.0333333333333);
  // A point past the end that diverged ends the extension there.
  measure(low, {0.0333333333333}, [](double) { return double(NAN); });
  CHECK(tuningLrs(low, grid, 3, seeds, accuracy, missing).size() == 5);
  CHECK(missing.empty());
  CHECK(chooseLr(low, grid, accuracy).lr == 0.1);
}

TEST_CASE("ahead by standard errors of the difference", "[studies]") {
  report::Metric accuracy = report::metricNamed("accuracy");
  report::Metric bpc = report::metricNamed("bits-per-char");
  // Means 2 and 1, each variance 1 over 2 values: se = sqrt(1/2 + 1/2) = 1.
  std::vector<double> rule = {1.293, 2.707}, reference = {0.293, 1.707};
  CHECK(aheadBy(rule, reference, accuracy) == Approx(1.0).epsilon(1e-3));
  CHECK(aheadBy(rule, reference, bpc) == Approx(-1.0).epsilon(1e-3));
  CHECK(aheadBy(rule, rule, accuracy) == 0);
  CHECK(std::isnan(aheadBy({}, reference, accuracy)));
}

TEST_CASE("a final table reads test splits only in its test runs",
          "[studies]") {
  TempDir dir;
  FinalOptions o;
  o.dir = dir.path;
  o.rules = {"sign(g) * sqrt(sqrt(g2))"};
  o.tasks = {"logistic"};
  o.lrs = {0.01, 0.1};
  o.tuneSeeds = 1, o.seeds = 2, o.workers = 2;
  // Each rule's best lies at one end of a two-point grid, so each tries
  // one lr past it (validation only, as the grid); none does better there.
  const size_t rules = 7, tuning = rules * 3, tests = rules * 2;

  uint64_t before = train::testEvaluations();
  REQUIRE(runFinal(o) == 0);
  CHECK(train::testEvaluations() - before == tests);
  std::vector<std::string> lines = linesOf(dir.file("final.jsonl"));
  REQUIRE(lines.size() == tuning + tests);
  size_t tested = 0;
  for (const std::string &line : lines) {
    nlohmann::json j = nlohmann::json::parse(line);
    bool test = j["phase"] == "test";
    CHECK(j["test"].is_null() == !test); // tuning never scores the test split
    tested += test;
  }
  CHECK(tested == tests);

  nlohmann::json table;
  std::ifstream(dir.file("final.json")) >> table;
  nlohmann::json rows = table["tasks"]["logistic"]["rows"];
  REQUIRE(rows.size() == rules);
  for (const nlohmann::json &row : rows)
    CHECK(row["tests"].size() == 2);

  // Continued: nothing trains again. Cut the last line as a kill would:
  // only that run is trained again.
  REQUIRE(runFinal(o) == 0);
  CHECK(linesOf(dir.file("final.jsonl")).size() == lines.size());
  {
    std::ofstream out(dir.file("final.jsonl"));
    for (size_t i = 0; i + 1 < lines.size(); ++i)
      out << lines[i] << "\n";
    out << lines.back().substr(0, lines.back().size() / 2);
  }
  before = train::testEvaluations();
  REQUIRE(runFinal(o) == 0);
  CHECK(linesOf(dir.file("final.jsonl")).size() == lines.size());
  CHECK(train::testEvaluations() - before == 1);
}

TEST_CASE("meta-validation points spread over the successive bests",
          "[studies]") {
  std::vector<BestSoFar> bests;
  for (int i = 0; i < 10; ++i)
    bests.push_back({double(i), 0.1 * i, "rule" + std::to_string(i)});
  std::vector<BestSoFar> four = spreadPoints(bests, 4);
  REQUIRE(four.size() == 4);
  CHECK(four.front().rule == "rule0");
  CHECK(four.back().rule == "rule9"); // the run's best is always scored
  CHECK(four[1].rule == "rule3");
  CHECK(four[2].rule == "rule6");
  CHECK(spreadPoints(bests, 20).size() == 10);
  CHECK(spreadPoints({}, 4).empty());
}

TEST_CASE("a continued final table is the table of the first run",
          "[studies]") {
  // A language run that explodes before its first validation has no finite
  // metric; the log writes it as null, and the first run must see what a
  // resume reads (it printed inf, and the continued table nan).
  TempDir text, dir;
  {
    std::ofstream db(text.file("abc"));
    for (int i = 0; i < 4000; ++i)
      db << "abcdefghijklmnopqrstuvwxyz\n%\n";
    std::ofstream(text.file("abc.dat")) << "index";
  }
  ::setenv("NOS_FORTUNES_DIR", text.path.c_str(), 1);
  FinalOptions o;
  o.dir = dir.path;
  o.rules = {"exp(exp(exp(g))) * 1000000"};
  o.tasks = {"charlm"};
  o.lrs = {3};
  o.tuneSeeds = 1, o.seeds = 2, o.workers = 2;
  REQUIRE(runFinal(o) == 0);
  std::ifstream first(dir.file("final.txt"));
  std::string once(std::istreambuf_iterator<char>(first), {});
  REQUIRE(runFinal(o) == 0);
  std::ifstream second(dir.file("final.txt"));
  std::string again(std::istreambuf_iterator<char>(second), {});
  ::unsetenv("NOS_FORTUNES_DIR");
  CHECK(once.find("exp(exp(exp(g))) * 1000000") != std::string::npos);
  CHECK(again == once);
}
