//===- Store.cpp - One SQLite database per search run ---------------------===//
//
// synchronous=NORMAL in WAL mode is durable against a killed process (what
// resume promises); only a power cut may take the last commits. Every check
// of open() runs before anything is written, so a database that fails one
// is left as it was.
//
//===----------------------------------------------------------------------===//
#include "nos/search/Store.h"

#include "BarsJson.h"
#include "Sqlite.h"

#include "nos/Compiler.h"

#include <nlohmann/json.hpp>

#include <cmath>
#include <filesystem>
#include <stdexcept>
#include <string_view>

namespace nos::search {

using sqlite::exec;
using sqlite::openDatabase;
using sqlite::Statement;

namespace {
const char *const kSchema = R"sql(
CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE candidates(
  id INTEGER PRIMARY KEY,
  batch INTEGER NOT NULL, slot INTEGER NOT NULL, origin TEXT NOT NULL,
  tokens TEXT NOT NULL, rule TEXT NOT NULL, canonical TEXT NOT NULL,
  hash TEXT NOT NULL, fingerprint TEXT NOT NULL,
  status TEXT NOT NULL, detail TEXT NOT NULL,
  accuracies TEXT NOT NULL, best_lr REAL NOT NULL, reward REAL NOT NULL,
  source_id INTEGER, compile_ms REAL NOT NULL, train_s REAL NOT NULL,
  stage_ms TEXT NOT NULL, worker INTEGER NOT NULL, time REAL NOT NULL,
  fidelity REAL NOT NULL, rungs TEXT NOT NULL,
  UNIQUE(batch, slot));
CREATE INDEX candidates_canonical ON candidates(canonical);
CREATE INDEX candidates_fingerprint ON candidates(fingerprint);
CREATE TABLE progress(id INTEGER PRIMARY KEY CHECK (id = 1),
  next_batch INTEGER NOT NULL, state BLOB NOT NULL, elapsed REAL NOT NULL,
  target_candidates INTEGER NOT NULL, target_seconds REAL NOT NULL,
  pending TEXT NOT NULL DEFAULT '[]');
CREATE TABLE level_runs(
  candidate INTEGER NOT NULL, level TEXT NOT NULL, task TEXT NOT NULL,
  lr REAL NOT NULL, seed INTEGER NOT NULL, status TEXT NOT NULL,
  metric REAL, seconds REAL NOT NULL, time REAL NOT NULL,
  cached INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY(candidate, level, task, lr, seed));
CREATE TABLE promotions(
  candidate INTEGER NOT NULL, level TEXT NOT NULL, decided INTEGER NOT NULL,
  joined INTEGER, score REAL, reward REAL, time REAL NOT NULL,
  PRIMARY KEY(candidate, level));
)sql";

/// Format 2 had no pending batches: a run of it resumes as one whose
/// pipeline is empty, which is what it was.
const char *const kFrom2 = R"sql(
ALTER TABLE progress ADD COLUMN pending TEXT NOT NULL DEFAULT '[]';
UPDATE meta SET value = '3' WHERE key = 'format';
)sql";

/// Format 3 had no funnel levels: a run of it has trained nothing above
/// its proxy.
const char *const kFrom3 = R"sql(
CREATE TABLE IF NOT EXISTS level_runs(
  candidate INTEGER NOT NULL, level TEXT NOT NULL, task TEXT NOT NULL,
  lr REAL NOT NULL, seed INTEGER NOT NULL, status TEXT NOT NULL,
  metric REAL, seconds REAL NOT NULL, time REAL NOT NULL,
  PRIMARY KEY(candidate, level, task, lr, seed));
UPDATE meta SET value = '4' WHERE key = 'format';
)sql";

/// Format 4 did not promote: a run of it has no promotions.
const char *const kFrom4 = R"sql(
CREATE TABLE IF NOT EXISTS promotions(
  candidate INTEGER NOT NULL, level TEXT NOT NULL, decided INTEGER NOT NULL,
  joined INTEGER, score REAL, reward REAL, time REAL NOT NULL,
  PRIMARY KEY(candidate, level));
UPDATE meta SET value = '5' WHERE key = 'format';
)sql";

/// Format 5 had no level-results cache: every level run trained. (Store::
/// open adds the column where the table lacks it, as kFrom3's does.)
const char *const kFrom5 = R"sql(
UPDATE meta SET value = '6' WHERE key = 'format';
)sql";

