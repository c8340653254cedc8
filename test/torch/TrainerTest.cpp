//===- TrainerTest.cpp - Child training and its reports -------------------===//
//
// Small runs on synthetic data (seconds): determinism for a seed, divergence
// detection on a rule that blows up, learning on a learnable task, and the
// lr selection of the comparison table.
//
//===----------------------------------------------------------------------===//
#include "nos/train/Trainer.h"
#include "nos/report/Runs.h"

#include "../CudaSkip.h"

#include <catch2/catch.hpp>

#include <cmath>

using namespace nos;

namespace {
train::TaskSpec logisticTask() {
  train::TaskSpec spec;
  spec.dataset = "logistic";
  spec.trainSize = 2000;
  spec.validationSize = 500;
  spec.hidden = {16};
  return spec;
}
} // namespace

TEST_CASE("training is deterministic for a seed", "[trainer]") {
  train::Task task(logisticTask());
  train::TrainConfig config;
  config.rule = "adam + 0.001 * noise";
  config.lr = 0.01;
  config.seed = 3;
  train::RunResult a = task.run(config), b = task.run(config);
  REQUIRE(a.curve.size() == b.curve.size());
  REQUIRE_FALSE(a.curve.empty());
  for (size_t i = 0; i < a.curve.size(); ++i)
    CHECK(a.curve[i].validationLoss == b.curve[i].validationLoss);
  config.seed = 4;
  CHECK(task.run(config).curve.back().validationLoss !=
        a.curve.back().validationLoss);
}

TEST_CASE("a learnable task is learned", "[trainer]") {
  train::Task task(logisticTask());
  train::TrainConfig config;
  config.rule = "adam";
  config.lr = 0.01;
  config.epochs = 3;
  train::RunResult result = task.run(config);
  CHECK(result.status == "ok");
  // The labels are a hyperplane with 5% flipped: far above chance.
  CHECK(result.bestValidationAccuracy > 0.85);
  CHECK(result.steps == 3 * 16); // 2000 examples / 128 per batch, rounded up
}

TEST_CASE("a rule that blows up stops as diverged", "[trainer]") {
  train::Task task(logisticTask());
  train::TrainConfig config;
  config.rule = "exp(exp(g)) * g";
  config.lr = 100;
  config.epochs = 5;
  train::RunResult result = task.run(config);
  CHECK(result.status == "diverged");
  CHECK(result.steps < 5 * 16); // stopped early, budget not spent
}

TEST_CASE("a bad rule is an error before training", "[trainer]") {
  train::Task task(logisticTask());
  train::TrainConfig config;
  config.rule = "sign(m";
  CHECK_THROWS_WITH(task.run(config), Catch::Contains("1:7"));
}

TEST_CASE("the summary picks each rule's best lr", "[trainer]") {
  auto run = [](std::string rule, double lr, uint64_t seed, double acc) {
    train::RunResult r{"ok"};
    r.bestValidationAccuracy = acc;
    return report::Run{rule, lr, seed, r};
  };
  std::vector<report::Run> runs = {
      run("a", 0.1, 0, 0.5), run("a", 0.1, 1, 0.7), run("a", 1.0, 0, 0.8),
      run("a", 1.0, 1, 0.8), run("b", 0.1, 0, 0.9), run("b", 0.1, 1, 0.7)};
  std::vector<report::Summary> s = report::summarize(runs);
  REQUIRE(s.size() == 2);
  CHECK(s[0].rule == "a");
  CHECK(s[0].lr == 1.0);
  CHECK(s[0].mean == Approx(0.8));
  CHECK(s[0].stddev == Approx(0.0));
  CHECK(s[1].mean == Approx(0.8));
  CHECK(s[1].stddev == Approx(0.1414).epsilon(0.01));
}

