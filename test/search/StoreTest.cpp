//===- StoreTest.cpp - The run database and the settings it keeps ---------===//
//
// Round trips, the lookups dedup relies on, and every kind of bad folder:
// an existing run, a missing one, a corrupted file, another format, a path
// that cannot be created.
//
//===----------------------------------------------------------------------===//
#include "nos/search/Store.h"
#include "nos/search/Search.h"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <sqlite3.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <set>
#include <unistd.h>

using namespace nos::search;
namespace fs = std::filesystem;

namespace {
std::string freshDir(const std::string &name) {
  fs::path dir = fs::temp_directory_path() /
                 ("nos-store-test-" + std::to_string(::getpid())) / name;
  fs::remove_all(dir);
  return dir.string();
}

Candidate row(int64_t batch, int slot, const std::string &canonical,
              const char *status, double reward) {
  Candidate c;
  c.batch = batch, c.slot = slot, c.origin = "ppo", c.tokens = "g g x x add";
  c.rule = canonical, c.canonical = canonical, c.hash = "00ff";
  c.fingerprint = "fp-" + canonical, c.status = status, c.reward = reward;
  c.accuracies = {0.5, reward}, c.bestLr = 0.1;
  c.stageMs = {{"train", 12.5}};
  return c;
}
/// Runs `sql` on the run's database behind the store's back, as an older
/// build or a damaged file would have left it; true when SQLite took it.
bool alterRun(const std::string &runDir, const char *sql) {
  sqlite3 *db = nullptr;
  REQUIRE(sqlite3_open((runDir + "/search.db").c_str(), &db) == SQLITE_OK);
  bool ok = sqlite3_exec(db, sql, nullptr, nullptr, nullptr) == SQLITE_OK;
  sqlite3_close(db);
  return ok;
}
} // namespace

TEST_CASE("the store keeps candidates, progress and settings", "[search]") {
  std::string dir = freshDir("roundtrip");
  SearchSettings settings;
  settings.strategy.name = "evolution";
  settings.proxy.lrs = {0.5};
  auto store = Store::create(dir + "/nested/run", settings.toJson());
  Candidate a = row(0, 0, "g", status::Scored, 0.8);
  Candidate b = row(0, 1, "g", status::Duplicate, 0.8);
  Candidate r = row(-1, 0, "adam", status::Scored, 0.9);
  store->insert(a), store->insert(b), store->insert(r);
  CHECK(a.id > 0);
  CHECK(b.id == a.id + 1);
  CHECK(store->searchCount() == 2);
  CHECK(store->findCanonical("g", 1)->id == a.id);
  CHECK_FALSE(store->findCanonical("m", 1));
  CHECK(store->findFingerprint("fp-g", 1)->id == a.id);
  // Only batches below the bound: the others are still in flight.
  CHECK_FALSE(store->findCanonical("g", 0));
  CHECK_FALSE(store->findFingerprint("fp-g", 0));
  CHECK(store->findCanonical("adam", 0)->id == r.id);
  // References (batch -1) are not candidates: adam's 0.9 is not the best.
  CHECK(store->statusCounts() ==
        std::map<std::string, int64_t>{{"duplicate", 1}, {"scored", 1}});
  CHECK(store->best()->id == a.id);
  Candidate dup = row(0, 1, "g", status::Scored, 0.1);
  CHECK_THROWS(store->insert(dup)); // (batch, slot) is unique
  Progress p{3, std::string("state\0with nul", 14), 12.5, 100, 0, {}};
  p.pending = {{3, {{1, 2}, {3, 4}}, {-HUGE_VAL, 0.25}}, {4, {{5, 6}}, {}}};
  store->saveProgress(p);
  store.reset();

  auto again = Store::open(dir + "/nested/run");
  std::vector<Candidate> batch = again->batch(0);
  REQUIRE(batch.size() == 2);
  CHECK(batch[1].status == status::Duplicate);
  CHECK(batch[0].accuracies == std::vector<double>{0.5, 0.8});
  CHECK(batch[0].stageMs.at("train") == 12.5);
  Progress q = again->progress();
  CHECK(q.nextBatch == 3);
  CHECK(q.strategyState == p.strategyState);
  CHECK(q.targetCandidates == 100);
  REQUIRE(q.pending.size() == 2);
  CHECK(q.pending[0].batch == 3);
  CHECK(q.pending[0].proposals == std::vector<Actions>{{1, 2}, {3, 4}});
  CHECK(q.pending[0].bars == std::vector<double>{-HUGE_VAL, 0.25});
  CHECK(q.pending[1].proposals == std::vector<Actions>{{5, 6}});
  SearchSettings back = SearchSettings::fromJson(again->settingsJson());
  CHECK(back.strategy.name == "evolution");
  CHECK(back.proxy.lrs == std::vector<double>{0.5});
  CHECK(back.toJson() == settings.toJson());
}

