//===- LevelCache.h - Level trainings kept across runs ----------*- C++ -*-===//
//
// Private to search/: the funnel's level trainings of earlier runs, served
// again. Every run trains the references at every level first, with the
// same tasks, seeds and lrs, and gets the same numbers; in an 8-minute run
// that is a third or more of the workers' time. A training is deterministic
// given its inputs (Task::run), so its result is kept in one SQLite
// database per machine under a key of everything it depends on: the
// training stack (train::trainingStack: the sources' hash, the kernels'
// compiler and target, torch's version and CPU dispatch, the thread's torch
// threads), the task as trained with a checksum of its data, the canonical
// rule, the seed and the exact lr. A key that differs in any of them is a
// miss, never a near match. Failed trainings are not kept: a failure may
// be the machine's, not the rule's.
//
//===----------------------------------------------------------------------===//
#ifndef NOS_SEARCH_LEVELCACHE_H
#define NOS_SEARCH_LEVELCACHE_H

#include "nos/search/Levels.h"

#include <cstdint>
#include <mutex>
#include <optional>
#include <string>

struct sqlite3;

namespace nos::search {

struct LevelCacheKey {
  std::string stack; // train::trainingStack() on the training thread
  std::string task;  // the suite's name
  std::string data;  // train::Task::fingerprint()
  std::string rule;  // canonical
  uint64_t seed = 0;
  double lr = 0;
};

class LevelCache {
public:
  /// Opens the database at `path`, creating it and its folder; throws
  /// std::runtime_error naming the path and why.
  explicit LevelCache(const std::string &path);
  ~LevelCache();
  LevelCache(const LevelCache &) = delete;
  LevelCache &operator=(const LevelCache &) = delete;

  /// levels.db in the cache folder (nos::cacheDir()); "" when there is
  /// none.
  static std::string defaultPath();
  const std::string &path() const { return path_; }

  /// The stored result (marked cached), or none. A database error reads as
  /// a miss and is kept for takeError().
  std::optional<LevelRun> find(const LevelCacheKey &key) const;
  /// Keeps `run` unless it failed; an error is kept for takeError().
  void put(const LevelCacheKey &key, const LevelRun &run);
  /// The first error since the last call, or "".
  std::string takeError();

private:
  /// `f()` under the lock; if it throws, the first such error is kept for
  /// takeError() and the answer is `otherwise` (a cache that cannot answer
  /// misses rather than stopping the run).
  template <typename F, typename R> R guarded(F f, R otherwise) const;

  std::string path_;
  sqlite3 *db_ = nullptr;
  mutable std::mutex mutex_;
  mutable std::string error_;
};

/// Trains `canonical` on one task, seed and lr at `trainer`'s level, or
/// serves it from `cache` (null: always trains) and keeps what it trained
/// there. A rule that fails to compile or train is a run with its reason.
LevelRun trainLevelRun(const LevelTrainer &trainer, LevelCache *cache,
                       const std::string &canonical, const std::string &task,
                       uint64_t seed, double lr);

} // namespace nos::search

#endif // NOS_SEARCH_LEVELCACHE_H
