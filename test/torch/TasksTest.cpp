//===- TasksTest.cpp - The task suite, its text task and test splits ------===//
//
// The suite's names and the errors of a missing data file; the fortune
// reader on small databases written here (the deal is a partition, fixed
// by the seed); the language model learning a text whose answer is known;
// and the test split: read only by runs that ask, counted, and never the
// thing a comparison chooses by.
//
//===----------------------------------------------------------------------===//
#include "nos/train/Tasks.h"
#include "nos/report/Runs.h"
#include "nos/train/Data.h"
#include "nos/train/Text.h"

#include "TempDir.h"

#include <catch2/catch.hpp>
#include <torch/torch.h>

#include <algorithm>
#include <fstream>
#include <set>
#include <string>
#include <vector>

using namespace nos;
using Catch::Matchers::Contains;
using nos::test::TempDir;

namespace {

/// A fortune database: the fortunes, each ended by a "%" line, and an
/// index file beside it (only its presence matters to the reader).
void writeDatabase(const TempDir &dir, const std::string &name,
                   const std::vector<std::string> &fortunes) {
  std::ofstream text(dir.file(name));
  for (const std::string &f : fortunes)
    text << f << "\n%\n";
  std::ofstream(dir.file(name + ".dat")) << "index";
}

std::vector<std::string> numbered(const std::string &prefix, int n) {
  std::vector<std::string> out;
  for (int i = 0; i < n; ++i)
    out.push_back(prefix + " number " + std::to_string(i) + ".");
  return out;
}

/// The fortunes of one split, as the reader joined them.
std::multiset<std::string> fortunesOf(const std::string &part) {
  std::multiset<std::string> out;
  size_t start = 0, end;
  while ((end = part.find("\n\n", start)) != std::string::npos) {
    out.insert(part.substr(start, end - start));
    start = end + 2;
  }
  return out;
}

train::TaskSpec logisticSpec() {
  train::TaskSpec spec;
  spec.dataset = "logistic";
  spec.trainSize = 2000, spec.validationSize = 500, spec.testSize = 1000;
  spec.hidden = {16};
  return spec;
}

} // namespace

TEST_CASE("the suite names each task once, and unknown names are refused",
          "[tasks]") {
  std::set<std::string> names;
  for (const train::SuiteTask &t : train::taskSuite()) {
    CHECK(names.insert(t.name).second);
    CHECK(t.spec.name == t.name);
    CHECK(&train::suiteTask(t.name) != nullptr);
  }
  for (const char *expected : {"fmnist-mlp", "fmnist-convnet", "charlm",
                               "logistic", "cifar10-convnet"})
    CHECK(names.count(expected) == 1);
  CHECK_THROWS_WITH(train::suiteTask("mnist"),
                    Contains("unknown task 'mnist'") && Contains("charlm"));
  CHECK(train::suiteTask("fmnist-mlp").config().epochs == 3);
}

TEST_CASE("characters map to 97 classes", "[tasks]") {
  CHECK(train::charClass('\n') == 0);
  CHECK(train::charClass(' ') == 1);
  CHECK(train::charClass('~') == 95);
  for (unsigned char c : {'\t', '\b', char(0xc3), char(0x7f)})
    CHECK(train::charClass(c) == train::kTextClasses - 1);
}

TEST_CASE("fortunes are dealt whole to three splits by the seed", "[tasks]") {
  TempDir dir;
  writeDatabase(dir, "b-topic", numbered("Bee", 300));
  writeDatabase(dir, "a-topic", numbered("Ant", 300));
  std::ofstream(dir.file("README")) << "not a database: no README.dat\n";

  train::TextSplits t = train::loadFortunes(dir.path, 0);
  CHECK(t.files == std::vector<std::string>{"a-topic", "b-topic"});
  std::multiset<std::string> all, train_ = fortunesOf(t.train),
                                  validation = fortunesOf(t.validation),
                                  test = fortunesOf(t.test);
  for (auto *part : {&train_, &validation, &test})
    all.insert(part->begin(), part->end());
  CHECK(all.size() == 600); // each fortune once: a partition
  CHECK(std::set<std::string>(all.begin(), all.end()).size() == 600);
  CHECK(all.count("README") == 0);
  // 1 in 20 to each held-out part: 30 expected of 600.
  CHECK(test.size() > 10);
  CHECK(test.size() < 60);
  CHECK(validation.size() > 10);
  CHECK(validation.size() < 60);
  CHECK(train::loadFortunes(dir.path, 0).test == t.test);
  CHECK(train::loadFortunes(dir.path, 1).test != t.test);
}

