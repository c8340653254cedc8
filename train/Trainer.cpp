//===- Trainer.cpp - Child training: one rule, one lr, one seed -----------===//
//
// Deterministic by construction: the model's initialisation, the batch order
// and the optimizer's random streams all derive from the run's seed. A run
// stops early as "diverged" when its loss goes NaN/Inf or explodes, so a
// search does not spend its budget on hopeless candidates. Runs may train on
// several threads at once: only model initialisation touches torch's global
// generator, and it does so under a lock.
//
//===----------------------------------------------------------------------===//
#include "nos/train/Trainer.h"

#include "nos/Args.h"
#include "nos/torch/Optimizer.h"
#include "nos/train/Data.h"
#include "nos/train/Models.h"

#include <chrono>
#include <cmath>
#include <mutex>
#include <optional>
#include <stdexcept>

namespace nos::train {

class Task::Impl {
public:
  TaskSpec spec;
  train::Split split;
  bool pooled = false;

  explicit Impl(const TaskSpec &s) : spec(s) {
    train::Dataset all = load();
    if (spec.pool > 1 && all.inputs.dim() == 4) { // tabular data stays
      all.inputs = torch::avg_pool2d(all.inputs, spec.pool);
      pooled = true;
    }
    if (spec.trainSize > 0 && spec.trainSize + spec.validationSize < all.size())
      all = take(all, spec.trainSize + spec.validationSize);
    split = train::splitTrainValidation(
        all, std::min(spec.validationSize, all.size() / 2), spec.splitSeed);
  }

  train::Dataset load() const {
    if (spec.dataset == "fashion-mnist")
      return train::loadFashionMnist(
          spec.dataDir.empty() ? train::defaultFashionMnistDir() : spec.dataDir,
          /*train=*/true);
    if (spec.dataset == "cifar10")
      return train::loadCifar10(
          spec.dataDir.empty() ? train::defaultCifar10Dir() : spec.dataDir,
          /*train=*/true);
    if (spec.dataset == "logistic")
      return train::logisticRegression(
          spec.trainSize > 0 ? spec.trainSize + spec.validationSize : 20000, 20,
          spec.splitSeed);
    throw std::invalid_argument("unknown dataset '" + spec.dataset +
                                "'; expected fashion-mnist, cifar10 or "
                                "logistic");
  }

  static train::Dataset take(const train::Dataset &all, int64_t n) {
    train::Dataset out = all;
    out.inputs = all.inputs.narrow(0, 0, n);
    out.labels = all.labels.narrow(0, 0, n);
    return out;
  }