nlohmann::json pendingJson(const std::vector<PendingBatch> &pending) {
  nlohmann::json out = nlohmann::json::array();
  for (const PendingBatch &p : pending) {
    out.push_back({{"batch", p.batch},
                   {"proposals", p.proposals},
                   {"bars", barsToJson(p.bars)}});
  }
  return out;
}

std::vector<PendingBatch> readPending(const std::string &text) {
  std::vector<PendingBatch> out;
  for (const nlohmann::json &j : nlohmann::json::parse(text)) {
    PendingBatch p;
    p.batch = j.at("batch");
    p.proposals = j.at("proposals").get<std::vector<Actions>>();
    p.bars = barsFromJson(j.at("bars"));
    out.push_back(std::move(p));
  }
  return out;
}

const char *const kColumns =
    "id, batch, slot, origin, tokens, rule, canonical, hash, fingerprint, "
    "status, detail, accuracies, best_lr, reward, source_id, compile_ms, "
    "train_s, stage_ms, worker, time, fidelity, rungs";

bool hasColumn(sqlite3 *db, const std::string &table,
               const std::string &column) {
  Statement s(db, "SELECT count(*) FROM pragma_table_info(?) WHERE name = ?");
  s.bind(1, table).bind(2, column);
  return s.step() && s.integer(0) > 0;
}

std::string databasePath(const std::string &dir) { return dir + "/search.db"; }

Candidate readRow(const Statement &s) {
  Candidate c;
  c.id = s.integer(0), c.batch = s.integer(1), c.slot = int(s.integer(2));
  c.origin = s.text(3), c.tokens = s.text(4), c.rule = s.text(5);
  c.canonical = s.text(6), c.hash = s.text(7), c.fingerprint = s.text(8);
  c.status = s.text(9), c.detail = s.text(10);
  c.accuracies = nlohmann::json::parse(s.text(11)).get<std::vector<double>>();
  c.bestLr = s.real(12), c.reward = s.real(13), c.sourceId = s.integer(14);
  c.compileMs = s.real(15), c.trainSeconds = s.real(16);
  c.stageMs =
      nlohmann::json::parse(s.text(17)).get<std::map<std::string, double>>();
  c.worker = int(s.integer(18)), c.time = s.real(19);
  c.fidelity = s.real(20);
  c.rungs = nlohmann::json::parse(s.text(21)).get<std::vector<double>>();
  return c;
}

} // namespace

std::unique_ptr<Store> Store::create(const std::string &dir,
                                     const std::string &settingsJson) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec)
    throw std::runtime_error("cannot create the run folder '" + dir +
                             "': " + ec.message());
  std::string path = databasePath(dir);
  if (std::filesystem::exists(path))
    throw std::runtime_error("'" + dir +
                             "' already holds a search run; "
                             "continue it with 'nos-search resume " +
                             dir + "'");
  sqlite3 *db = openDatabase(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
  std::unique_ptr<Store> store(new Store(dir, db));
  try {
    exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;");
    exec(db, "BEGIN");
    exec(db, kSchema);
    for (auto [key, value] : {std::pair<std::string, std::string>{
                                  "format", std::to_string(kStoreFormat)},
                              {"compiler", compilerVersion()},
                              {"settings", settingsJson}})
      Statement(db, "INSERT INTO meta VALUES (?, ?)")
          .bind(1, key)
          .bind(2, value)
          .step();
    Statement(db, "INSERT INTO progress VALUES (1, 0, x'', 0, 0, 0, '[]')")
        .step();
    exec(db, "COMMIT");
  } catch (const std::exception &e) {
    store.reset();
    std::filesystem::remove(path, ec);
    throw std::runtime_error("cannot create " + path + ": " + e.what());
  }
  return store;
}