TEST_CASE("missing or damaged fortune files name the file and the package",
          "[tasks]") {
  TempDir dir;
  CHECK_THROWS_WITH(train::loadFortunes(dir.path + "/none", 0),
                    Contains(dir.path + "/none") && Contains("fortunes"));
  CHECK_THROWS_WITH(train::loadFortunes(dir.path, 0),
                    Contains("no fortune database"));
  std::ofstream(dir.file("broken")) << "one fortune and no separator\n";
  std::ofstream(dir.file("broken.dat")) << "index";
  CHECK_THROWS_WITH(train::loadFortunes(dir.path, 0),
                    Contains(dir.file("broken")) &&
                        Contains("not a fortune database") &&
                        Contains("`fortunes` package"));
}

TEST_CASE("text windows are followed by their next characters", "[tasks]") {
  train::Dataset d = train::textSequences("abcdefghij", 3, "t");
  REQUIRE(d.size() == 3); // (10 - 1) / 3
  CHECK(d.inputs.sizes() == torch::IntArrayRef{3, 3});
  CHECK(d.inputs[0][0].item<int64_t>() == train::charClass('a'));
  CHECK(d.labels[0][0].item<int64_t>() == train::charClass('b'));
  CHECK(d.labels[2][2].item<int64_t>() == train::charClass('j'));
  CHECK(d.classes == train::kTextClasses);
  CHECK_THROWS_WITH(train::textSequences("ab", 3, "short"), Contains("short"));
}

TEST_CASE("the language model learns a text with a known answer", "[tasks]") {
  // Each fortune is the alphabet: after one epoch the next letter is
  // nearly certain, far below the 6.6 bits of a uniform guess.
  TempDir dir;
  writeDatabase(dir, "abc",
                std::vector<std::string>(400, "abcdefghijklmnopqrstuvwxyz"));
  train::TaskSpec spec = train::suiteTask("charlm").spec;
  spec.dataDir = dir.path;
  spec.hidden = {32}, spec.embedding = 8, spec.sequenceLength = 16;
  train::Task task(spec);
  CHECK(task.metric() == "bits-per-char");
  train::TrainConfig config;
  config.rule = "adam", config.lr = 0.01, config.batchSize = 16;
  config.epochs = 2, config.evaluateTest = true;
  train::RunResult r = task.run(config);
  REQUIRE(r.status == "ok");
  CHECK(task.metricValue(r.bestValidationLoss, 0) < 1.0);
  REQUIRE(r.tested);
  CHECK(task.metricValue(r.testLoss, 0) < 1.0);
  CHECK(r.testAccuracy > 0.7);
}

TEST_CASE("the test split is scored only when asked, once a run ends",
          "[tasks]") {
  train::Task task(logisticSpec());
  train::TrainConfig config;
  config.rule = "adam", config.lr = 0.01, config.epochs = 2;

  uint64_t before = train::testEvaluations();
  train::RunResult plain = task.run(config);
  CHECK_FALSE(plain.tested);
  CHECK(std::isnan(plain.testAccuracy));
  CHECK(train::testEvaluations() == before);

  config.evaluateTest = true;
  train::ChildRun child(task, config);
  CHECK_FALSE(child.advanceTo(child.totalSteps() / 2).tested); // a pause
  CHECK(train::testEvaluations() == before);
  const train::RunResult &done = child.advanceTo(child.totalSteps());
  REQUIRE(done.tested);
  CHECK(train::testEvaluations() == before + 1);
  // Fresh points of the same hyperplane: as learnable as validation.
  CHECK(done.testAccuracy > 0.85);
  // Asking changes no step of training.
  REQUIRE(done.curve.size() == plain.curve.size());
  CHECK(done.curve.back().validationLoss == plain.curve.back().validationLoss);
}

