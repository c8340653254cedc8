//===- Trainer.h - Child training: one rule, one lr, one seed ---*- C++ -*-===//
//
// What the search scores a candidate with, and what nos-train compares rules
// with: train a small network on a task with a nos::Optimizer and report the
// validation curve. No torch types here (a pimpl hides the task), so tools
// that only drive training compile without LibTorch headers. A rule comes as
// text (nos-train) or compiled once (CompiledRule, the search).
//
//===----------------------------------------------------------------------===//
#ifndef NOS_TRAINER_H
#define NOS_TRAINER_H

#include "nos/Compiler.h"

#include <cmath>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace nos::train {

struct TaskSpec {
  /// The suite's name (Tasks.h), which errors name; "" for one built here.
  std::string name;
  /// fashion-mnist, cifar10, logistic (generated), fortunes (English
  /// text, Text.h), or an objective minimised directly: rosenbrock or
  /// quadratic (Data.h; no data, no model, 100 steps an epoch).
  std::string dataset = "fashion-mnist";
  std::string model = "mlp";           // mlp, convnet, lstm (text only)
  std::string dataDir;                 // empty: the dataset's default
  std::vector<int64_t> hidden = {128}; // mlp widths; lstm: its units
  /// Images average-pooled over pool x pool pixels (1: as stored), a
  /// cheaper proxy: 2 turns Fashion-MNIST's 28x28 into 14x14. Tabular data
  /// is never pooled.
  int64_t pool = 1;
  int64_t filters = 32;  // convnet filters per layer
  int64_t trainSize = 0; // 0: every training example left (text: windows)
  /// Held out of the training set (images, logistic); text has a split of
  /// its own, which this caps.
  int64_t validationSize = 5000;
  /// Examples of the test split scored (0: all of it). The test split is
  /// the official one where there is one (Fashion-MNIST's 10,000, CIFAR's
  /// test_batch); it is read only by runs that ask for it.
  int64_t testSize = 0;
  uint64_t splitSeed = 0;
  int64_t sequenceLength = 64; // text: characters per window
  int64_t embedding = 32;      // lstm: embedding size
  int64_t dimension = 10;      // objectives: the point's dimension
  /// Objectives: standard deviation of the normal noise added to every
  /// gradient (a stochastic objective), drawn from the run's seed.
  double gradientNoise = 0;
  /// Where the data, the model and the update kernel live: cpu, cuda or
  /// cuda:N (resolveDevice). Initial weights and batch order are drawn on
  /// the CPU either way, so a seed starts the same run on every device.
  std::string device = "cpu";
};

struct TrainConfig {
  std::string rule = "sgd"; // built-in name or rule string
  /// The rule compiled once (the search's lanes): used instead of `rule`
  /// when set, so no lane parses or compiles it again.
  CompiledRule compiled;
  double lr = 0.1;
  int64_t epochs = 1;
  int64_t batchSize = 128;
  uint64_t seed = 0;
  /// Validation passes per epoch (the curve's resolution).
  int64_t evalsPerEpoch = 4;
  /// A loss above this multiple of the first batch's loss, or a NaN/Inf
  /// loss, stops the run as diverged.
  double divergenceFactor = 20;
  /// Score the final model on the task's test split when the run ends. For
  /// reporting (nos-train --test, a final table), never for choosing.
  bool evaluateTest = false;
};

struct CurvePoint {
  int64_t step;
  double trainLoss, validationLoss, validationAccuracy;
};

struct RunResult {
  std::string status; // "ok" or "diverged"
  double bestValidationAccuracy = 0;
  double bestValidationLoss = INFINITY;
  double finalValidationLoss = 0;
  /// The final model on the test split (TrainConfig::evaluateTest, and only
  /// once every step is taken).
  bool tested = false;
  double testLoss = NAN, testAccuracy = NAN;
  int64_t steps = 0;
  double seconds = 0;
  std::vector<CurvePoint> curve;
};

/// The cheap problem a search candidate must make progress on before child
/// training: `steps` full-batch steps on train::quadratic(dim, seed), an
/// ill-conditioned quadratic, at each lr; passed when, at some lr, the final
/// loss is finite and below `target` times the initial loss.
struct HurdleSpec {
  int64_t dim = 32;
  int64_t steps = 200;
  double target = 0.5;
  uint64_t seed = 0;
  std::vector<double> lrs = {0.001, 0.01, 0.1, 1};
};

struct HurdleResult {
  bool passed = false;
  double ratio = INFINITY; // best final / initial loss over the lrs
  double lr = 0;           // where it was reached
};

