//===- OptimizerTest.cpp - nos::Optimizer against torch::optim ------------===//
//
// The built-in rules must reproduce LibTorch's own optimizers step for step
// on a real model, PowerSign and AddSign an independent transcription of
// TensorFlow's contrib formulas, and a saved and resumed run the run that
// never stopped, bit for bit.
//
//===----------------------------------------------------------------------===//
#include "nos/torch/Optimizer.h"
#include "nos/Builtins.h"
#include "nos/Compiler.h"
#include "nos/OptimizerState.h"
#include "nos/Parser.h"
#include "nos/Printer.h"

#include "../CudaSkip.h"

#include <catch2/catch.hpp>

#include <cmath>
#include <sstream>

using namespace nos;

namespace {
torch::nn::Sequential makeModel(uint64_t seed) {
  torch::manual_seed(seed);
  return torch::nn::Sequential(torch::nn::Linear(20, 32), torch::nn::Tanh(),
                               torch::nn::Linear(32, 5));
}

struct Data {
  torch::Tensor x, y;
};
Data makeData() {
  torch::manual_seed(99);
  return {torch::randn({64, 20}), torch::randint(0, 5, {64})};
}

/// Trains `model` for `steps` full-batch steps with `optimizer`.
void train(torch::nn::Sequential &model, torch::optim::Optimizer &optimizer,
           const Data &data, int steps) {
  for (int i = 0; i < steps; ++i) {
    optimizer.zero_grad();
    torch::Tensor loss =
        torch::nn::functional::cross_entropy(model->forward(data.x), data.y);
    loss.backward();
    optimizer.step();
  }
}

double maxDifference(torch::nn::Sequential &a, torch::nn::Sequential &b) {
  double worst = 0;
  auto pa = a->parameters(), pb = b->parameters();
  for (size_t i = 0; i < pa.size(); ++i)
    worst = std::max(worst, (pa[i] - pb[i]).abs().max().item<double>());
  return worst;
}

template <typename TorchOptimizer, typename TorchOptions>
void requireSameTrajectory(const std::string &rule, TorchOptions torchOptions,
                           OptimizerOptions nosOptions, double tolerance,
                           int steps = 200) {
  Data data = makeData();
  auto reference = makeModel(7), model = makeModel(7);
  REQUIRE(maxDifference(reference, model) == 0);
  TorchOptimizer torchOptimizer(reference->parameters(), torchOptions);
  Optimizer nosOptimizer(model->parameters(), rule, nosOptions);
  train(reference, torchOptimizer, data, steps);
  train(model, nosOptimizer, data, steps);
  INFO(rule << ": max |w_torch - w_nos| after " << steps << " steps");
  CHECK(maxDifference(reference, model) <= tolerance);
  CHECK(nosOptimizer.stepCount() == steps);
}
} // namespace

TEST_CASE("sgd follows torch::optim::SGD", "[optimizer]") {
  requireSameTrajectory<torch::optim::SGD>("sgd", torch::optim::SGDOptions(0.1),
                                           OptimizerOptions(0.1), 1e-5);
}

TEST_CASE("momentum and nesterov follow torch::optim::SGD", "[optimizer]") {
  requireSameTrajectory<torch::optim::SGD>(
      "momentum", torch::optim::SGDOptions(0.05).momentum(0.9),
      OptimizerOptions(0.05), 1e-4);
  requireSameTrajectory<torch::optim::SGD>(
      "nesterov", torch::optim::SGDOptions(0.05).momentum(0.9).nesterov(true),
      OptimizerOptions(0.05), 1e-4);
}

TEST_CASE("adam follows torch::optim::Adam", "[optimizer]") {
  requireSameTrajectory<torch::optim::Adam>(
      "adam", torch::optim::AdamOptions(1e-3), OptimizerOptions(1e-3), 1e-4);
}

