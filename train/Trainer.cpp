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
#include "nos/train/Text.h"

#include <ATen/Version.h>
#include <fmt/core.h>
#include <torch/cuda.h>
#include <torch/version.h>
#include <zlib.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <mutex>
#include <optional>
#include <stdexcept>

namespace nos::train {

namespace {
/// The Debian package that ships a dataset, for errors about its files.
std::string packageHint(const std::string &dataset) {
  if (dataset == "fashion-mnist")
    return "; Debian's dataset-fashion-mnist package provides it "
           "(scripts/install-deps.sh installs it)";
  return ""; // fortunes says so itself; CIFAR-10 is the user's download
}

/// Extends zlib's crc32 `crc` over the tensor's bytes (none if undefined).
uint32_t crc32Of(const torch::Tensor &t, uint32_t crc) {
  if (!t.defined())
    return crc;
  torch::Tensor c = t.to(torch::kCPU).contiguous();
  return uint32_t(crc32_z(crc, static_cast<const Bytef *>(c.data_ptr()),
                          size_t(c.nbytes())));
}

train::Dataset take(const train::Dataset &all, int64_t n) {
  train::Dataset out = all;
  out.inputs = all.inputs.narrow(0, 0, n);
  out.labels = all.labels.narrow(0, 0, n);
  return out;
}

/// `n` of `all`'s windows spread evenly over it: a corpus is in topic
/// order, so its first windows would be one topic.
train::Dataset spread(const train::Dataset &all, int64_t n) {
  if (n <= 0 || n >= all.size())
    return all;
  torch::Tensor index =
      torch::div(torch::arange(n, torch::kLong) * all.size(), n, "floor");
  train::Dataset out = all;
  out.inputs = all.inputs.index_select(0, index);
  out.labels = all.labels.index_select(0, index);
  return out;
}

std::atomic<uint64_t> testsScored{0};

/// The task's device, errors naming the task.
torch::Device deviceOf(const TaskSpec &spec) {
  std::string task = spec.name.empty() ? "" : "task '" + spec.name + "': ";
  try {
    return torch::Device(resolveDevice(spec.device));
  } catch (const std::invalid_argument &e) {
    throw std::invalid_argument(task + e.what());
  } catch (const std::runtime_error &e) {
    throw std::runtime_error(task + e.what());
  }
}

train::Dataset onDevice(train::Dataset data, const torch::Device &device) {
  data.inputs = data.inputs.to(device);
  data.labels = data.labels.to(device);
  return data;
}
} // namespace

/// The device `name` spells; throws as checkDeviceName does.
static torch::Device parseDevice(const std::string &name) {
  std::optional<torch::Device> device;
  try {
    device.emplace(name);
  } catch (const std::exception &) {
  }
  if (!device || !(device->is_cpu() || device->is_cuda()))
    throw std::invalid_argument("unknown device '" + name +
                                "'; expected cpu, cuda or cuda:N");
  return *device;
}

void checkDeviceName(const std::string &name) { parseDevice(name); }

std::string resolveDevice(const std::string &name) {
  torch::Device device = parseDevice(name);
  if (device.is_cpu())
    return "cpu";
  int64_t count = torch::cuda::device_count();
  if (count == 0)
    throw std::runtime_error(
        "device '" + name +
        "': this LibTorch sees no CUDA device (no GPU or driver, or a "
        "CPU-only build)");
  int64_t index = device.has_index() ? device.index() : 0;
  if (index >= count)
    throw std::runtime_error("device '" + name + "': this LibTorch sees " +
                             std::to_string(count) + " CUDA device(s)");
  return "cuda:" + std::to_string(index);
}

uint64_t testEvaluations() { return testsScored.load(); }

class Task::Impl {
public:
  TaskSpec spec;
  torch::Device device;
  train::Split split;

  explicit Impl(const TaskSpec &s) : spec(s), device(deviceOf(s)) {
    if (isObjective(spec)) {
      objective(); // refuses a bad dimension now, not at the first run
      return;
    }
    guarded([&] {
      if (spec.dataset == "fortunes")
        loadText();
      else
        loadExamples();
    });
    split.train = onDevice(std::move(split.train), device);
    split.validation = onDevice(std::move(split.validation), device);
  }

