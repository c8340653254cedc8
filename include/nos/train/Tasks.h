//===- Tasks.h - The task suite: named tasks, three splits ------*- C++ -*-===//
//
// Every task a rule can be trained and judged on, by name, with the
// training budget it is run with in full: Fashion-MNIST's MLP at three sizes
// and its ConvNet, a character-level LSTM on English text, logistic
// regression on generated data, and CIFAR-10 where a user has it. Each has
// train, validation and test splits; validation chooses, test only reports
// (TrainConfig::evaluateTest). The search's proxies (Proxy.h) are cheaper
// cuts of the same data.
//
//===----------------------------------------------------------------------===//
#ifndef NOS_TRAIN_TASKS_H
#define NOS_TRAIN_TASKS_H

#include "nos/train/Trainer.h"

#include <cstdint>
#include <string>
#include <vector>

namespace nos::train {

struct SuiteTask {
  std::string name;
  std::string summary; // one line: data, model, budget
  TaskSpec spec;       // spec.name is `name`
  int64_t epochs = 1;
  int64_t batchSize = 128;
  /// The Debian package with its data; "" when generated or the user's.
  std::string package;

  /// A TrainConfig with this task's budget (rule, lr and seed left as is).
  TrainConfig config(TrainConfig base = {}) const;
};

/// The suite, in a fixed order.
const std::vector<SuiteTask> &taskSuite();
/// The task `name`; throws std::invalid_argument listing the known names.
const SuiteTask &suiteTask(const std::string &name);

} // namespace nos::train

#endif // NOS_TRAIN_TASKS_H