TEST_CASE("a missing data file names the task, the file and the package",
          "[tasks]") {
  train::TaskSpec spec = train::suiteTask("fmnist-mlp").spec;
  spec.dataDir = "/nonexistent/fashion";
  CHECK_THROWS_WITH(train::Task(spec),
                    Contains("task 'fmnist-mlp'") &&
                        Contains("/nonexistent/fashion/train-images") &&
                        Contains("dataset-fashion-mnist"));
}

TEST_CASE("the lr is chosen on validation; test only reports", "[tasks]") {
  auto run = [](double lr, double validationLoss, double testLoss) {
    train::RunResult r{"ok"};
    r.bestValidationLoss = validationLoss;
    r.tested = true, r.testLoss = testLoss;
    return report::Run{"rule", lr, 0, r};
  };
  // lr 1 has the better test loss, lr 0.1 the better validation loss.
  std::vector<report::Run> runs = {run(0.1, 1.0, 2.0), run(1.0, 1.5, 0.5)};
  report::Metric bpc = report::metricNamed("bits-per-char");
  std::vector<report::Summary> s = report::summarize(runs, bpc);
  REQUIRE(s.size() == 1);
  CHECK(s[0].lr == 0.1);
  CHECK(s[0].mean == Approx(1.0 / std::log(2.0)));
  CHECK(s[0].testMean == Approx(2.0 / std::log(2.0)));
  CHECK(s[0].tested == 1);
  CHECK_THROWS_WITH(report::metricNamed("perplexity"),
                    Contains("unknown metric"));
}

// The objectives minimised directly: a known answer on Rosenbrock (Adam at
// a large lr reaches far lower than SGD at the lr it needs to stay stable;
// ascent diverges), common random numbers (a seed repeats its gradient
// noise, another seed draws other noise), their metric, and no rungs.
TEST_CASE("objective tasks are minimised directly, with seeded noise",
          "[tasks]") {
  train::Task rosen(train::suiteTask("rosenbrock").spec);
  CHECK(rosen.metric() == "log10-loss");
  CHECK(rosen.stepsPerEpoch(128) == 100);
  CHECK_THAT(rosen.describe(), Contains("rosenbrock-10"));
  auto run = [](const train::Task &task, const char *rule, double lr,
                uint64_t seed) {
    train::TrainConfig config;
    config.rule = rule, config.lr = lr, config.seed = seed, config.epochs = 5;
    return task.run(config);
  };
  report::Metric metric = report::metricNamed(rosen.metric());
  train::RunResult adam = run(rosen, "adam", 1, 0);
  train::RunResult sgd = run(rosen, "sgd", 0.001, 0);
  REQUIRE(adam.status == "ok");
  REQUIRE(sgd.status == "ok");
  CHECK(adam.steps == 500);
  CHECK(adam.curve.size() == 5);
  // From f(-1.2, 1, ...) = 24.2 * 5 = 121 (log10 2.08).
  CHECK(metric.validation(sgd) < 2.08);
  CHECK(metric.validation(adam) < metric.validation(sgd) - 1);
  CHECK(run(rosen, "-g", 0.01, 0).status == "diverged");

  train::Task noisy(train::suiteTask("noisy-quadratic").spec);
  train::RunResult a = run(noisy, "sgd", 0.1, 1), b = run(noisy, "sgd", 0.1, 1),
                   c = run(noisy, "sgd", 0.1, 2);
  CHECK(a.finalValidationLoss == b.finalValidationLoss);
  CHECK(a.finalValidationLoss != c.finalValidationLoss);
  train::TrainConfig tested;
  tested.lr = 0.1, tested.evaluateTest = true;
  train::RunResult t = noisy.run(tested);
  CHECK(t.tested);
  CHECK(metric.test(t) == metric.validation(t));

  CHECK_THROWS_WITH(train::ChildRun(noisy, {}), Contains("runs whole"));
}