TEST_CASE("adam with weight_decay follows torch::optim::AdamW", "[optimizer]") {
  requireSameTrajectory<torch::optim::AdamW>(
      "adam", torch::optim::AdamWOptions(1e-3).weight_decay(0.5),
      OptimizerOptions(1e-3).weight_decay(0.5), 1e-4);
}

TEST_CASE("maximize ascends as torch::optim::SGD's descent of -loss",
          "[optimizer]") {
  // LibTorch's C++ optimizers have no maximize option. Ascending the loss
  // must equal descending its negation bit for bit (negation is exact).
  Data data = makeData();
  auto up = makeModel(7), down = makeModel(7);
  Optimizer ascend(up->parameters(), "adam",
                   OptimizerOptions(1e-3).maximize(true));
  Optimizer descend(down->parameters(), "adam", OptimizerOptions(1e-3));
  for (int i = 0; i < 50; ++i) {
    ascend.zero_grad(), descend.zero_grad();
    torch::nn::functional::cross_entropy(up->forward(data.x), data.y)
        .backward();
    (-torch::nn::functional::cross_entropy(down->forward(data.x), data.y))
        .backward();
    ascend.step(), descend.step();
  }
  CHECK(maxDifference(up, down) == 0);
  auto start = makeModel(7);
  CHECK(maxDifference(up, start) > 1e-2);
}

TEST_CASE("rmsprop follows torch::optim::RMSprop", "[optimizer]") {
  requireSameTrajectory<torch::optim::RMSprop>(
      "rmsprop", torch::optim::RMSpropOptions(1e-3), OptimizerOptions(1e-3),
      1e-6, 1);
  requireSameTrajectory<torch::optim::RMSprop>(
      "rmsprop", torch::optim::RMSpropOptions(1e-3), OptimizerOptions(1e-3),
      1e-4);
}

namespace {
/// TensorFlow contrib's PowerSign (base e) and AddSign (alpha 1) with no
/// sign decay, written independently of the rule language.
void tfSignStep(std::vector<double> &w, std::vector<double> &m,
                const std::vector<float> &g, double lr, double beta,
                bool power) {
  for (size_t i = 0; i < w.size(); ++i) {
    m[i] = beta * m[i] + (1 - beta) * g[i];
    double agree = (g[i] > 0) - (g[i] < 0);
    agree *= (m[i] > 0) - (m[i] < 0);
    double scale = power ? std::exp(agree) : 1 + agree;
    w[i] -= lr * scale * g[i];
  }
}
} // namespace

// Steps are counted per parameter, as torch.optim counts them: b gets its
// first gradient at the fourth step and must take Adam's first step then
// (bias corrections of step 1), not the group's fourth.
TEST_CASE("a parameter that first gets a gradient late starts at step 1",
          "[optimizer]") {
  torch::Tensor a = torch::linspace(-1, 1, 5), b = torch::full({3}, 2.0);
  torch::Tensor ta = a.clone(), tb = b.clone();
  Optimizer nosOptimizer({a, b}, "adam", OptimizerOptions(0.1));
  torch::optim::Adam torchOptimizer({ta, tb}, torch::optim::AdamOptions(0.1));
  for (int step = 0; step < 8; ++step) {
    torch::Tensor ga = torch::sin(torch::arange(5.0) + step);
    torch::Tensor gb = torch::cos(torch::arange(3.0) * step);
    a.mutable_grad() = ga, ta.mutable_grad() = ga.clone();
    b.mutable_grad() = step < 3 ? torch::Tensor() : gb;
    tb.mutable_grad() = step < 3 ? torch::Tensor() : gb.clone();
    nosOptimizer.step();
    torchOptimizer.step();
  }
  CHECK((a - ta).abs().max().item<double>() < 1e-5);
  CHECK((b - tb).abs().max().item<double>() < 1e-5);
  CHECK(nosOptimizer.stepCount() == 8);
  CHECK(nosOptimizer.stateOf(b, "m").abs().sum().item<double>() > 0);
}