std::unique_ptr<Store> Store::open(const std::string &dir, bool readOnly) {
  std::string path = databasePath(dir);
  if (!std::filesystem::exists(path))
    throw std::runtime_error("no search run in '" + dir + "' (" + path +
                             " does not exist)");
  sqlite3 *db = openDatabase(path, readOnly ? SQLITE_OPEN_READONLY
                                            : SQLITE_OPEN_READWRITE);
  std::unique_ptr<Store> store(new Store(dir, db));
  std::string format;
  try {
    Statement check(db, "PRAGMA quick_check");
    if (!check.step() || check.text(0) != "ok")
      throw std::runtime_error("integrity check failed: " + check.text(0));
    Statement meta(db, "SELECT value FROM meta WHERE key = 'format'");
    if (meta.step())
      format = meta.text(0);
    Statement(db,
              std::string("SELECT ") + kColumns + " FROM candidates LIMIT 0")
        .step();
    Statement(db, "SELECT next_batch FROM progress").step();
  } catch (const std::exception &e) {
    throw std::runtime_error(path +
                             " is not a readable nos-search "
                             "database: " +
                             e.what());
  }
  for (auto [from, sql] : {std::pair{"2", kFrom2}, std::pair{"3", kFrom3},
                           std::pair{"4", kFrom4}, std::pair{"5", kFrom5}})
    if (format == from && !readOnly) {
      exec(db, "BEGIN");
      exec(db, sql);
      if (std::string_view(from) == "5" &&
          !hasColumn(db, "level_runs", "cached"))
        exec(db, "ALTER TABLE level_runs ADD COLUMN cached INTEGER NOT NULL "
                 "DEFAULT 0");
      exec(db, "COMMIT");
      format = std::to_string(std::stoi(format) + 1);
    }
  store->format_ = std::stoi(format.empty() ? "0" : format);
  if (format != std::to_string(kStoreFormat) && format != "2" &&
      format != "3" && format != "4" && format != "5")
    throw std::runtime_error(path + " was written in store format '" + format +
                             "'; this nos-search reads format " +
                             std::to_string(kStoreFormat));
  if (!readOnly)
    exec(db, "PRAGMA synchronous=NORMAL;");
  return store;
}

Store::~Store() { sqlite3_close(db_); }

std::string Store::settingsJson() const {
  std::lock_guard<std::mutex> lock(mutex_);
  Statement s(db_, "SELECT value FROM meta WHERE key = 'settings'");
  return s.step() ? s.text(0) : "{}";
}

Progress Store::progress() const {
  std::lock_guard<std::mutex> lock(mutex_);
  Statement s(db_, std::string("SELECT next_batch, state, elapsed, "
                               "target_candidates, target_seconds, ") +
                       (format_ == 2 ? "'[]'" : "pending") +
                       " FROM progress WHERE id = 1");
  Progress p;
  if (s.step()) {
    p = {s.integer(0), s.bytes(1), s.real(2), s.integer(3), s.real(4), {}};
    try {
      p.pending = readPending(s.text(5));
    } catch (const nlohmann::json::exception &e) {
      throw std::runtime_error(dir_ +
                               "/search.db: the pending batches are "
                               "damaged: " +
                               e.what());
    }
  }
  return p;
}

void Store::saveProgress(const Progress &p) {
  std::lock_guard<std::mutex> lock(mutex_);
  Statement(db_, "UPDATE progress SET next_batch = ?, state = ?, elapsed = ?, "
                 "target_candidates = ?, target_seconds = ?, pending = ? "
                 "WHERE id = 1")
      .bind(1, p.nextBatch)
      .blob(2, p.strategyState)
      .bind(3, p.elapsedSeconds)
      .bind(4, p.targetCandidates)
      .bind(5, p.targetSeconds)
      .bind(6, pendingJson(p.pending).dump())
      .step();
}

void Store::insertLevelRuns(int64_t candidate, const std::string &level,
                            const std::vector<LevelRun> &runs, double time) {
  std::lock_guard<std::mutex> lock(mutex_);
  exec(db_, "BEGIN");
  try {
    for (const LevelRun &r : runs) {
      Statement s(db_, "INSERT INTO level_runs VALUES (?, ?, ?, ?, ?, ?, ?, "
                       "?, ?, ?)");
      s.bind(1, candidate).bind(2, level).bind(3, r.task).bind(4, r.lr);
      s.bind(5, int64_t(r.seed)).bind(6, r.status).bind(8, r.seconds);
      s.bind(9, time).bind(10, int64_t(r.cached));
      if (std::isfinite(r.metric)) // NULL: a metric the run did not reach
        s.bind(7, r.metric);
      s.step();
    }
    exec(db_, "COMMIT");
  } catch (...) {
    exec(db_, "ROLLBACK");
    throw;
  }
}