  torch::nn::Sequential makeModel(uint64_t seed) const {
    // Models draw their initial weights from torch's global generator.
    static std::mutex globalGenerator;
    std::lock_guard<std::mutex> lock(globalGenerator);
    torch::manual_seed(seed);
    const torch::Tensor &x = split.train.inputs;
    int64_t classes = split.train.classes;
    if (spec.model == "mlp")
      return train::mlp(x[0].numel(), spec.hidden, classes);
    if (spec.model == "convnet") {
      if (x.dim() != 4)
        throw std::invalid_argument("the convnet needs image data");
      return train::convNet(x.size(1), x.size(2), x.size(3), classes,
                            spec.filters);
    }
    throw std::invalid_argument("unknown model '" + spec.model +
                                "'; expected mlp or convnet");
  }
};

namespace {
struct Evaluation {
  double loss, accuracy;
};

Evaluation evaluate(torch::nn::Sequential &model, const train::Dataset &data) {
  torch::NoGradGuard noGrad;
  model->eval();
  double loss = 0, correct = 0;
  const int64_t chunk = 1000;
  for (int64_t start = 0; start < data.size(); start += chunk) {
    int64_t n = std::min(chunk, data.size() - start);
    torch::Tensor logits = model->forward(data.inputs.narrow(0, start, n));
    torch::Tensor labels = data.labels.narrow(0, start, n);
    loss += torch::nn::functional::cross_entropy(
                logits, labels,
                torch::nn::functional::CrossEntropyFuncOptions().reduction(
                    torch::kSum))
                .item<double>();
    correct += logits.argmax(1).eq(labels).sum().item<double>();
  }
  model->train();
  return {loss / double(data.size()), correct / double(data.size())};
}

bool exploded(double loss, double first, double factor) {
  return !std::isfinite(loss) || (first > 0 && loss > factor * first);
}
} // namespace

void setTorchThreads(int threads) { at::set_num_threads(std::max(1, threads)); }

HurdleResult runHurdle(const std::string &rule, const HurdleSpec &spec) {
  return runHurdle(CompiledRule::fromText(rule), spec);
}

namespace {
/// One lr of the hurdle on plain arrays: the compiled kernel called
/// directly on a one-entry table, steps numbered from 1 as nos::Optimizer
/// numbers them, the loss evaluated before each step as the torch loop
/// did. Returns the final loss over the initial one.
double hurdleLane(const CompiledRule &rule, const QuadraticProblem &q,
                  double lr, int64_t steps) {
  const KernelInfo &info = rule.info();
  const int64_t n = q.dim;
  std::vector<float> x = q.init, grad(x.size());
  std::vector<std::vector<float>> state(info.stateSlots.size(),
                                        std::vector<float>(size_t(n), 0.0f));
  NosTensor table{};
  table.w = x.data(), table.g = grad.data(), table.n = n, table.rng_base = 0;
  for (size_t k = 0; k < state.size(); ++k)
    table.state[k] = state[k].data();
  Hyper hyper; // nos::Optimizer's defaults, as the torch loop used
  hyper.lr = lr, hyper.totalSteps = steps;
  const double initial = q.lossAndGradient(x.data(), nullptr);
  double last = initial;
  for (int64_t step = 1; step <= steps && std::isfinite(last); ++step) {
    last = q.lossAndGradient(x.data(), grad.data());
    std::string error;
    NosArgs args = makeArgs(hyper, step, info.schedules, &error);
    if (!error.empty())
      throw std::invalid_argument("hurdle: " + error);
    rule.cpu()->fn(&table, 1, &args);
  }
  return q.lossAndGradient(x.data(), nullptr) / initial;
}
} // namespace

HurdleResult runHurdle(const CompiledRule &rule, const HurdleSpec &spec) {
  // A is built once per call (~0.1 ms); the lanes cost microseconds a step.
  QuadraticProblem q = quadraticProblem(spec.dim, spec.seed);
  HurdleResult result;
  for (double lr : spec.lrs) {
    double ratio = hurdleLane(rule, q, lr, spec.steps);
    if (std::isfinite(ratio) && ratio < result.ratio)
      result.ratio = ratio, result.lr = lr;
  }
  result.passed = result.ratio < spec.target;
  return result;
}

HurdleResult runHurdleWithTorch(const CompiledRule &rule,
                                const HurdleSpec &spec) {
  train::Objective problem = train::quadratic(spec.dim, spec.seed);
  HurdleResult result;
  for (double lr : spec.lrs) {
    torch::Tensor x = problem.init.clone().set_requires_grad(true);
    double initial = problem.loss(x).item<double>(), last = initial;
    Optimizer optimizer(std::vector<torch::Tensor>{x}, rule,
                        OptimizerOptions(lr).total_steps(spec.steps));
    for (int64_t step = 0; step < spec.steps && std::isfinite(last); ++step) {
      optimizer.zero_grad();
      torch::Tensor loss = problem.loss(x);
      loss.backward();
      optimizer.step();
      last = loss.item<double>();
    }
    last = problem.loss(x).item<double>();
    double ratio = last / initial;
    if (std::isfinite(ratio) && ratio < result.ratio)
      result.ratio = ratio, result.lr = lr;
  }
  result.passed = result.ratio < spec.target;
  return result;
}

Task::Task(const TaskSpec &spec) : impl_(std::make_unique<Impl>(spec)) {}
Task::~Task() = default;

std::string Task::describe() const {
  const TaskSpec &s = impl_->spec;
  std::string model = s.model;
  if (s.model == "mlp" && s.hidden != TaskSpec{}.hidden)
    for (int64_t width : s.hidden)

      model += "-" + std::to_string(width);
  if (impl_->pooled)
    model += ", inputs pooled " + std::to_string(s.pool) + "x" +

             std::to_string(s.pool);
  return s.dataset + "/" + model + " (" +
         std::to_string(impl_->split.train.size()) + " train, " +
         std::to_string(impl_->split.validation.size()) + " validation)";
}

int64_t Task::stepsPerEpoch(int64_t batchSize) const {
  // dropLast is off, so the last batch may be short.
  return (impl_->split.train.size() + batchSize - 1) / batchSize;
}

RunResult Task::run(const TrainConfig &config) const {
  ChildRun child(*this, config);
  return child.advanceTo(child.totalSteps());
}

class ChildRun::Impl {
public:
  Impl(const Task &task, const TrainConfig &config)
      : task(*task.impl_), config(config),
        model(task.impl_->makeModel(config.seed)),
        perEpoch(task.stepsPerEpoch(config.batchSize)),
        total(perEpoch * config.epochs),
        evalEvery(std::max<int64_t>(
            1, perEpoch / std::max<int64_t>(1, config.evalsPerEpoch))) {
    OptimizerOptions options(config.lr);
    options.total_steps(total).seed(int64_t(config.seed));
    optimizer = config.compiled
                    ? std::make_unique<Optimizer>(model->parameters(),
                                                  config.compiled, options)
                    : std::make_unique<Optimizer>(model->parameters(),
                                                  config.rule, options);
    result.status = "ok";
  }