TEST_CASE("planned launches: one per step count, in first-seen order",
          "[optimizer]") {
  std::vector<Launch> plan =
      planLaunches({4, 0, 4, 2, 0}, {true, true, true, false, true});
  REQUIRE(plan.size() == 2);
  CHECK(plan[0].step == 5);
  CHECK(plan[0].params == std::vector<size_t>{0, 2});
  CHECK(plan[1].step == 1);
  CHECK(plan[1].params == std::vector<size_t>{1, 4});
  CHECK(planLaunches({1, 1}, {false, false}).empty());
  CHECK_THROWS_WITH(planLaunches({1}, {true, false}),
                    Catch::Contains("1 step counts for 2 parameters"));
  CHECK_THROWS_WITH(planLaunches({-1}, {true}), Catch::Contains("-1 steps"));
}

TEST_CASE("powersign and addsign follow TensorFlow's formulas", "[optimizer]") {
  for (bool power : {true, false}) {
    torch::manual_seed(3);
    torch::Tensor param = torch::randn({1000});
    std::vector<double> w(param.data_ptr<float>(),
                          param.data_ptr<float>() + 1000);
    std::vector<double> m(1000, 0.0);
    Optimizer optimizer({param}, power ? "powersign" : "addsign",
                        OptimizerOptions(0.01));
    for (int step = 0; step < 50; ++step) {
      torch::Tensor g = torch::randn({1000});
      param.mutable_grad() = g;
      optimizer.step();
      std::vector<float> gs(g.data_ptr<float>(), g.data_ptr<float>() + 1000);
      tfSignStep(w, m, gs, 0.01, 0.9, power);
    }
    double worst = 0;
    for (int i = 0; i < 1000; ++i)
      worst = std::max(worst, std::fabs(w[i] - param[i].item<double>()));
    INFO((power ? "powersign" : "addsign"));
    CHECK(worst < 1e-5);
  }
}

TEST_CASE("saved and resumed training equals uninterrupted training",
          "[optimizer]") {
  Data data = makeData();
  const std::string rule = "adam + 0.01 * noise * ld";
  OptimizerOptions options(1e-2);
  options.total_steps(40).seed(5);

  auto straight = makeModel(11);
  Optimizer straightOptimizer(straight->parameters(), rule, options);
  train(straight, straightOptimizer, data, 20);

  auto first = makeModel(11);
  Optimizer firstOptimizer(first->parameters(), rule, options);
  train(first, firstOptimizer, data, 10);
  std::stringstream modelBytes, optimizerBytes;
  torch::save(first, modelBytes);
  torch::save(firstOptimizer, optimizerBytes);

  auto resumed = makeModel(12); // different init: everything must load
  torch::load(resumed, modelBytes);
  // Other hyperparameters on purpose: the checkpoint restores them.
  Optimizer resumedOptimizer(resumed->parameters(), rule,
                             OptimizerOptions(99).total_steps(1));
  torch::load(resumedOptimizer, optimizerBytes);
  CHECK(resumedOptimizer.stepCount() == 10);
  CHECK(resumedOptimizer.param_groups()[0].options().get_lr() == 1e-2);
  train(resumed, resumedOptimizer, data, 10);
  CHECK(maxDifference(straight, resumed) == 0);
}

TEST_CASE("loading a checkpoint of another rule is an error", "[optimizer]") {
  torch::Tensor p = torch::zeros({3});
  Optimizer adam({p}, "adam"), sgd({p}, "sgd");
  std::stringstream bytes;
  torch::save(adam, bytes);
  CHECK_THROWS_WITH(torch::load(sgd, bytes),
                    Catch::Contains("the checkpoint is of rule 'adam'"));
}