std::vector<LevelRun> Store::levelRuns(int64_t candidate,
                                       const std::string &level) const {
  std::lock_guard<std::mutex> lock(mutex_);
  std::vector<LevelRun> out;
  if (format_ < 4)
    return out; // read-only older runs trained nothing above their proxy
  Statement s(db_, std::string("SELECT task, lr, seed, status, metric, "
                               "seconds, time, ") +
                       (format_ < 6 ? "0" : "cached") +
                       " FROM level_runs WHERE candidate = ? AND level = ? "
                       "ORDER BY rowid");
  s.bind(1, candidate).bind(2, level);
  while (s.step())
    out.push_back({s.text(0), s.real(1), uint64_t(s.integer(2)), s.text(3),
                   s.isNull(4) ? NAN : s.real(4), s.real(5), s.real(6),
                   s.integer(7) != 0});
  return out;
}

void Store::insertPromotion(const Promotion &p) {
  std::lock_guard<std::mutex> lock(mutex_);
  Statement s(db_, "INSERT OR IGNORE INTO promotions (candidate, level, "
                   "decided, reward, time) VALUES (?, ?, ?, ?, ?)");
  s.bind(1, p.candidate).bind(2, p.level).bind(3, p.decided).bind(5, p.time);
  if (std::isfinite(p.reward))
    s.bind(4, p.reward);
  s.step();
}

void Store::joinPromotion(const Promotion &p) {
  std::lock_guard<std::mutex> lock(mutex_);
  Statement s(db_, "UPDATE promotions SET joined = ?, score = ?, reward = ? "
                   "WHERE candidate = ? AND level = ?");
  s.bind(1, p.joined).bind(4, p.candidate).bind(5, p.level);
  if (std::isfinite(p.score)) // NULL: no score (a reference, or none)
    s.bind(2, p.score).bind(3, p.reward);
  s.step();
}

std::vector<Promotion> Store::promotions() const {
  std::lock_guard<std::mutex> lock(mutex_);
  std::vector<Promotion> out;
  if (format_ < 5)
    return out;
  Statement s(db_, "SELECT candidate, level, decided, joined, score, "
                   "reward, time FROM promotions ORDER BY decided, rowid");
  while (s.step())
    out.push_back({s.integer(0), s.text(1), s.integer(2),
                   s.isNull(3) ? Promotion::kNotJoined : s.integer(3),
                   s.isNull(4) ? NAN : s.real(4), s.isNull(5) ? NAN : s.real(5),
                   s.real(6)});
  return out;
}

double Store::levelSeconds() const {
  std::lock_guard<std::mutex> lock(mutex_);
  if (format_ < 4)
    return 0;
  Statement s(db_, std::string("SELECT coalesce(sum(seconds), 0) FROM "
                               "level_runs") +
                       (format_ < 6 ? "" : " WHERE cached = 0"));
  return s.step() ? s.real(0) : 0;
}

int64_t Store::evaluatedBefore(int64_t batch) const {
  std::lock_guard<std::mutex> lock(mutex_);
  Statement s(db_, "SELECT count(*) FROM candidates WHERE batch >= 0 AND "
                   "batch < ? AND status NOT IN ('duplicate', 'equivalent', "
                   "'screened')");
  s.bind(1, batch);
  return s.step() ? s.integer(0) : 0;
}

std::vector<std::pair<int64_t, double>>
Store::scoredBefore(int64_t batch) const {
  std::lock_guard<std::mutex> lock(mutex_);
  Statement s(db_, "SELECT id, reward FROM candidates WHERE batch >= 0 AND "
                   "batch < ? AND status = 'scored' ORDER BY id");
  s.bind(1, batch);
  std::vector<std::pair<int64_t, double>> out;
  while (s.step())
    out.emplace_back(s.integer(0), s.real(1));
  return out;
}

std::optional<Candidate> Store::candidate(int64_t id) const {
  auto rows = query("WHERE id = ?", {std::to_string(id)});
  return rows.empty() ? std::nullopt : std::optional(rows[0]);
}