  train::Objective objective() const {
    if (spec.dataset == "rosenbrock")
      return train::rosenbrock(spec.dimension, device);
    if (spec.dimension < 1)
      throw std::invalid_argument("the quadratic needs dimension >= 1");
    return train::quadratic(spec.dimension, spec.splitSeed, device);
  }

  /// The test split, read on first use: runs that never ask never read it.
  const train::Dataset &test() const {
    std::call_once(testLoaded, [&] {
      guarded([&] {
        testSplit = loadTest();
        if (spec.testSize > 0 && spec.testSize < testSplit.size())
          testSplit = take(testSplit, spec.testSize);
        testSplit = onDevice(std::move(testSplit), device);
      });
    });
    return testSplit;
  }

  bool isText() const { return metricOf(spec) == "bits-per-char"; }

  /// A crc32 of the training and validation data, taken once.
  const std::string &dataCrc() const {
    std::call_once(fingerprinted, [&] {
      uint32_t crc = uint32_t(crc32_z(0, nullptr, 0));
      for (const train::Dataset *d : {&split.train, &split.validation})
        crc = crc32Of(d->labels, crc32Of(d->inputs, crc));
      dataChecksum = fmt::format("{:08x}", crc);
    });
    return dataChecksum;
  }

  torch::nn::Sequential makeModel(uint64_t seed) const {
    // Models draw their initial weights from torch's global generator.
    static std::mutex globalGenerator;
    std::lock_guard<std::mutex> lock(globalGenerator);
    torch::manual_seed(seed);
    torch::nn::Sequential model = buildModel();
    model->to(device); // drawn on the CPU: the same start on every device
    return model;
  }

private:
  torch::nn::Sequential buildModel() const {
    const torch::Tensor &x = split.train.inputs;
    int64_t classes = split.train.classes;
    if (isText() != (spec.model == "lstm"))
      throw std::invalid_argument("model '" + spec.model +
                                  "' does not fit dataset '" + spec.dataset +
                                  "': the lstm is for text, and text only");
    if (spec.model == "mlp")
      return train::mlp(x[0].numel(), spec.hidden, classes);
    if (spec.model == "lstm")
      return train::charLstm(classes, spec.embedding, spec.hidden.at(0));
    if (spec.model == "convnet") {
      if (x.dim() != 4)
        throw std::invalid_argument("the convnet needs image data");
      return train::convNet(x.size(1), x.size(2), x.size(3), classes,
                            spec.filters);
    }
    throw std::invalid_argument("unknown model '" + spec.model +
                                "'; expected mlp, convnet or lstm");
  }

  mutable std::once_flag testLoaded, fingerprinted;
  mutable train::Dataset testSplit;
  mutable std::string dataChecksum;
  std::string testText; // a text task's test split, before windowing

  /// Data errors name the task and the package that ships the files.
  template <typename F> void guarded(F load) const {
    try {
      load();
    } catch (const std::runtime_error &e) {
      std::string task = spec.name.empty() ? "" : "task '" + spec.name + "': ";
      throw std::runtime_error(task + e.what() + packageHint(spec.dataset));
    }
  }

  void loadExamples() {
    train::Dataset all = pool(load(/*train=*/true));
    if (spec.trainSize > 0 && spec.trainSize + spec.validationSize < all.size())
      all = take(all, spec.trainSize + spec.validationSize);
    split = train::splitTrainValidation(
        all, std::min(spec.validationSize, all.size() / 2), spec.splitSeed);
  }

  void loadText() {
    train::TextSplits t = train::loadFortunes(
        dataDirOr(train::defaultFortunesDir()), spec.splitSeed);
    testText = std::move(t.test); // dealt now, read only if asked for
    split.train = spread(
        train::textSequences(t.train, spec.sequenceLength, "fortunes/train"),
        spec.trainSize);
    split.validation =
        spread(train::textSequences(t.validation, spec.sequenceLength,
                                    "fortunes/validation"),
               spec.validationSize);
  }

  std::string dataDirOr(const std::string &fallback) const {
    return spec.dataDir.empty() ? fallback : spec.dataDir;
  }

  train::Dataset loadTest() const {
    if (isText())
      return train::textSequences(testText, spec.sequenceLength,
                                  "fortunes/test");
    if (spec.dataset == "logistic") // fresh points of the same problem
      return train::logisticRegression(spec.testSize > 0 ? spec.testSize
                                                         : 10000,
                                       20, spec.splitSeed, /*sample=*/1);
    return pool(load(/*train=*/false));
  }