TEST_CASE("bf16 parameters keep f32 state", "[optimizer]") {
  torch::manual_seed(4);
  torch::Tensor start = torch::randn({257});
  torch::Tensor p16 = start.to(torch::kBFloat16);
  torch::Tensor p32 = p16.to(torch::kFloat);
  Optimizer o16({p16}, "momentum", OptimizerOptions(0.1));
  Optimizer o32({p32}, "momentum", OptimizerOptions(0.1));
  for (int i = 0; i < 20; ++i) {
    torch::Tensor g = torch::randn({257});
    p16.mutable_grad() = g.to(torch::kBFloat16);
    p32.mutable_grad() = g.to(torch::kBFloat16).to(torch::kFloat);
    o16.step();
    o32.step();
  }
  CHECK(p16.scalar_type() == torch::kBFloat16);
  CHECK(o16.stateOf(p16, "ema0").scalar_type() == torch::kFloat);
  // The bf16 parameter is the f32 trajectory rounded once, not re-rounded
  // every step.
  CHECK(torch::equal(p16, p32.to(torch::kBFloat16)));
}

TEST_CASE("bad rules and options fail before training", "[optimizer]") {
  torch::Tensor p = torch::zeros({3});
  CHECK_THROWS_WITH(Optimizer({p}, "adamw"),
                    Catch::Contains("1:1") && Catch::Contains("adamw"));
  CHECK_THROWS_WITH(Optimizer({p}, "exp(g"), Catch::Contains("1:6"));
  CHECK_THROWS_WITH(Optimizer({p}, "powersign-ld"),
                    Catch::Contains("total_steps"));
  torch::Tensor ints = torch::zeros({3}, torch::kInt);
  CHECK_THROWS_WITH(Optimizer({ints}, "sgd"), Catch::Contains("float32"));
}

TEST_CASE("changing the learning rate does not recompile", "[optimizer]") {
  torch::Tensor p = torch::ones({4});
  Optimizer optimizer({p}, "sgd", OptimizerOptions(0.5));
  p.mutable_grad() = torch::ones({4});
  optimizer.step();
  CHECK(p[0].item<float>() == Approx(0.5));
  // Any compile or cache lookup after construction shows in the counters.
  auto lookups = [] {
    Compiler::Stats s = Compiler::shared().stats();
    return s.compiled + s.diskHits + s.memoryHits;
  };
  unsigned before = lookups();
  auto &options =
      static_cast<OptimizerOptions &>(optimizer.param_groups()[0].options());
  options.lr(0.25).beta1(0.5).eps(1e-3);
  optimizer.step();
  CHECK(p[0].item<float>() == Approx(0.25));
  CHECK(lookups() == before);
  CHECK(optimizer.kernelInfo().canonical == "g");
}

TEST_CASE("a rule compiled once is handed down without re-reading it",
          "[optimizer]") {
  CompiledRule rule = CompiledRule::fromText("powersign");
  REQUIRE(rule);
  CHECK(rule.info().canonical == "exp(sign(g) * sign(m)) * g");
  REQUIRE(rule.info().tree);
  CHECK(printRule(*rule.info().tree) == rule.info().canonical);
  Data data = makeData();
  auto fromText = makeModel(3), fromRule = makeModel(3);
  Optimizer byText(fromText->parameters(), "powersign", OptimizerOptions(0.01));
  auto lookups = [] {
    Compiler::Stats s = Compiler::shared().stats();
    return s.compiled + s.diskHits + s.memoryHits + s.canonicalizations;
  };
  uint64_t parses = parseCount();
  unsigned before = lookups();
  Optimizer byRule(fromRule->parameters(), rule, OptimizerOptions(0.01));
  Optimizer again(makeModel(4)->parameters(), rule);
  CHECK(parseCount() == parses);
  CHECK(lookups() == before);
  train(fromText, byText, data, 20);
  train(fromRule, byRule, data, 20);
  CHECK(maxDifference(fromText, fromRule) == 0);
  CHECK(byRule.kernelInfo().hash == byText.kernelInfo().hash);
  CHECK_THROWS_WITH(Optimizer(makeModel(5)->parameters(), CompiledRule()),
                    Catch::Contains("no rule"));
  CHECK_THROWS_WITH(CompiledRule::fromText("exp(g"), Catch::Contains("1:6"));
}