/// Throws std::invalid_argument for a bad rule.
HurdleResult runHurdle(const std::string &rule, const HurdleSpec &spec);
/// The same with a rule compiled once: every lr reuses its kernel, called
/// directly on plain arrays (no autograd, no optimizer object).
HurdleResult runHurdle(const CompiledRule &rule, const HurdleSpec &spec);
/// The hurdle as it ran before (torch autograd and nos::Optimizer per lr),
/// kept to show that the plain one rejects the same rules (nos-bench hurdle).
HurdleResult runHurdleWithTorch(const CompiledRule &rule,
                                const HurdleSpec &spec);

/// Test splits scored by this process so far (RunResult::tested runs): a
/// search or study that selects rules must leave it unchanged.
uint64_t testEvaluations();

/// Sets torch's intra-op threads for the calling thread (and the width of
/// nos::Optimizer's update pool on it); search workers run with 1 each.
void setTorchThreads(int threads);

/// The hash of every source a training's result depends on
/// (train/CMakeLists.txt lists them).
const char *trainingSourceHash();
/// What a training's result depends on besides its task, rule, seed and lr,
/// as seen from the calling thread: the sources' hash, the kernels'
/// compiler and target, torch's version and CPU dispatch, and the thread's
/// torch threads. Task::run being deterministic, two trainings with equal
/// stacks and inputs return the same result: the level-results cache
/// (search/LevelCache.h) serves results under this key and no other.
std::string trainingStack();

/// Throws std::invalid_argument unless `name` spells a device nos trains
/// on: cpu, cuda or cuda:N. By spelling alone, so that a run stored on a
/// GPU machine still reads where there is none.
void checkDeviceName(const std::string &name);
/// "cpu" or "cuda:N" for cpu, cuda or cuda:N. Throws std::invalid_argument
/// for any other name (checkDeviceName), std::runtime_error when this
/// LibTorch sees no such CUDA device (naming how many it sees, and why when
/// it sees none).
std::string resolveDevice(const std::string &name);

/// A loaded task: data read once, models made fresh for every run.
/// "accuracy" (classes), "bits-per-char" for a language task, or
/// "log10-loss" for an objective (its final value): what Task::metric()
/// says of a task made from `spec`, without its data.
std::string metricOf(const TaskSpec &spec);
/// Whether `spec` is an objective minimised directly (no data, no model).
bool isObjective(const TaskSpec &spec);

class Task {
public:
  /// Throws std::runtime_error (naming the file) when data cannot be read.
  explicit Task(const TaskSpec &spec);
  ~Task();
  Task(const Task &) = delete;
  Task &operator=(const Task &) = delete;

  /// Deterministic for a (config, task): same seed, same result. Throws
  /// std::invalid_argument for a bad rule.
  RunResult run(const TrainConfig &config) const;
  /// Batches in one epoch of `batchSize`.
  int64_t stepsPerEpoch(int64_t batchSize) const;
  std::string describe() const;
  /// describe() and a checksum of the training and validation data, taken
  /// once on first use: the same task name over other data (another
  /// package version, another --data-dir) never matches.
  std::string fingerprint() const;
  /// "accuracy" (classes), or "bits-per-char" for a language task, whose
  /// accuracy is next-character accuracy.
  std::string metric() const;
  /// The metric from a mean cross-entropy (nats) and an accuracy.
  double metricValue(double loss, double accuracy) const;

  class Impl;

private:
  std::string describeSpec() const;
  friend class ChildRun;
  std::unique_ptr<Impl> impl_;
};

/// A child training that can pause and go on, for successive halving: each
/// lane trains to a rung, and only the best go further. Pausing changes
/// nothing about the steps taken, so a run advanced in pieces ends where
/// Task::run ends, with one more validation pass at every pause.
class ChildRun {
public:
  /// Throws std::invalid_argument for a bad rule. `task` must outlive it.
  ChildRun(const Task &task, const TrainConfig &config);
  ~ChildRun();
  ChildRun(ChildRun &&) noexcept;

  int64_t totalSteps() const;
  /// Trains until `step` steps are done (at most totalSteps()) or the run
  /// diverges, then validates if the last step was not yet validated.
  const RunResult &advanceTo(int64_t step);
  const RunResult &result() const;
  /// Diverged, or every step taken.
  bool finished() const;

  class Impl;

private:
  std::string describeSpec() const;
  std::unique_ptr<Impl> impl_;
};

} // namespace nos::train

#endif // NOS_TRAINER_H
