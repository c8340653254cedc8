//===- Store.h - One SQLite database per search run -------------*- C++ -*-===//
//
// DIR/search.db (WAL mode) holds the run's settings, one row per candidate
// and the strategy's state. Each candidate is committed on its own as soon
// as it is settled, and the strategy's state together with the next batch
// number in one statement after every update, so a SIGKILL loses at most
// the candidates in flight and a resumed run re-proposes exactly the batch
// it was on (whose stored rows are reused, never retrained).
//
//===----------------------------------------------------------------------===//
#ifndef NOS_SEARCH_STORE_H
#define NOS_SEARCH_STORE_H

#include "nos/search/Pipeline.h"

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

struct sqlite3;

namespace nos::search {

/// Bumped whenever the schema or the meaning of a stored value changes.
inline constexpr int kStoreFormat = 2; // 2: fidelity and rungs

/// Where a run stands between controller updates.
struct Progress {
  int64_t nextBatch = 0;
  std::string strategyState; // Strategy::saveState(), empty before the first
  double elapsedSeconds = 0;
  /// The budget: 0 means no limit of that kind.
  int64_t targetCandidates = 0;
  double targetSeconds = 0;
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
  /// The first stored candidate with this canonical form / fingerprint that
  /// was evaluated itself (not a duplicate or equivalent).
  std::optional<Candidate> findCanonical(const std::string &canonical) const;
  std::optional<Candidate> findFingerprint(const std::string &fp) const;
  std::vector<Candidate> batch(int64_t batch) const;
  /// Every candidate in id order (references included).
  std::vector<Candidate> all() const;
  /// Candidates proposed by the strategy (references excluded).
  int64_t searchCount() const;
  /// Those candidates per status, and the first with the highest reward.
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
  mutable std::mutex mutex_;
};

} // namespace nos::search

#endif // NOS_SEARCH_STORE_H
