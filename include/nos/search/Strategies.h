//===- Strategies.h - How the search proposes rules -------------*- C++ -*-===//
//
// Four strategies over the same token space: the paper's LSTM controller
// trained with PPO or with REINFORCE, uniform random sampling, and
// regularized (aging) evolution. They share one protocol: propose a batch,
// learn from its rewards, and save or restore everything that decides the
// next proposal (weights, optimizer moments, baseline, population, random
// state) as bytes, so a resumed run proposes exactly what the killed one
// would have. No torch types here; the controller's live in Controller.h.
//
//===----------------------------------------------------------------------===//
#ifndef NOS_SEARCH_STRATEGIES_H
#define NOS_SEARCH_STRATEGIES_H

#include "nos/Random.h"
#include "nos/search/Space.h"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace nos::search {

/// Every setting of every strategy; each is a nos-search flag.
struct StrategyOptions {
  std::string name = "ppo"; // ppo, reinforce, random, evolution
  uint64_t seed = 0;
  // Controller (ppo, reinforce).
  int hidden = 150;
  int layers = 1;
  int embedding = 32;
  double initScale = 0.08;
  double learningRate = 0.002;
  double entropyWeight = 0.01;
  /// With a target in (0, 1) and copyReward "none", the entropy weight is
  /// steered after each batch so that at least this share of proposals
  /// teaches (is not a copy): raised while the policy repeats itself,
  /// lowered back to entropyWeight as it explores again. 0: fixed.
  double noveltyTarget = 0.5;
  double baselineDecay = 0.9;
  bool normalizeAdvantages = false;
  double clip = 0.2; // ppo
  int ppoEpochs = 4; // ppo
  // Evolution.
  int population = 24;
  int tournament = 6;
  double unitMutation = 0.25; // else one token
  /// Evolution's warm start, as Lion's search started from AdamW: rules in
  /// the space's token form (Space::tokens), proposed first; until the
  /// population is full, children are mutants of its members (of these
  /// rules while it is empty) rather than uniform samples.
  std::vector<std::string> warmStart;
  /// Evolution restarts after this many members in a row bring no new
  /// best (copies count only with copyMembers "join"): the population
  /// shrinks to the best rule found so far and refills with mutants of it.
  /// 0: never.
  int restartAfter = 0;
  /// What a copy with a reward (the funnel's, for the rule it copies) does
  /// in evolution: "rescore", rescore that rule where it is a member, with
  /// no population place and no try towards a restart; "join", join the
  /// population as a member, a try like any other (before 63640d4).
  std::string copyMembers = "rescore";
  /// What a copy of a rule evaluated before (a duplicate or an equivalent)
  /// teaches the strategy: "original", its original's reward; "none",
  /// nothing (a NaN reward: no advantage, not a population member), unless
  /// its reward is new, from a promotion the funnel joined.
  std::string copyReward = "none";

  /// Whether a copy reaches the strategy as a NaN reward (no advantage, no
  /// population place): the one place that knows what "none" means.
  bool copiesTeachNothing() const { return copyReward == "none"; }
  /// Whether a rewarded copy rescores its member in evolution rather than
  /// joining the population: the one place that knows what "rescore" means.
  bool copiesRescore() const { return copyMembers == "rescore"; }
};

class Strategy {
public:
  virtual ~Strategy();
  /// `count` rules, deterministic given the seed and what was learnt.
  virtual std::vector<Actions> propose(int count) = 0;
  /// Rewards of the rules of the last proposal, in order; NaN for a rule
  /// that teaches nothing (a copy, by StrategyOptions::copyReward).
  /// `copies` (empty: none) marks the rules that were not evaluated but
  /// copied a rule evaluated before; with a reward, the funnel's for it.
  virtual void learn(const std::vector<Actions> &batch,
                     const std::vector<double> &rewards,
                     const std::vector<bool> &copies) = 0;
  void learn(const std::vector<Actions> &batch,
             const std::vector<double> &rewards) {
    learn(batch, rewards, {});
  }
  virtual std::string saveState() const = 0;
  /// Throws std::runtime_error when the bytes are not this strategy's state.
  virtual void loadState(const std::string &bytes) = 0;
  /// One line for the log, e.g. "baseline 0.71 entropy 12.3".
  virtual std::string describe() const { return {}; }
};

/// Throws std::invalid_argument for an unknown name or a bad setting.
std::unique_ptr<Strategy> makeStrategy(const StrategyOptions &options,
                                       const Space &space);
/// Names makeStrategy knows.
const std::vector<std::string> &strategyNames();

/// Uniform over the space.
Actions sampleUniform(const Space &space, Rng &rng);

} // namespace nos::search

#endif // NOS_SEARCH_STRATEGIES_H
