//===- Funnel.h - Promotions of the best rules to costlier levels -*- C++
//-*-===//
//
// Private to search/: the Engine's part that sends rules up the funnel
// (Levels.h). Every `round` proxy evaluations, at the retirement of a batch,
// a round is decided: the best proxy results that are in the top share and
// ahead of the best reference go up to L2, the best L2 results that are in
// the top share and ahead of the best reference there go up to L3. The
// references go through every level at the start, with the same grid and
// seeds. A promotion's trainings are pool jobs beside the candidates, one
// per (task, seed, lr), stored as they end; its score is taken in ("joined") at
// the next round's retirement, which waits for them. Decisions and joins
// happen only at retirements, in batch order, so a run's promotions depend
// on its settings and seed alone, whatever the workers' timing.
//
// The reward scheme: at a level, a rule's score is the mean over the
// level's tasks of its relative margin over the best reference there (its
// best-lr mean metric against the best of the references' best-lr means,
// divided by that, signed so that better is positive). A copy of a
// promoted rule proposed later earns reward0 + |reward0| * score, reward0
// being the best reference's proxy reward: the proxy's scale, with the
// margin measured at the highest level the rule reached.
//
// Meta-validation: at each round whose best rule (best margin at the
// highest level with a result, else best proxy reward) is new, that rule
// is trained on a held-out task, as the references were at the start. It is
// stored as a promotion to level "meta" with the time and the reward the
// run credited the rule with, never joined: nothing the search decides
// reads it, so it never blocks a retirement. A rule is validated once: a
// best that returns is not trained again.
//
//===----------------------------------------------------------------------===//
#ifndef NOS_SEARCH_FUNNEL_H
#define NOS_SEARCH_FUNNEL_H

#include "LevelCache.h"

#include "nos/search/Levels.h"
#include "nos/search/Settings.h"
#include "nos/search/Store.h"
#include "nos/search/Workers.h"

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace nos::search {

/// The tasks of the levels in use and of meta-validation, loaded.
struct FunnelTasks {
  std::vector<std::unique_ptr<LevelTrainer>> trainers; // levels, then meta
  size_t meta = SIZE_MAX; // meta-validation's index, SIZE_MAX when off
  /// Serves and keeps the trainings run on this process's threads; null:
  /// every training runs (MPI ranks train theirs uncached).
  std::unique_ptr<LevelCache> cache;
};

/// A worker process's side of the funnel's jobs (an MPI rank): trains what
/// a job's request() names with the levels of the run's settings and
/// replies with the run.
class FunnelServant {
public:
  /// Loads every level's tasks now, so that data missing on a worker's
  /// host stops the run at its start (std::runtime_error), not midway.
  explicit FunnelServant(const SearchSettings &settings);
  ~FunnelServant();
  /// Throws std::runtime_error for a malformed request or a level the
  /// settings lack; a failed training is the reply's status.
  std::string serve(const std::string &request);

private:
  std::unique_ptr<FunnelTasks> tasks_; // null when the run does not promote
};

class Funnel {
public:
  /// Why `s` cannot promote as asked, or "" (checked before a run folder
  /// exists).
  static std::string refuse(const SearchSettings &s);
  /// Loads every task the funnel of `s` trains on, or null when `s` does
  /// not promote; throws std::runtime_error naming missing data. Called
  /// before a run folder exists, so missing data leaves none behind.
  static std::unique_ptr<FunnelTasks> load(const SearchSettings &s);

  /// Takes up where the store stands at batch `nextBatch`: the promotions
  /// decided before it and their joins. Nothing trains before start().
  Funnel(const SearchSettings &settings, std::unique_ptr<FunnelTasks> tasks,
         Store &store, WorkerPool &pool, int64_t nextBatch,
         std::function<void(const std::string &)> log);
  ~Funnel();
  /// Queues the trainings that the promotions taken up still lack; from
  /// now on a promotion queues its own when decided.
  void start();

  /// False while retiring this batch would join promotions still training.
  bool canRetire(const std::vector<Candidate> &slots) const;
  /// After the strategy learned from `batch` (-1: the references); `now`:
  /// the run's time.
  void retired(int64_t batch, const std::vector<Candidate> &slots, double now);
  /// A job the pool handed back; stores its trainings.
  void finished(PoolJob &job, double now);
  /// The reward a copy of candidate `original` in `batch` earns, where a
  /// promotion of it joined before that batch was proposed.
  std::optional<double> reward(int64_t original, int64_t batch) const;
  /// Promotions with trainings outstanding (`joinedOnly`: not counting
  /// meta-validation, which is never joined).
  size_t waiting(bool joinedOnly = false) const;

private:
  struct Job;
  struct Entry;
  using Key = std::pair<int64_t, size_t>; // candidate, level index
  /// Values best first, each with its candidate's negated id (ties: lower
  /// id first).
  using Ranking = std::set<std::pair<double, int64_t>, std::greater<>>;

  static constexpr size_t kNoMeta = SIZE_MAX;

  void promote(const Promotion &p, const std::string &canonical, size_t level,
               bool reference);
  std::optional<size_t> levelNamed(const std::string &name) const;
  void launch(Entry &e);
  bool boundary(const std::vector<Candidate> &slots) const;
  void join(int64_t batch, bool store);
  void joinOne(Entry &e, int64_t batch, bool store);
  void decide(int64_t batch, double now);
  void decideFromProxy(int64_t batch, double now);
  void decideFromLevel(size_t from, int64_t batch, double now);
  void promoteBest(const Ranking &ranking, double bar, size_t to, int64_t batch,
                   double now,
                   const std::function<std::string(int64_t)> &canonicalOf,
                   const std::function<std::string(double)> &why);
  std::optional<std::pair<int64_t, double>> best() const;
  void validateBest(int64_t batch, double now);

  SearchSettings settings_;
  Store &store_;
  WorkerPool &pool_;
  std::function<void(const std::string &)> log_;
  /// The levels in use, then meta-validation's (at meta_) if on.
  std::unique_ptr<FunnelTasks> tasks_;
  std::vector<std::unique_ptr<LevelTrainer>> &trainers_;
  size_t meta_ = kNoMeta;
  bool started_ = false;
  int64_t evaluated_ = 0;
  std::map<Key, std::unique_ptr<Entry>> entries_;
  /// Proxy results and joined level scores, best first (ties: lower id).
  Ranking proxy_;
  std::vector<Ranking> levels_;
  double referenceReward_ = -INFINITY;
  /// Per level: the references' scores joined, and per task the best.
  std::vector<std::vector<std::vector<TaskScore>>> referenceScores_;
  std::vector<std::map<std::string, double>> referenceBest_;
  /// Per candidate, the reward its copies earn from each join (a rule that
  /// goes up twice has two), by the batch it joined at: a copy takes the
  /// latest it may see, so a later join never hides an earlier one.
  std::map<int64_t, std::map<int64_t, double>> copyRewards_;
};

} // namespace nos::search

#endif // NOS_SEARCH_FUNNEL_H