TEST_CASE("parameters on an unsupported device are refused", "[optimizer]") {
  torch::Tensor onMeta = torch::zeros({4}, torch::Device("meta"));
  CHECK_THROWS_WITH(Optimizer({onMeta}, "adam"),
                    Catch::Contains("CPU or CUDA only"));
}

TEST_CASE("CUDA parameters follow the CPU run", "[optimizer][cuda]") {
  if (!nos::test::cudaOrSkip(torch::cuda::is_available()
                                 ? ""
                                 : "this LibTorch has no CUDA device"))
    return;
  for (const char *rule : {"adam", "powersign", "drop(g, 0.5) * exp(noise)"}) {
    INFO("rule: " << rule);
    Data data = makeData();
    auto onCpu = makeModel(7), onGpu = makeModel(7);
    onGpu->to(torch::kCUDA);
    Data gpuData{data.x.to(torch::kCUDA), data.y.to(torch::kCUDA)};
    OptimizerOptions options(0.01);
    options.seed(5);
    Optimizer cpuOptimizer(onCpu->parameters(), rule, options);
    Optimizer gpuOptimizer(onGpu->parameters(), rule, options);
    train(onCpu, cpuOptimizer, data, 20);
    train(onGpu, gpuOptimizer, gpuData, 20);
    onGpu->to(torch::kCPU);
    // The forward and backward passes differ between devices in rounding.
    CHECK(maxDifference(onCpu, onGpu) < 1e-3);
    CHECK(gpuOptimizer.stepCount() == 20);
  }
}

TEST_CASE("a built-in name means its rule, as in nosc and nos-train",
          "[optimizer]") {
  torch::Tensor w = torch::zeros({4}, torch::requires_grad());
  for (const std::string &name : nos::builtinNames()) {
    nos::ParseResult rule = nos::parseRule(nos::builtinRule(name));
    REQUIRE(rule);
    nos::KernelInfo expected;
    std::string error;
    REQUIRE(nos::Compiler::shared().canonicalize(*rule.expr, expected, &error));
    nos::Optimizer byName({w}, name,
                          nos::OptimizerOptions(0.1).total_steps(10));
    CHECK(byName.kernelInfo().canonical == expected.canonical);
  }
  // The operand rmsprop (bias-corrected v, eps) is not the built-in.
  nos::Optimizer operand({w}, "1 * rmsprop");
  CHECK(operand.kernelInfo().canonical !=
        nos::Optimizer({w}, "rmsprop").kernelInfo().canonical);
}

TEST_CASE("negative or non-finite hyperparameters are refused", "[optimizer]") {
  torch::Tensor w = torch::zeros({4}, torch::requires_grad());
  CHECK_THROWS_WITH(nos::Optimizer({w}, "sgd", nos::OptimizerOptions(-1)),
                    Catch::Contains("lr is -1") &&
                        Catch::Contains("not negative"));
  CHECK_THROWS_WITH(nos::Optimizer({w}, "sgd", nos::OptimizerOptions(NAN)),
                    Catch::Contains("lr is nan"));
  CHECK_THROWS_WITH(
      nos::Optimizer({w}, "adam", nos::OptimizerOptions(0.1).beta2(1.0)),
      Catch::Contains("beta2 is 1") && Catch::Contains("[0, 1)"));
  // An lr changed later (a scheduler gone wrong) is caught at the step.
  nos::Optimizer sgd({w}, "sgd", nos::OptimizerOptions(0.1));
  w.mutable_grad() = torch::ones({4});
  static_cast<nos::OptimizerOptions &>(sgd.param_groups()[0].options())
      .lr(-0.5);
  CHECK_THROWS_WITH(sgd.step(), Catch::Contains("lr is -0.5"));
  CHECK(w.eq(0).all().item<bool>()); // nothing was applied
}
