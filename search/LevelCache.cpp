//===- LevelCache.cpp - Level trainings kept across runs ------------------===//
//
// One table whose primary key is the whole key, compared exactly (the lr as
// the double it is), so two keys never share a row. WAL and a busy timeout
// let the runs of one machine (the equal-compute script runs several) read
// and write it at once; each put is one statement, so a killed process
// leaves every row whole.
//
//===----------------------------------------------------------------------===//
#include "LevelCache.h"

#include "Sqlite.h"

#include "nos/Files.h"
#include "nos/train/Trainer.h"

#include <cmath>
#include <filesystem>

namespace nos::search {

using sqlite::Statement;

namespace {
const char *const kSchema = R"sql(
PRAGMA journal_mode=WAL;
PRAGMA synchronous=NORMAL;
CREATE TABLE IF NOT EXISTS level_results(
  stack TEXT NOT NULL, task TEXT NOT NULL, data TEXT NOT NULL,
  rule TEXT NOT NULL, seed INTEGER NOT NULL, lr REAL NOT NULL,
  status TEXT NOT NULL, metric REAL, seconds REAL NOT NULL,
  stored TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP,
  PRIMARY KEY(stack, task, data, rule, seed, lr));
)sql";

void bindKey(Statement &s, const LevelCacheKey &k) {
  s.bind(1, k.stack).bind(2, k.task).bind(3, k.data).bind(4, k.rule);
  s.bind(5, int64_t(k.seed)).bind(6, k.lr);
}
} // namespace

LevelCache::LevelCache(const std::string &path) : path_(path) {
  std::error_code ec;
  std::filesystem::path parent = std::filesystem::path(path).parent_path();
  if (!parent.empty())
    std::filesystem::create_directories(parent, ec);
  if (ec)
    throw std::runtime_error("the level-results cache " + path +
                             ": cannot create its folder: " + ec.message());
  db_ = sqlite::openDatabase(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
                                       SQLITE_OPEN_FULLMUTEX);
  try {
    sqlite::exec(db_, kSchema);
  } catch (const std::exception &e) {
    sqlite3_close(db_);
    throw std::runtime_error("the level-results cache " + path +
                             " cannot be used: " + e.what());
  }
}

LevelCache::~LevelCache() { sqlite3_close(db_); }

std::string LevelCache::defaultPath() {
  std::string dir = cacheDir();
  return dir.empty() ? "" : dir + "/levels.db";
}

template <typename F, typename R>
R LevelCache::guarded(F f, R otherwise) const {
  std::lock_guard<std::mutex> lock(mutex_);
  try {
    return f();
  } catch (const std::exception &e) {
    if (error_.empty())
      error_ = e.what();
    return otherwise;
  }
}

std::optional<LevelRun> LevelCache::find(const LevelCacheKey &key) const {
  return guarded(
      [&]() -> std::optional<LevelRun> {
        Statement s(db_, "SELECT status, metric, seconds FROM level_results "
                         "WHERE stack = ? AND task = ? AND data = ? AND "
                         "rule = ? AND seed = ? AND lr = ?");
        bindKey(s, key);
        if (!s.step())
          return std::nullopt;
        LevelRun r{key.task,
                   key.lr,
                   key.seed,
                   s.text(0),
                   s.isNull(1) ? NAN : s.real(1),
                   s.real(2)};
        r.cached = true;
        return r;
      },
      std::optional<LevelRun>());
}

void LevelCache::put(const LevelCacheKey &key, const LevelRun &run) {
  if (run.status != "ok" && run.status != "diverged")
    return;
  guarded(
      [&] {
        // OR IGNORE: another run may have stored the same training
        // meanwhile, with the same result.
        Statement s(db_, "INSERT OR IGNORE INTO level_results (stack, task, "
                         "data, rule, seed, lr, status, metric, seconds) "
                         "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)");
        bindKey(s, key);
        s.bind(7, run.status).bind(9, run.seconds);
        if (std::isfinite(run.metric)) // NULL: a metric the run did not reach
          s.bind(8, run.metric);
        s.step();
        return true;
      },
      false);
}

std::string LevelCache::takeError() {
  std::lock_guard<std::mutex> lock(mutex_);
  return std::exchange(error_, {});
}

namespace {
LevelRun trainOne(const LevelTrainer &trainer, const std::string &canonical,
                  const std::string &task, uint64_t seed, double lr) {
  try {
    return trainer.train(CompiledRule::fromText(canonical), task, seed, lr);
  } catch (const std::exception &e) {
    return {task, lr, seed, std::string("failed: ") + e.what(), NAN, 0};
  }
}
} // namespace

LevelRun trainLevelRun(const LevelTrainer &trainer, LevelCache *cache,
                       const std::string &canonical, const std::string &task,
                       uint64_t seed, double lr) {
  if (!cache)
    return trainOne(trainer, canonical, task, seed, lr);
  LevelCacheKey key{train::trainingStack(),
                    task,
                    trainer.fingerprint(task),
                    canonical,
                    seed,
                    lr};
  if (std::optional<LevelRun> hit = cache->find(key))
    return *hit;
  LevelRun run = trainOne(trainer, canonical, task, seed, lr);
  cache->put(key, run);
  return run;
}

} // namespace nos::search