  train::Dataset pool(train::Dataset all) const {
    if (spec.pool > 1 && all.inputs.dim() == 4) // tabular data stays
      all.inputs = torch::avg_pool2d(all.inputs, spec.pool);
    return all;
  }

  train::Dataset load(bool train) const {
    if (spec.dataset == "fashion-mnist")
      return train::loadFashionMnist(dataDirOr(train::defaultFashionMnistDir()),
                                     train);
    if (spec.dataset == "cifar10")
      return train::loadCifar10(dataDirOr(train::defaultCifar10Dir()), train);
    if (spec.dataset == "logistic")
      return train::logisticRegression(
          spec.trainSize > 0 ? spec.trainSize + spec.validationSize : 20000, 20,
          spec.splitSeed);
    throw std::invalid_argument("unknown dataset '" + spec.dataset +
                                "'; expected fashion-mnist, cifar10, "
                                "logistic or fortunes");
  }
};

namespace {
/// An objective's "epoch": the unit its budget is given in.
constexpr int64_t kObjectiveStepsPerEpoch = 100;

struct Evaluation {
  double loss, accuracy;
};

/// Mean loss and accuracy per label: per image, or per character of a
/// language task's windows.
Evaluation evaluate(torch::nn::Sequential &model, const train::Dataset &data) {
  torch::NoGradGuard noGrad;
  model->eval();
  double loss = 0, correct = 0;
  const int64_t chunk = 1000;
  for (int64_t start = 0; start < data.size(); start += chunk) {
    int64_t n = std::min(chunk, data.size() - start);
    torch::Tensor logits = model->forward(data.inputs.narrow(0, start, n));
    torch::Tensor labels = data.labels.narrow(0, start, n).reshape({-1});
    loss += torch::nn::functional::cross_entropy(
                logits, labels,
                torch::nn::functional::CrossEntropyFuncOptions().reduction(
                    torch::kSum))
                .item<double>();
    correct += logits.argmax(1).eq(labels).sum().item<double>();
  }
  model->train();
  double labels = double(data.labels.numel());
  return {loss / labels, correct / labels};
}

bool exploded(double loss, double first, double factor) {
  return !std::isfinite(loss) || (first > 0 && loss > factor * first);
}

/// An objective minimised directly: the rule steps the point itself, with
/// the task's gradient noise. Its "validation" is the final value (also
/// the test: an objective has no held-out data), the curve one point per
/// epoch of 100 steps.
RunResult minimise(const train::Objective &problem, const TaskSpec &spec,
                   const TrainConfig &config) {
  auto start = std::chrono::steady_clock::now();
  torch::Tensor x = problem.init.clone().set_requires_grad(true);
  int64_t total = kObjectiveStepsPerEpoch * config.epochs;
  OptimizerOptions options(config.lr);
  options.total_steps(total).seed(int64_t(config.seed));
  std::vector<torch::Tensor> params = {x};
  auto optimizer =
      config.compiled
          ? std::make_unique<Optimizer>(params, config.compiled, options)
          : std::make_unique<Optimizer>(params, config.rule, options);
  RunResult result;
  result.status = "ok";
  double first = -1, value = 0;
  for (int64_t step = 0; step < total; ++step) {
    optimizer->zero_grad();
    torch::Tensor loss = problem.loss(x);
    value = loss.item<double>();
    if (first < 0)
      first = value;
    if (exploded(value, first, config.divergenceFactor)) {
      result.status = "diverged";
      break;
    }
    loss.backward();
    if (spec.gradientNoise > 0)
      x.mutable_grad().add_(
          train::gradientNoise({x.numel()}, config.seed, step).to(x.device()) *
          spec.gradientNoise);
    optimizer->step();
    ++result.steps;
    if (result.steps % kObjectiveStepsPerEpoch == 0)
      result.curve.push_back(
          {result.steps, value, problem.loss(x).item<double>(), 0});
  }
  value = result.status == "ok" ? problem.loss(x).item<double>() : NAN;
  result.bestValidationLoss = result.finalValidationLoss = value;
  result.bestValidationAccuracy = 0;
  if (config.evaluateTest && result.status == "ok") {
    result.tested = true;
    result.testLoss = value, result.testAccuracy = 0;
  }
  result.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count();
  return result;
}
} // namespace

void setTorchThreads(int threads) { at::set_num_threads(std::max(1, threads)); }

std::string trainingStack() {
  return fmt::format("training {}; kernels {} for {}; torch {} ({}), {} "
                     "thread(s)",
                     trainingSourceHash(), compilerVersion(),
                     Compiler::shared().targetId(), TORCH_VERSION,
                     at::get_cpu_capability(), at::get_num_threads());
}

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
  std::string text = describeSpec();
  if (!impl_->device.is_cpu())
    text += " on " + impl_->device.str();
  return text;
}