  void advanceTo(int64_t target) {
    auto start = std::chrono::steady_clock::now();
    target = std::min(target, total);
    while (result.steps < target && result.status == "ok")
      step();
    if (result.status == "ok" &&
        (result.curve.empty() || result.curve.back().step != result.steps))
      validate();
    result.bestValidationAccuracy = 0;
    for (const CurvePoint &p : result.curve)
      result.bestValidationAccuracy =
          std::max(result.bestValidationAccuracy, p.validationAccuracy);
    if (!result.curve.empty())
      result.finalValidationLoss = result.curve.back().validationLoss;
    result.seconds +=
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
            .count();
  }

  const Task::Impl &task;
  TrainConfig config;
  torch::nn::Sequential model;
  std::unique_ptr<Optimizer> optimizer;
  int64_t perEpoch, total, evalEvery;
  std::optional<train::Batches> batches;
  double firstLoss = -1, recentLoss = 0;
  RunResult result;

private:
  void step() {
    int64_t epoch = result.steps / perEpoch, index = result.steps % perEpoch;
    if (index == 0)
      batches.emplace(task.split.train, config.batchSize, config.seed, epoch);
    train::Batch batch = (*batches)[index];
    optimizer->zero_grad();
    torch::Tensor loss = torch::nn::functional::cross_entropy(
        model->forward(batch.inputs), batch.labels);
    double value = loss.item<double>();
    if (firstLoss < 0)
      firstLoss = value;
    if (exploded(value, firstLoss, config.divergenceFactor)) {
      result.status = "diverged";
      return;
    }
    loss.backward();
    optimizer->step();
    recentLoss = value;
    if (++result.steps % evalEvery == 0 || result.steps == total)
      validate();
  }

  void validate() {
    Evaluation e = evaluate(model, task.split.validation);
    result.curve.push_back({result.steps, recentLoss, e.loss, e.accuracy});
    if (!std::isfinite(e.loss))
      result.status = "diverged";
  }
};

ChildRun::ChildRun(const Task &task, const TrainConfig &config)
    : impl_(std::make_unique<Impl>(task, config)) {}
ChildRun::~ChildRun() = default;
ChildRun::ChildRun(ChildRun &&) noexcept = default;

int64_t ChildRun::totalSteps() const { return impl_->total; }

const RunResult &ChildRun::advanceTo(int64_t step) {
  impl_->advanceTo(step);
  return impl_->result;
}

const RunResult &ChildRun::result() const { return impl_->result; }

bool ChildRun::finished() const {
  return impl_->result.status != "ok" || impl_->result.steps >= impl_->total;
}

} // namespace nos::train