TEST_CASE("a run advanced in pieces ends where one run ends", "[trainer]") {
  train::Task task(logisticTask());
  train::TrainConfig config;
  config.rule = "adam + 0.001 * noise"; // random streams must resume too
  config.lr = 0.01;
  config.epochs = 2;
  config.seed = 5;
  train::RunResult whole = task.run(config);
  train::ChildRun child(task, config);
  REQUIRE(child.totalSteps() == whole.steps);
  int64_t pause = whole.steps / 3 + 1; // mid-epoch
  const train::RunResult &part = child.advanceTo(pause);
  CHECK(part.steps == pause);
  CHECK(part.curve.back().step == pause); // validated where it paused
  CHECK_FALSE(child.finished());
  const train::RunResult &end = child.advanceTo(child.totalSteps() + 10);
  CHECK(child.finished());
  CHECK(end.steps == whole.steps);
  CHECK(end.finalValidationLoss == whole.finalValidationLoss);
  CHECK(end.curve.size() == whole.curve.size() + 1);
}

TEST_CASE("results record each rule's canonical form", "[trainer]") {
  CHECK(report::canonicalForm("rmsprop") == "g / sqrt(ema(g2, 0.99))");
  CHECK(report::canonicalForm("sign(m) * sign(g) * g") ==
        "g * sign(g) * sign(m)");
  CHECK(report::canonicalForm("1 * rmsprop") == "rmsprop");
  CHECK(report::canonicalForm("exp(") == "");
}

// Devices by name: cpu is the default spelled out, anything else but cuda or
// cuda:N is refused, and a CUDA device this LibTorch cannot see is an error
// naming how many it sees.
TEST_CASE("a task's device is checked before its data loads", "[trainer]") {
  CHECK(train::resolveDevice("cpu") == "cpu");
  CHECK_THROWS_WITH(train::resolveDevice("tpu"),
                    Catch::Contains("unknown device 'tpu'; expected cpu, "
                                    "cuda or cuda:N"));
  CHECK_THROWS_WITH(train::resolveDevice("cuda:x"),
                    Catch::Contains("unknown device"));
  CHECK_THROWS_WITH(train::resolveDevice("cuda:99"),
                    Catch::Contains("device 'cuda:99': this LibTorch sees"));
  train::TaskSpec spec = logisticTask();
  spec.name = "mine";
  spec.device = "meta";
  CHECK_THROWS_WITH(train::Task(spec),
                    Catch::Contains("task 'mine': unknown device 'meta'"));
  spec.device = "cpu";
  train::Task onCpu(spec);
  train::TrainConfig config;
  config.rule = "adam";
  config.lr = 0.01;
  train::RunResult explicitCpu = onCpu.run(config);
  train::RunResult byDefault = train::Task(logisticTask()).run(config);
  CHECK(explicitCpu.curve.back().validationLoss ==
        byDefault.curve.back().validationLoss);
}

// A child on the GPU: the same data, initial weights and batch order as on
// the CPU (all drawn there), nos's GPU kernel for the update; only the
// rounding of the forward and backward passes differs.
TEST_CASE("a child trains on CUDA as on the CPU", "[trainer][cuda]") {
  std::string why;
  try {
    train::resolveDevice("cuda");
  } catch (const std::exception &e) {
    why = e.what();
  }
  if (!test::cudaOrSkip(why))
    return;
  for (const char *dataset : {"logistic", "quadratic"}) {
    INFO("dataset " << dataset);
    train::TaskSpec spec = logisticTask();
    spec.dataset = dataset;
    spec.gradientNoise = std::string(dataset) == "quadratic" ? 0.1 : 0;
    train::TrainConfig config;
    config.rule = "powersign + 0.001 * noise";
    config.lr = 0.01;
    config.seed = 2;
    train::RunResult cpu = train::Task(spec).run(config);
    spec.device = "cuda";
    train::Task onGpu(spec);
    CHECK_THAT(onGpu.describe(), Catch::EndsWith(" on cuda:0"));
    train::RunResult gpu = onGpu.run(config);
    REQUIRE(gpu.status == "ok");
    CHECK(gpu.steps == cpu.steps);
    CHECK(std::abs(gpu.finalValidationLoss - cpu.finalValidationLoss) <=
          1e-3 * std::max(1.0, std::abs(cpu.finalValidationLoss)));
  }
}