TEST_CASE("bad run folders get clear errors and stay as they were",
          "[search]") {
  std::string dir = freshDir("bad");
  Store::create(dir + "/run", SearchSettings().toJson());
  CHECK_THROWS_WITH(Store::create(dir + "/run", "{}"),
                    Catch::Contains("already holds a search run"));
  CHECK_THROWS_WITH(Store::open(dir + "/none"),
                    Catch::Contains("no search run in"));

  fs::create_directories(dir + "/junk");
  std::ofstream(dir + "/junk/search.db") << std::string(8192, 'x');
  CHECK_THROWS_WITH(Store::open(dir + "/junk"),
                    Catch::Contains("not a readable nos-search database"));
  std::ifstream in(dir + "/junk/search.db");
  CHECK(std::string(std::istreambuf_iterator<char>(in), {}) ==
        std::string(8192, 'x'));

  Store::create(dir + "/old", SearchSettings().toJson());
  CHECK(alterRun(dir + "/old",
                 "UPDATE meta SET value = '0' WHERE key = 'format'"));
  CHECK_THROWS_WITH(Store::open(dir + "/old"),
                    Catch::Contains("store format '0'"));

  // Format 2 had no pending batches: read as it is, upgraded for writing.
  Store::create(dir + "/two", SearchSettings().toJson());
  CHECK(alterRun(dir + "/two", "ALTER TABLE progress DROP COLUMN pending; "
                               "UPDATE meta SET value = '2' WHERE key = "
                               "'format'"));
  CHECK(Store::open(dir + "/two", true)->progress().pending.empty());
  {
    auto upgraded = Store::open(dir + "/two");
    Progress p = upgraded->progress();
    p.pending = {{0, {{7}}, {}}};
    upgraded->saveProgress(p);
  }
  CHECK(Store::open(dir + "/two", true)->progress().pending.size() == 1);

  std::ofstream(dir + "/file") << "not a folder";
  CHECK_THROWS_WITH(Store::create(dir + "/file/run", "{}"),
                    Catch::Contains("cannot create the run folder"));
  CHECK_THROWS_WITH(SearchSettings::fromJson("{\"units\": 2}"),
                    Catch::Contains("stored settings are damaged"));
}

// The table is the one declaration of a setting: keys and flags are unique,
// every row survives a round trip through the stored JSON, and a stored
// value the table refuses names its key.
TEST_CASE("the settings table drives the stored JSON", "[search]") {
  std::set<std::string> keys, flags;
  for (const Setting &s : settingsTable()) {
    CHECK(keys.insert(s.key).second);
    CHECK_FALSE(s.help.empty());
    if (!s.flag.empty())
      CHECK(flags.insert(s.flag).second);
  }
  SearchSettings changed;
  changed.strategy.name = "evolution", changed.strategy.tournament = 3;
  changed.proxy.task.hidden = {64, 32}, changed.proxy.lrs = {0.5};
  changed.probe.seed = 9, changed.references = false;
  SearchSettings back = SearchSettings::fromJson(changed.toJson());
  CHECK(back.toJson() == changed.toJson());
  CHECK(back.proxy.task.hidden == std::vector<int64_t>{64, 32});
  CHECK(back.strategy.tournament == 3);
  std::string json = SearchSettings().toJson();
  std::string bad = json;
  bad.replace(bad.find("\"pool\": 2"), 9, "\"pool\": 99");
  CHECK_THROWS_WITH(SearchSettings::fromJson(bad),
                    Catch::Contains("'proxy.task.pool': 99 is not in [1, 16]"));
  bad = json;
  bad.replace(bad.find("\"name\": \"ppo\""), 13, "\"name\": 7");
  CHECK_THROWS_WITH(SearchSettings::fromJson(bad),
                    Catch::Contains("'strategy.name'"));
  CHECK(defaultProxyName() == std::string("12k-pool-halving"));
  // Runs stored before the pipeline existed ran one batch at a time.
  nlohmann::json old = nlohmann::json::parse(json);
  old["pipeline"] = 3;
  CHECK(SearchSettings::fromJson(old.dump()).pipeline == 3);
  old.erase("pipeline");
  CHECK(SearchSettings::fromJson(old.dump()).pipeline == 1);
  old.erase("units"); // older than every setting: still an error
  CHECK_THROWS_WITH(SearchSettings::fromJson(old.dump()),
                    Catch::Contains("'units'"));
}