std::string Task::fingerprint() const {
  return describe() + ", data crc32 " + impl_->dataCrc();
}

std::string Task::describeSpec() const {
  const TaskSpec &s = impl_->spec;
  if (isObjective(s))
    return impl_->objective().name +
           (s.gradientNoise > 0
                ? ", gradient noise " + std::to_string(s.gradientNoise)
                : std::string()) +
           " (minimised directly)";
  std::string model = s.model;
  if ((s.model == "mlp" && s.hidden != TaskSpec{}.hidden) || s.model == "lstm")
    for (int64_t width : s.hidden)
      model += "-" + std::to_string(width);
  if (s.model == "mlp" && s.hidden.empty())
    model = "linear";
  if (s.pool > 1 && impl_->split.train.inputs.dim() == 4) // as pool() does
    model += ", inputs pooled " + std::to_string(s.pool) + "x" +
             std::to_string(s.pool);
  std::string unit =
      impl_->isText()
          ? " windows of " + std::to_string(s.sequenceLength) + " characters"
          : "";
  return s.dataset + "/" + model + " (" +
         std::to_string(impl_->split.train.size()) + " train, " +
         std::to_string(impl_->split.validation.size()) + " validation" + unit +
         ")";
}

bool isObjective(const TaskSpec &spec) {
  return spec.dataset == "rosenbrock" || spec.dataset == "quadratic";
}

std::string metricOf(const TaskSpec &spec) {
  if (isObjective(spec))
    return "log10-loss";
  return spec.dataset == "fortunes" ? "bits-per-char" : "accuracy";
}

std::string Task::metric() const { return metricOf(impl_->spec); }

double Task::metricValue(double loss, double accuracy) const {
  if (isObjective(impl_->spec))
    return std::log10(loss);
  return impl_->isText() ? loss / std::log(2.0) : accuracy;
}

int64_t Task::stepsPerEpoch(int64_t batchSize) const {
  if (isObjective(impl_->spec))
    return kObjectiveStepsPerEpoch;
  // dropLast is off, so the last batch may be short.
  return (impl_->split.train.size() + batchSize - 1) / batchSize;
}

RunResult Task::run(const TrainConfig &config) const {
  if (isObjective(impl_->spec))
    return minimise(impl_->objective(), impl_->spec, config);
  ChildRun child(*this, config);
  return child.advanceTo(child.totalSteps());
}

namespace {
/// An objective has no model and runs whole (Task::run).
const Task::Impl &refuseObjective(const Task::Impl &task) {
  if (isObjective(task.spec))
    throw std::invalid_argument(
        "the objective '" + task.spec.dataset +
        "' runs whole (Task::run); it has no model to train in rungs");
  return task;
}
} // namespace

class ChildRun::Impl {
public:
  Impl(const Task &task, const TrainConfig &config)
      : task(*task.impl_), config(config),
        model(refuseObjective(*task.impl_).makeModel(config.seed)),
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
    result.bestValidationLoss = INFINITY;
    for (const CurvePoint &p : result.curve) {
      result.bestValidationAccuracy =
          std::max(result.bestValidationAccuracy, p.validationAccuracy);
      result.bestValidationLoss =
          std::min(result.bestValidationLoss, p.validationLoss);
    }
    if (!result.curve.empty())
      result.finalValidationLoss = result.curve.back().validationLoss;
    if (config.evaluateTest && !result.tested && result.status == "ok" &&
        result.steps == total)
      scoreTest();
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
        model->forward(batch.inputs), batch.labels.reshape({-1}));
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

  void scoreTest() {
    Evaluation e = evaluate(model, task.test());
    result.tested = true;
    result.testLoss = e.loss, result.testAccuracy = e.accuracy;
    ++testsScored;
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