void Store::insert(Candidate &c) {
  std::lock_guard<std::mutex> lock(mutex_);
  Statement s(db_, "INSERT INTO candidates (batch, slot, origin, tokens, "
                   "rule, canonical, hash, fingerprint, status, detail, "
                   "accuracies, best_lr, reward, source_id, compile_ms, "
                   "train_s, stage_ms, worker, time, fidelity, rungs) "
                   "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, "
                   "?, ?, ?, ?, ?)");
  s.bind(1, c.batch).bind(2, int64_t(c.slot)).bind(3, c.origin);
  s.bind(4, c.tokens).bind(5, c.rule).bind(6, c.canonical).bind(7, c.hash);
  s.bind(8, c.fingerprint).bind(9, c.status).bind(10, c.detail);
  s.bind(11, nlohmann::json(c.accuracies).dump()).bind(12, c.bestLr);
  s.bind(13, c.reward).bind(14, c.sourceId).bind(15, c.compileMs);
  s.bind(16, c.trainSeconds).bind(17, nlohmann::json(c.stageMs).dump());
  s.bind(18, int64_t(c.worker)).bind(19, c.time).bind(20, c.fidelity);
  s.bind(21, nlohmann::json(c.rungs).dump());
  s.step();
  c.id = sqlite3_last_insert_rowid(db_);
}

std::vector<Candidate>
Store::query(const std::string &where,
             const std::vector<std::string> &args) const {
  std::lock_guard<std::mutex> lock(mutex_);
  Statement s(db_,
              std::string("SELECT ") + kColumns + " FROM candidates " + where);
  for (size_t i = 0; i < args.size(); ++i)
    s.bind(int(i + 1), args[i]);
  std::vector<Candidate> out;
  while (s.step())
    out.push_back(readRow(s));
  return out;
}

std::optional<Candidate> Store::findCanonical(const std::string &canonical,
                                              int64_t before) const {
  auto rows = query("WHERE canonical = ? AND batch < ? AND status NOT IN "
                    "('duplicate', 'equivalent') ORDER BY id LIMIT 1",
                    {canonical, std::to_string(before)});
  return rows.empty() ? std::nullopt : std::optional(rows[0]);
}

std::optional<Candidate> Store::findFingerprint(const std::string &fp,
                                                int64_t before) const {
  auto rows = query("WHERE fingerprint = ? AND batch < ? AND status NOT IN "
                    "('duplicate', 'equivalent', 'screened', 'failed') "
                    "ORDER BY id LIMIT 1",
                    {fp, std::to_string(before)});
  return rows.empty() ? std::nullopt : std::optional(rows[0]);
}

std::vector<Candidate> Store::batch(int64_t batch) const {
  return query("WHERE batch = ? ORDER BY slot", {std::to_string(batch)});
}

std::vector<Candidate> Store::all() const { return query("ORDER BY id", {}); }

std::map<std::string, int64_t> Store::statusCounts() const {
  std::lock_guard<std::mutex> lock(mutex_);
  Statement s(db_, "SELECT status, count(*) FROM candidates WHERE batch >= 0 "
                   "GROUP BY status");
  std::map<std::string, int64_t> out;
  while (s.step())
    out[s.text(0)] = s.integer(1);
  return out;
}

std::optional<Candidate> Store::best() const {
  auto rows = query("WHERE batch >= 0 AND status NOT IN ('duplicate', "
                    "'equivalent') ORDER BY reward DESC, id LIMIT 1",
                    {});
  return rows.empty() ? std::nullopt : std::optional(rows[0]);
}

std::vector<std::vector<double>> Store::rungsBefore(int64_t batch) const {
  std::lock_guard<std::mutex> lock(mutex_);
  Statement s(db_, "SELECT rungs FROM candidates WHERE batch < ? AND "
                   "rungs != '[]' AND status NOT IN ('duplicate', "
                   "'equivalent') ORDER BY id");
  s.bind(1, batch);
  std::vector<std::vector<double>> out;
  while (s.step())
    out.push_back(nlohmann::json::parse(s.text(0)).get<std::vector<double>>());
  return out;
}

int64_t Store::lastId() const {
  std::lock_guard<std::mutex> lock(mutex_);
  Statement s(db_, "SELECT coalesce(max(id), 0) FROM candidates");
  return s.step() ? s.integer(0) : 0;
}

int64_t Store::searchCount() const {
  std::lock_guard<std::mutex> lock(mutex_);
  Statement s(db_, "SELECT count(*) FROM candidates WHERE batch >= 0");
  return s.step() ? s.integer(0) : 0;
}

} // namespace nos::search
