//===- Proxy.h - Named child tasks: what a rule is scored on ----*- C++ -*-===//
//
// A proxy is a child task (TaskSpec) with its scoring budget: the lr grid,
// epochs, batch size, successive halving and the hurdle. nos-search, its
// studies and nos-bench take them by name (proxyPresets); a run stores its
// proxy in its settings (search/Settings.h) and resumes from it.
//
//===----------------------------------------------------------------------===//
#ifndef NOS_TRAIN_PROXY_H
#define NOS_TRAIN_PROXY_H

#include "nos/train/Trainer.h"

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace nos::train {

/// What a candidate is scored on.
struct ProxySpec {
  /// "train": child training on `task`. "toy": no training; the reward is
  /// the agreement of the rule's probe updates with those of `toyTarget`
  /// (mean ratio of magnitudes where the signs agree): a reward whose best
  /// answer, 1, is known (for tests).
  std::string kind = "train";
  /// The default proxy ("12k-pool-halving", proxyPresets): 12,000
  /// Fashion-MNIST training images pooled to 14x14, 2,000 held out, with
  /// successive halving: the cheapest proxy measured whose rank correlation
  /// with the full task (0.81) is that of the unpooled, unhalved one, at
  /// 3.6x less training (docs/search.md). AddSign's reward spreads by
  /// 0.0074 (std over 5 child seeds) on 12,000 images, 0.025 on 6,000.
  TaskSpec task = [] {
    TaskSpec t;
    t.trainSize = 12000;
    t.validationSize = 2000;
    t.pool = 2;
    return t;
  }();

  std::vector<double> lrs = {0.001, 0.01, 0.1, 1};
  /// Successive halving over (candidate, lr) lanes: rung r of `rungs`
  /// trains to eta^(r + 1 - rungs) of the steps; past each rung below the
  /// top only the best 1/eta of a candidate's lrs go on, and only
  /// candidates whose accuracy there reaches the bar of earlier candidates
  /// (RungHistory). 1 rung: every lr trains to the end.
  int64_t rungs = 2;
  double eta = 3;
  int64_t epochs = 1;
  int64_t batchSize = 128;
  int64_t evalsPerEpoch = 2;
  /// The child seed: every candidate sees the same initial weights and
  /// batch order (common random numbers).
  uint64_t seed = 0;
  bool hurdle = true;
  HurdleSpec hurdleSpec;
  std::string toyTarget = "exp(sign(g) * sign(m)) * g";
};

/// The proxies nos-search knows by name ("full" is the reference task: the
/// whole training set less 10,000 held out, 3 epochs, no halving).
const std::map<std::string, ProxySpec> &proxyPresets();
/// The preset `name`; throws std::invalid_argument naming the known ones.
ProxySpec proxyPreset(const std::string &name);

} // namespace nos::train

#endif // NOS_TRAIN_PROXY_H