// The funnel's trainings: a candidate's runs at a level come back as they
// went in (a NaN metric as NaN), a duplicate row refuses the whole set, and
// a format-3 run gains the table when opened for writing.
TEST_CASE("level runs round trip, all or none", "[search]") {
  std::string dir = freshDir("levels");
  auto store = Store::create(dir, SearchSettings().toJson());
  Candidate c = row(0, 0, "g", status::Scored, 0.8);
  store->insert(c);
  std::vector<LevelRun> runs = {{"logistic", 0.1, 0, "ok", 0.93, 0.5},
                                {"charlm", 0.01, 1, "diverged", NAN, 1.5}};
  store->insertLevelRuns(c.id, "L2", runs, 12.0);
  std::vector<LevelRun> back = store->levelRuns(c.id, "L2");
  REQUIRE(back.size() == 2);
  CHECK(back[0].task == "logistic");
  CHECK(back[0].lr == 0.1);
  CHECK(back[0].metric == 0.93);
  CHECK(back[1].seed == 1);
  CHECK(back[1].status == "diverged");
  CHECK(std::isnan(back[1].metric));
  CHECK(store->levelRuns(c.id, "L3").empty());
  // One (task, lr, seed) once: the second set is refused whole.
  CHECK_THROWS(store->insertLevelRuns(
      c.id, "L2", {{"fmnist-mlp", 0.1, 0, "ok", 0.8, 1}, runs[0]}, 13.0));
  CHECK(store->levelRuns(c.id, "L2").size() == 2);
  store.reset();

  // A run served from the level-results cache keeps that mark, and its
  // seconds are not time this run spent.
  store = Store::open(dir);
  LevelRun served{"logistic", 1, 0, "ok", 0.9, 7.5};
  served.cached = true;
  store->insertLevelRuns(c.id, "L3", {served, runs[0]}, 13.0);
  std::vector<LevelRun> l3 = store->levelRuns(c.id, "L3");
  REQUIRE(l3.size() == 2);
  CHECK(l3[0].cached);
  CHECK_FALSE(l3[1].cached);
  CHECK_FALSE(back[0].cached);
  CHECK(store->levelSeconds() == 0.5 + 1.5 + 0.5);
  store.reset();
  // Format 5 had no such mark: read as trained, and upgraded for writing.
  CHECK(alterRun(dir, "ALTER TABLE level_runs DROP COLUMN cached; UPDATE "
                      "meta SET value = '5' WHERE key = 'format'"));
  CHECK_FALSE(Store::open(dir, true)->levelRuns(c.id, "L3")[0].cached);
  CHECK(Store::open(dir, true)->levelSeconds() == 0.5 + 1.5 + 7.5 + 0.5);
  CHECK(Store::open(dir)->levelRuns(c.id, "L3").size() == 2);
  CHECK(Store::open(dir, true)->levelSeconds() == 0.5 + 1.5 + 7.5 + 0.5);
  store = Store::open(dir);
  store->insertLevelRuns(c.id, "meta", {served}, 15.0);
  CHECK(store->levelRuns(c.id, "meta")[0].cached);
  store.reset();

  CHECK(alterRun(dir, "DROP TABLE level_runs; UPDATE meta SET value = '3' "
                      "WHERE key = 'format'"));
  CHECK(Store::open(dir, true)->levelRuns(c.id, "L2").empty());
  Store::open(dir)->insertLevelRuns(c.id, "L2", runs, 14.0);
  CHECK(Store::open(dir, true)->levelRuns(c.id, "L2").size() == 2);
}

// Promotions: a decision is stored once (a replayed one is ignored), its
// join fills the score and reward, a reference's join leaves them NULL;
// a format-4 run reads as having none and gains the table when opened for
// writing.
TEST_CASE("promotions are decided once and joined", "[search]") {
  std::string dir = freshDir("promotions");
  auto store = Store::create(dir, SearchSettings().toJson());
  Candidate c = row(0, 0, "g", status::Scored, 0.8);
  store->insert(c);
  store->insertPromotion({c.id, "L2", 3});
  store->insertPromotion({c.id, "L2", 5}); // replayed: ignored
  store->insertPromotion({c.id, "L3", -1});
  std::vector<Promotion> p = store->promotions();
  REQUIRE(p.size() == 2);
  CHECK(p[0].level == "L3"); // in the order decided
  CHECK(p[1].decided == 3);
  CHECK(p[1].joined == Promotion::kNotJoined);
  CHECK(std::isnan(p[1].score));
  store->joinPromotion({c.id, "L2", 3, 7, 0.02, 0.81});
  store->joinPromotion({c.id, "L3", -1, 7, NAN, 0.5});
  p = store->promotions();
  CHECK(p[1].joined == 7);
  CHECK(p[1].score == 0.02);
  CHECK(p[1].reward == 0.81);
  CHECK(p[0].joined == 7);
  CHECK(std::isnan(p[0].reward));
  store.reset();

  CHECK(alterRun(dir, "DROP TABLE promotions; UPDATE meta SET value = '4' "
                      "WHERE key = 'format'"));
  CHECK(Store::open(dir, true)->promotions().empty());
  Store::open(dir)->insertPromotion({c.id, "L2", 1});
  CHECK(Store::open(dir, true)->promotions().size() == 1);
}
