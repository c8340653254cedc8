//===- Store.h - One SQLite database per search run -------------*- C++ -*-===//
//
// DIR/search.db (WAL mode) holds the run's settings, one row per candidate
// and the strategy's checkpoint. Each candidate is committed on its own as
// soon as it is settled; a checkpoint (the strategy's state, the next batch
// to learn from and the batches proposed beyond it) is one statement. So a
// SIGKILL loses at most the candidates in flight, and a resumed run replays
// from its checkpoint: it proposes exactly the batches it proposed before,
// whose stored rows are reused, never retrained.
//
//===----------------------------------------------------------------------===//
#ifndef NOS_SEARCH_STORE_H
#define NOS_SEARCH_STORE_H

#include "nos/search/Levels.h"
#include "nos/search/Pipeline.h"
#include "nos/search/Space.h"

#include <cmath>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

struct sqlite3;

namespace nos::search {

/// Bumped whenever the schema or the meaning of a stored value changes.
/// 2: fidelity and rungs; 3: pending batches; 4: the funnel's level runs;
/// 5: promotions; 6: level runs served by the level-results cache (older
/// formats are upgraded when opened for writing, read as they are
/// otherwise).
inline constexpr int kStoreFormat = 6;

/// A rule sent up the funnel: decided when batch `decided` retired (-1 for
/// the references), joined (its score taken in) when batch `joined` did.
struct Promotion {
  static constexpr int64_t kNotJoined = INT64_MAX;
  int64_t candidate = 0;
  std::string level; // "L2", "L3"
  int64_t decided = 0;
  int64_t joined = kNotJoined;
  /// Against the best reference at the level, and the reward it gives
  /// copies (search/Funnel.h); NaN for references or no score. For
  /// meta-validation, `reward` is the one the run credited the rule with.
  double score = NAN, reward = NAN;
  double time = 0; // the run's time when decided
};

/// A batch proposed but not yet learned from: what the strategy proposed
/// and the bars of successive halving it is evaluated against.
struct PendingBatch {
  int64_t batch = 0;
  std::vector<Actions> proposals;
  std::vector<double> bars;
};

/// Where a run stands at a checkpoint: the strategy has learned from every
/// batch below nextBatch and proposed those of `pending`.
struct Progress {
  int64_t nextBatch = 0;
  std::string strategyState; // Strategy::saveState(), empty before the first
  double elapsedSeconds = 0;
  /// The budget: 0 means no limit of that kind.
  int64_t targetCandidates = 0;
  double targetSeconds = 0;
  std::vector<PendingBatch> pending;
};

class Store {
public:
  /// Makes DIR (and its parents) and DIR/search.db. Throws
  /// std::runtime_error when DIR already holds a run or cannot be written.
  static std::unique_ptr<Store> create(const std::string &dir,
                                       const std::string &settingsJson);
  /// Opens an existing run; throws std::runtime_error, changing nothing,
  /// for a missing, corrupted or foreign database or another format.
  static std::unique_ptr<Store> open(const std::string &dir,
                                     bool readOnly = false);
  ~Store();

  const std::string &dir() const { return dir_; }
  std::string settingsJson() const;
  Progress progress() const;
  void saveProgress(const Progress &p);

  /// Stores a settled candidate and sets its id. Thread-safe.
  void insert(Candidate &c);
  /// Stores the trainings of candidate `candidate` (a stored id) at a
  /// funnel level, all or none; one (task, lr, seed) once. Thread-safe.
  void insertLevelRuns(int64_t candidate, const std::string &level,
                       const std::vector<LevelRun> &runs, double time);
  /// What insertLevelRuns stored, in its order.
  std::vector<LevelRun> levelRuns(int64_t candidate,
                                  const std::string &level) const;
  /// Records a promotion decided (once; a replayed decision is ignored),
  /// then its join.
  void insertPromotion(const Promotion &p);
  void joinPromotion(const Promotion &p);
  /// The funnel's training time, all levels together, less what the
  /// level-results cache served (time this run did not spend).
  double levelSeconds() const;
  /// Every promotion, in the order decided.
  std::vector<Promotion> promotions() const;
  /// Strategy candidates of batches below `batch` that were evaluated
  /// themselves (not copies, not screened).
  int64_t evaluatedBefore(int64_t batch) const;
  /// (id, reward) of the strategy candidates of batches below `batch`
  /// scored at full fidelity, in id order.
  std::vector<std::pair<int64_t, double>> scoredBefore(int64_t batch) const;
  std::optional<Candidate> candidate(int64_t id) const;
  /// The first stored candidate of a batch below `before` with this
  /// canonical form / fingerprint that was evaluated itself (not a duplicate
  /// or equivalent).
  std::optional<Candidate> findCanonical(const std::string &canonical,
                                         int64_t before) const;
  std::optional<Candidate> findFingerprint(const std::string &fp,
                                           int64_t before) const;
  std::vector<Candidate> batch(int64_t batch) const;
  /// Every candidate in id order (references included).
  std::vector<Candidate> all() const;
  /// Candidates proposed by the strategy (references excluded).
  int64_t searchCount() const;
  /// Those candidates per status, and the first with the highest reward
  /// that was evaluated itself (a copy may carry the funnel's reward).
  std::map<std::string, int64_t> statusCounts() const;
  std::optional<Candidate> best() const;
  /// The rung accuracies of every candidate evaluated in a batch before
  /// `batch` (references included), to rebuild successive halving's bars.
  std::vector<std::vector<double>> rungsBefore(int64_t batch) const;
  /// The largest candidate id, 0 for none.
  int64_t lastId() const;

private:
  Store(std::string dir, sqlite3 *db) : dir_(std::move(dir)), db_(db) {}
  std::vector<Candidate> query(const std::string &where,
                               const std::vector<std::string> &args) const;

  std::string dir_;
  sqlite3 *db_;
  int format_ = kStoreFormat;
  mutable std::mutex mutex_;
};

} // namespace nos::search

#endif // NOS_SEARCH_STORE_H
