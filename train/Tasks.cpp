//===- Tasks.cpp - The task suite: named tasks, three splits
//---------------===//
//
// Each entry says everything that differs from TaskSpec's defaults, so that
// changing a default cannot silently change a named task. Budgets were
// chosen to keep one run of every task under about a minute on one core of
// the project's 2-core machines (docs/training.md has the measured costs).
//
//===----------------------------------------------------------------------===//
#include "nos/train/Tasks.h"

#include <stdexcept>

namespace nos::train {
namespace {

SuiteTask fashion(std::string name, std::string summary) {
  SuiteTask t;
  t.name = std::move(name), t.summary = std::move(summary);
  t.spec.dataset = "fashion-mnist";
  t.spec.trainSize = 0, t.spec.validationSize = 10000; // 50,000 train
  t.package = "dataset-fashion-mnist";
  return t;
}

std::vector<SuiteTask> makeSuite() {
  std::vector<SuiteTask> out;
  SuiteTask t = fashion("fmnist-mlp-s", "Fashion-MNIST pooled to 14x14, "
                                        "12,000 train, MLP 128, 1 epoch");
  t.spec.pool = 2, t.spec.trainSize = 12000, t.spec.validationSize = 2000;
  out.push_back(t);

  t = fashion("fmnist-mlp", "Fashion-MNIST, 50,000 train, MLP 128, 3 epochs");
  t.epochs = 3;
  out.push_back(t);

  t = fashion("fmnist-mlp-l",
              "Fashion-MNIST, 50,000 train, MLP 512-256, 3 epochs");
  t.spec.hidden = {512, 256}, t.epochs = 3;
  out.push_back(t);

  t = fashion("fmnist-convnet",
              "Fashion-MNIST, 50,000 train, ConvNet 32 filters, 1 epoch");
  t.spec.model = "convnet", t.spec.filters = 32;
  out.push_back(t);

  t = SuiteTask{};
  t.name = "charlm";
  t.summary = "English text (fortunes), windows of 64 characters, LSTM 128, "
              "1 epoch; bits per character";
  t.spec.dataset = "fortunes", t.spec.model = "lstm";
  t.spec.hidden = {128}, t.spec.embedding = 32, t.spec.sequenceLength = 64;
  t.spec.trainSize = 0, t.spec.validationSize = 0, t.spec.testSize = 0;
  t.batchSize = 32, t.package = "fortunes";
  out.push_back(t);

  // A held-out task cheap enough to score a search's best rules as it goes
  // (meta-validation): charlm's data and model, smaller, about a second a
  // run where charlm takes ~25 s.
  t.name = "charlm-s";
  t.summary = "English text (fortunes), 4,000 windows of 64 characters, "
              "LSTM 64, 1 epoch; bits per character";
  t.spec.hidden = {64}, t.spec.embedding = 16;
  t.spec.trainSize = 4000, t.spec.validationSize = 1000;
  out.push_back(t);

  t = SuiteTask{};
  t.name = "logistic";
  t.summary = "logistic regression on 20-dimensional generated data, 16,000 "
              "train, 3 epochs";
  t.spec.dataset = "logistic", t.spec.model = "mlp", t.spec.hidden = {};
  t.spec.trainSize = 16000, t.spec.validationSize = 4000;
  t.spec.testSize = 10000, t.epochs = 3;
  out.push_back(t);

  // Objectives minimised directly: milliseconds a run, no data; for the
  // funnel's first levels and for tests.
  t = SuiteTask{};
  t.name = "rosenbrock";
  t.summary = "the extended Rosenbrock function in 10 dimensions from "
              "(-1.2, 1, ...), 500 steps; log10 of the final value";
  t.spec.dataset = "rosenbrock", t.spec.model = "none", t.spec.hidden = {};
  t.spec.dimension = 10, t.epochs = 5;
  out.push_back(t);

  t.name = "noisy-quadratic";
  t.summary = "a 100-dimensional quadratic of condition number 100 with "
              "normal gradient noise (sd 0.1), 500 steps; log10 of the "
              "final value";
  t.spec.dataset = "quadratic", t.spec.dimension = 100;
  t.spec.gradientNoise = 0.1;
  out.push_back(t);

  t = SuiteTask{};
  t.name = "cifar10-convnet";
  t.summary = "CIFAR-10 (your download: --data-dir), 45,000 train, ConvNet "
              "32 filters, 1 epoch";
  t.spec.dataset = "cifar10", t.spec.model = "convnet", t.spec.filters = 32;
  t.spec.trainSize = 0, t.spec.validationSize = 5000;
  out.push_back(t);

  for (SuiteTask &task : out)
    task.spec.name = task.name;
  return out;
}

} // namespace

TrainConfig SuiteTask::config(TrainConfig base) const {
  base.epochs = epochs, base.batchSize = batchSize;
  return base;
}

const std::vector<SuiteTask> &taskSuite() {
  static const std::vector<SuiteTask> suite = makeSuite();
  return suite;
}

const SuiteTask &suiteTask(const std::string &name) {
  std::string known;
  for (const SuiteTask &t : taskSuite()) {
    if (t.name == name)
      return t;
    known += (known.empty() ? "" : ", ") + t.name;
  }
  throw std::invalid_argument("unknown task '" + name + "'; expected one of " +
                              known);
}

} // namespace nos::train
