//===- LevelsTest.cpp - The funnel's levels and promotions ----------------===//
//
// A level trains every (task, lr, seed) with the suite task's own budget,
// the same for every rule, and scores each task by its best lr's mean; on
// logistic regression plain SGD is known to beat a rule that ascends. A
// rule's score at a level is its margin over the best reference, checked
// on known scores. Then the funnel on a store filled by hand and a pool
// that runs jobs as they are submitted: a round promotes the best proxy
// result ahead of the references (and only as many as allowed), the next
// round waits for its trainings and joins them, a copy earns the joined
// reward only in batches proposed after the join, each new best of the run
// is trained on the held-out task without ever blocking the search, and a
// funnel rebuilt from the store (a resumed run) agrees without training
// anything again. A worker process (an MPI rank) trains a job from its
// request and stores what a thread would.
//
//===----------------------------------------------------------------------===//
#include "nos/search/Levels.h"
#include "../../search/Funnel.h"
#include "nos/train/Tasks.h"

#include <catch2/catch.hpp>
#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include <unistd.h>

#include <cmath>
#include <deque>
#include <filesystem>

using namespace nos;
using namespace nos::search;
namespace fs = std::filesystem;

namespace {
/// An empty temporary folder named for the test and this process.
fs::path freshDir(const std::string &prefix) {
  fs::path dir =
      fs::temp_directory_path() / (prefix + std::to_string(::getpid()));
  fs::remove_all(dir);
  return dir;
}
} // namespace

TEST_CASE("the default levels name suite tasks", "[search]") {
  std::vector<LevelSpec> levels = defaultLevels();
  REQUIRE(levels.size() == 3);
  for (const LevelSpec &l : levels) {
    CHECK_FALSE(l.lrs.empty());
    CHECK(l.seeds >= 2);
    for (const std::string &task : l.tasks)
      CHECK_NOTHROW(train::suiteTask(task));
  }
  // L4 re-ranks L3's rules on L3's tasks at seeds of its own, none of them
  // a seed nos-search final trains by default (1-7: 2 tuning, 5 test).
  CHECK(levels[2].tasks == levels[1].tasks);
  CHECK(levels[2].seeds > levels[1].seeds);
  for (uint64_t seed : levels[2].seedList()) {
    CHECK(seed > 7);
    for (uint64_t lower : levels[1].seedList())
      CHECK(seed != lower);
  }
}

TEST_CASE("a level trains its seeds from its first seed", "[search]") {
  LevelSpec spec{"L4", {"logistic"}, {0.1}, 2, 1, 8};
  CHECK(spec.seedList() == std::vector<uint64_t>{8, 9});
  LevelTrainer level(spec);
  std::vector<LevelRun> runs = level.train(CompiledRule::fromText("sgd"));
  REQUIRE(runs.size() == 2);
  CHECK(runs[0].seed == 8);
  CHECK(runs[1].seed == 9);
  // Seed 8 is another network than the seed-0 one a level from 0 trains.
  LevelTrainer from0({"L3", {"logistic"}, {0.1}, 1});
  CHECK(from0.train(CompiledRule::fromText("sgd"))[0].metric != runs[0].metric);
}

TEST_CASE("a level trains every task, lr and seed, and scores by the best lr",
          "[search]") {
  LevelTrainer level({"L2", {"logistic"}, {0.01, 0.1}, 2});
  CompiledRule sgd = CompiledRule::fromText("sgd");
  std::vector<LevelRun> runs = level.train(sgd);
  REQUIRE(runs.size() == 4);
  CHECK(runs[0].seed == 0);
  CHECK(runs[2].seed == 1); // seed-major
  CHECK(runs[1].lr == 0.1);
  for (const LevelRun &r : runs) {
    CHECK(r.status == "ok");
    CHECK(r.metric > 0.85);
  }
  std::vector<LevelRun> again = level.train(sgd);
  CHECK(again[3].metric == runs[3].metric); // common random numbers

  std::vector<TaskScore> scores = scoreLevel(level.spec(), runs);
  REQUIRE(scores.size() == 1);
  double at01 = (runs[1].metric + runs[3].metric) / 2;
  double at001 = (runs[0].metric + runs[2].metric) / 2;
  CHECK(scores[0].mean == std::max(at01, at001));
  CHECK(scores[0].lr == (at01 > at001 ? 0.1 : 0.01));

  std::vector<TaskScore> ascent =
      scoreLevel(level.spec(), level.train(CompiledRule::fromText("-g")));
  REQUIRE(ascent.size() == 1);
  CHECK(ascent[0].mean < scores[0].mean);
  CHECK(scoreLevel(level.spec(), {}).empty());
}

// The level-results cache: a training kept once is served again, bit for
// bit and marked, under its whole key; a key differing in any one part is
// a miss. Failed trainings are never kept; diverged ones are, without a
// metric. Another handle on the file (another run) sees what one kept.
TEST_CASE("the level-results cache serves a training under its whole key "
          "and no other",
          "[search]") {
  fs::path dir = freshDir("nos-level-cache-test-");
  LevelTrainer level({"L2", {"logistic"}, {0.1}, 1});
  LevelCache cache((dir / "sub" / "levels.db").string());
  LevelRun trained = trainLevelRun(level, &cache, "g", "logistic", 0, 0.1);
  LevelRun served = trainLevelRun(level, &cache, "g", "logistic", 0, 0.1);
  CHECK_FALSE(trained.cached);
  CHECK(served.cached);
  CHECK(trained.status == "ok");
  CHECK(served.status == trained.status);
  CHECK(served.metric == trained.metric);
  CHECK(served.seconds == trained.seconds);
  CHECK(served.lr == 0.1);

  const LevelCacheKey key{train::trainingStack(),
                          "logistic",
                          level.fingerprint("logistic"),
                          "g",
                          0,
                          0.1};
  REQUIRE(cache.find(key));
  std::vector<LevelCacheKey> others(6, key);
  others[0].stack += " ";
  others[1].task = "fmnist-mlp";
  others[2].data = "logistic, data crc32 00000000";
  others[3].rule = "-g";
  others[4].seed = 1;
  others[5].lr = std::nextafter(0.1, 1.0);
  for (const LevelCacheKey &k : others)
    CHECK_FALSE(cache.find(k));

  LevelCacheKey failed = key, diverged = key;
  failed.rule = "g +", diverged.rule = "100 * g";
  cache.put(failed, {"logistic", 0.1, 0, "failed: no", NAN, 0});
  cache.put(diverged, {"logistic", 0.1, 0, "diverged", NAN, 2});
  CHECK_FALSE(cache.find(failed));
  LevelCache again((dir / "sub" / "levels.db").string());
  std::optional<LevelRun> back = again.find(diverged);
  REQUIRE(back);
  CHECK(back->status == "diverged");
  CHECK(std::isnan(back->metric));
  CHECK(back->cached);
  CHECK(again.find(key)->metric == trained.metric);
  CHECK(cache.takeError().empty());
  // Without a cache every call trains.
  CHECK_FALSE(trainLevelRun(level, nullptr, "g", "logistic", 0, 0.1).cached);
  fs::remove_all(dir);
}

// What the cache's key holds of the stack and the data: the torch threads
// of the calling thread, and a checksum that tells other data apart under
// the same description.
TEST_CASE("the training stack and a task's fingerprint tell runs apart",
          "[search]") {
  train::setTorchThreads(2);
  std::string two = train::trainingStack();
  train::setTorchThreads(1);
  std::string one = train::trainingStack();
  CHECK(one != two);
  CHECK_THAT(one, Catch::Contains(train::trainingSourceHash()));
  CHECK_THAT(one, Catch::Contains(compilerVersion()));
  train::TaskSpec spec = train::suiteTask("logistic").spec;
  train::Task a(spec), same(spec);
  spec.splitSeed += 1; // the same sizes, other examples
  train::Task other(spec);
  CHECK(a.fingerprint() == same.fingerprint());
  CHECK(a.describe() == other.describe());
  CHECK(a.fingerprint() != other.fingerprint());
  CHECK_THAT(a.fingerprint(), Catch::StartsWith(a.describe()));
}

TEST_CASE("a level with an unknown task is refused by name", "[search]") {
  CHECK_THROWS_WITH(LevelTrainer({"L2", {"imagenet"}, {0.1}, 1}),
                    Catch::Contains("unknown task 'imagenet'"));
}

namespace {
TaskScore score(const std::string &task, double mean, bool higherIsBetter) {
  TaskScore s{task, 0.1, mean, {}};
  s.metric.higherIsBetter = higherIsBetter;
  return s;
}

/// Runs every job when it is submitted; wait() hands them back in order.
class InlinePool : public WorkerPool {
public:
  std::string describe() const override { return "inline"; }
  void submit(Candidate &,
              std::shared_ptr<const std::vector<double>>) override {
    FAIL("the funnel submits jobs only");
  }
  void submit(PoolJob &job) override {
    if (servant) // as an MPI rank would, from the job's request
      job.answer(servant->serve(job.request()));
    else
      job.run();
    done.push_back(&job);
    ++submitted;
  }
  Finished wait() override {
    if (done.empty())
      return {};
    PoolJob *job = done.front();
    done.pop_front();
    return {nullptr, job};
  }
  std::deque<PoolJob *> done;
  int submitted = 0;
  FunnelServant *servant = nullptr;
};

void quiet(const std::string &) {}

/// `used` levels, a round every 4 proxy evaluations from the top half,
/// one batch in flight.
SearchSettings smallRounds(int used) {
  SearchSettings settings;
  settings.pipeline = 1;
  settings.funnel.used = used;
  settings.funnel.round = 4;
  settings.funnel.top = 0.5;
  return settings;
}

void drain(InlinePool &pool, Funnel &funnel) {
  while (Finished f = pool.wait())
    funnel.finished(*f.job, 1.0);
}

/// The stored promotion of `candidate` to `level`.
Promotion find(const Store &store, int64_t candidate,
               const std::string &level) {
  for (const Promotion &p : store.promotions())
    if (p.candidate == candidate && p.level == level)
      return p;
  FAIL("no promotion of " << candidate << " to " << level);
  return {};
}

Candidate stored(Store &store, int64_t batch, int slot,
                 const std::string &canonical, double reward,
                 const char *status = status::Scored) {
  Candidate c;
  c.batch = batch, c.slot = slot, c.origin = batch < 0 ? "reference:x" : "ppo";
  c.rule = c.canonical = canonical, c.status = status, c.reward = reward;
  store.insert(c);
  return c;
}
} // namespace

TEST_CASE("a level's score is the mean margin over the best reference",
          "[search]") {
  LevelSpec spec{"L2", {"a", "text"}, {0.1}, 1};
  std::map<std::string, double> best =
      bestReference({{score("a", 0.80, true), score("text", 2.0, false)},
                     {score("a", 0.90, true), score("text", 2.5, false)},
                     {score("a", NAN, true)}});
  CHECK(best.at("a") == 0.90);
  CHECK(best.at("text") == 2.0);
  // +10% on accuracy, and 0.5 bits per character lower: +25%.
  double margin = marginOverBest(
      spec, {score("a", 0.99, true), score("text", 1.5, false)}, best);
  CHECK(margin == Approx((0.1 + 0.25) / 2));
  // A task without a finite score counts as lost by 100%.
  CHECK(marginOverBest(spec, {score("a", 0.90, true)}, best) == Approx(-0.5));
  CHECK(marginOverBest(spec, {score("a", 0.0, true), score("text", 9, false)},
                       best) == Approx(-1));
}

TEST_CASE("the funnel promotes the best proxy results, joins them a round "
          "later and meta-validates the run's best",
          "[search]") {
  fs::path dir = freshDir("nos-funnel-test-");
  SearchSettings settings = smallRounds(1);
  settings.funnel.levels[0] = {"L2", {"logistic"}, {0.1}, 1, 1};
  // Held out: neither the proxy (never run here) nor L2 sees Fashion-MNIST.
  settings.proxy.task.dataset = "logistic";
  settings.funnel.meta = {"meta", {"fmnist-mlp-s"}, {0.1}, 1, 0};
  REQUIRE(Funnel::refuse(settings).empty());
  SearchSettings rewarded = settings;
  rewarded.funnel.meta.tasks = {"logistic"};
  CHECK_THAT(Funnel::refuse(rewarded),
             Catch::Contains("'logistic' trains on logistic data, which the "
                             "reward is measured on"));
  // The proxy's own data is rewarded too, whatever the task's name.
  rewarded.funnel.meta.tasks = {"fmnist-convnet"};
  rewarded.proxy.task.dataset = "fashion-mnist";
  CHECK_THAT(Funnel::refuse(rewarded), Catch::Contains("fashion-mnist data"));
  SearchSettings twice = settings;
  twice.funnel.levels[0].lrs = {0.1, 0.1};
  CHECK_THAT(Funnel::refuse(twice),
             Catch::Contains("level L2 names a task or an lr twice"));
  std::unique_ptr<Store> store = Store::create(dir.string(), settings.toJson());
  std::vector<Candidate> refs = {stored(*store, -1, 0, "g", 0.5),
                                 stored(*store, -1, 1, "sign(g)", 0.45)};
  InlinePool pool;
  auto funnel = std::make_unique<Funnel>(settings, Funnel::load(settings),
                                         *store, pool, 0, quiet);
  funnel->start();
  funnel->retired(-1, refs, 0.0);
  // Every reference at L2 and on the held-out task, one (task, seed) each.
  CHECK(pool.submitted == 4);
  drain(pool, *funnel);

  // Batch 0 ends the first round: the top half is 0.9 and 0.8, both ahead
  // of the best reference (0.5), but one promotion per round is allowed.
  // The run's best so far is meta-validated.
  std::vector<Candidate> batch0 = {
      stored(*store, 0, 0, "g * 2", 0.9), stored(*store, 0, 1, "-g", 0.4),
      stored(*store, 0, 2, "g * 0.5", 0.8),
      stored(*store, 0, 3, "g * 3", 0.3, status::Stopped)};
  REQUIRE(funnel->canRetire(batch0));
  funnel->retired(0, batch0, 5.0);
  CHECK(store->promotions().size() == 6);
  CHECK(find(*store, batch0[0].id, "L2").decided == 0);
  CHECK(find(*store, refs[0].id, "L2").joined == 0); // at the first round
  Promotion meta = find(*store, batch0[0].id, "meta");
  CHECK(meta.reward == 0.9);
  CHECK(meta.time == 5.0);
  CHECK(find(*store, refs[0].id, "meta").joined == Promotion::kNotJoined);
  CHECK(pool.submitted == 6);

  // Batch 1 ends the next round: it waits for the promotion's training,
  // not for meta-validation's.
  std::vector<Candidate> batch1 = {
      stored(*store, 1, 0, "g * 4", 0.1), stored(*store, 1, 1, "g * 5", 0.1),
      stored(*store, 1, 2, "g", 0.5, status::Duplicate),
      stored(*store, 1, 3, "g * 6", 0.1), stored(*store, 1, 4, "g * 7", 0.1)};
  CHECK_FALSE(funnel->canRetire(batch1));
  CHECK(funnel->waiting() == 2);
  CHECK(funnel->waiting(true) == 1);
  drain(pool, *funnel);
  REQUIRE(funnel->canRetire(batch1));
  funnel->retired(1, batch1, 6.0);
  // g * 2 at lr 0.1 is SGD at lr 0.2, measured against SGD at lr 0.1.
  std::vector<LevelRun> runs = store->levelRuns(batch0[0].id, "L2");
  REQUIRE(runs.size() == 1);
  std::vector<LevelRun> sgd = store->levelRuns(refs[0].id, "L2");
  std::vector<LevelRun> sign = store->levelRuns(refs[1].id, "L2");
  double best = std::max(sgd[0].metric, sign[0].metric);
  double expected = 0.5 + 0.5 * (runs[0].metric - best) / best;
  CHECK_FALSE(funnel->reward(batch0[0].id, 1)); // proposed before the join
  REQUIRE(funnel->reward(batch0[0].id, 2));
  CHECK(*funnel->reward(batch0[0].id, 2) == Approx(expected));
  CHECK_FALSE(funnel->reward(batch0[2].id, 2)); // never promoted
  CHECK(find(*store, batch0[0].id, "L2").joined == 1);
  CHECK(find(*store, batch0[0].id, "L2").reward == Approx(expected));
  CHECK(store->levelRuns(batch0[0].id, "meta").size() == 1);
  // The next best went up at the same retirement; it trains now. The
  // run's best is still g * 2 (now by its L2 margin): no new validation.
  CHECK(find(*store, batch0[2].id, "L2").decided == 1);
  CHECK(store->promotions().size() == 7);
  CHECK(funnel->waiting() == 1);
  {
    // Killed now, a resumed run trains what is missing, and only that.
    InlinePool other;
    Funnel killed(settings, Funnel::load(settings), *store, other, 2, quiet);
    CHECK(other.submitted == 0); // not before start()
    killed.start();
    CHECK(other.submitted == 1);
    CHECK(killed.waiting() == 1);
  }
  drain(pool, *funnel);

  // A resumed run rebuilds all of it from the store and trains nothing.
  InlinePool again;
  Funnel resumed(settings, Funnel::load(settings), *store, again, 2, quiet);
  resumed.start();
  CHECK(again.submitted == 0);
  REQUIRE(resumed.reward(batch0[0].id, 2));
  CHECK(*resumed.reward(batch0[0].id, 2) == *funnel->reward(batch0[0].id, 2));
  // Resumed at batch 1, the join of batch 1 is made again, not taken.
  Funnel before(settings, Funnel::load(settings), *store, again, 1, quiet);
  before.start();
  CHECK_FALSE(before.reward(batch0[0].id, 2));
  CHECK(again.submitted == 0);
  funnel.reset();
  store.reset();
  fs::remove_all(dir);
}

// A rule that goes up twice earns, in each batch, the reward of the latest
// join it may see: the L3 join does not hide the L2 one from the batches
// proposed between them.
TEST_CASE("a copy earns the latest join it may see", "[search]") {
  fs::path dir = freshDir("nos-two-joins-test-");
  SearchSettings settings = smallRounds(2);
  settings.funnel.levels[0] = {"L2", {"logistic"}, {0.01}, 1, 1};
  settings.funnel.levels[1] = {"L3", {"logistic"}, {0.01}, 2, 1};
  settings.funnel.metaValidation = false;
  settings.proxy.task.dataset = "logistic";
  std::unique_ptr<Store> store = Store::create(dir.string(), settings.toJson());
  std::vector<Candidate> refs = {stored(*store, -1, 0, "g", 0.5),
                                 stored(*store, -1, 1, "sign(g)", 0.45)};
  InlinePool pool;
  Funnel funnel(settings, Funnel::load(settings), *store, pool, 0, quiet);
  funnel.start();
  funnel.retired(-1, refs, 0.0);
  drain(pool, funnel);
  auto batch = [&](int64_t b, double reward) {
    std::vector<Candidate> slots;
    for (int k = 0; k < 4; ++k)
      slots.push_back(stored(
          *store, b, k,
          b == 0 && k == 0 ? "g * 10" : fmt::format("g * 0.{}", 10 * b + k + 1),
          k == 0 ? reward : 0.1));
    return slots;
  };
  // g * 10 (SGD at ten times the lr) leads at the proxy, at L2 and at L3.
  std::vector<Candidate> b0 = batch(0, 0.9);
  funnel.retired(0, b0, 1.0); // to L2
  drain(pool, funnel);
  funnel.retired(1, batch(1, 0.1), 2.0); // joins L2, goes up to L3
  REQUIRE(find(*store, b0[0].id, "L2").score > 0);
  REQUIRE(find(*store, b0[0].id, "L3").decided == 1);
  drain(pool, funnel);
  funnel.retired(2, batch(2, 0.1), 3.0); // joins L3
  double l2 = find(*store, b0[0].id, "L2").reward;
  double l3 = find(*store, b0[0].id, "L3").reward;
  REQUIRE(l2 != l3);
  CHECK_FALSE(funnel.reward(b0[0].id, 1));
  REQUIRE(funnel.reward(b0[0].id, 2));
  CHECK(*funnel.reward(b0[0].id, 2) == l2); // proposed before the L3 join
  REQUIRE(funnel.reward(b0[0].id, 3));
  CHECK(*funnel.reward(b0[0].id, 3) == l3);
  store.reset();
  fs::remove_all(dir);
}

TEST_CASE("a worker process trains a job from its request as a thread would",
          "[search]") {
  fs::path dir = freshDir("nos-servant-test-");
  SearchSettings settings;
  settings.funnel.used = 1;
  settings.funnel.levels[0] = {"L2", {"logistic"}, {0.1, 1}, 1, 1};
  settings.proxy.task.dataset = "logistic";
  settings.funnel.meta = {"meta", {"noisy-quadratic"}, {0.03}, 1, 0};
  std::unique_ptr<Store> store = Store::create(dir.string(), settings.toJson());
  std::vector<Candidate> refs = {stored(*store, -1, 0, "g", 0.5)};
  FunnelServant servant(settings);
  InlinePool pool;
  pool.servant = &servant;
  Funnel funnel(settings, Funnel::load(settings), *store, pool, 0, quiet);
  funnel.start();
  funnel.retired(-1, refs, 0.0);
  drain(pool, funnel);
  CHECK(pool.submitted == 3);
  LevelTrainer l2(settings.funnel.levels[0]);
  std::vector<LevelRun> here = l2.train(CompiledRule::fromText("g"));
  std::vector<LevelRun> there = store->levelRuns(refs[0].id, "L2");
  REQUIRE(there.size() == 2);
  for (size_t k = 0; k < 2; ++k) {
    CHECK(there[k].lr == here[k].lr);
    CHECK(there[k].metric == here[k].metric); // bit for bit, through JSON
    CHECK(there[k].status == "ok");
  }
  REQUIRE(store->levelRuns(refs[0].id, "meta").size() == 1);
  CHECK(store->levelRuns(refs[0].id, "meta")[0].metric < 0); // log10 loss
  // A rule the compiler refuses is a failed run with no metric, as a
  // thread stores it; a level the settings lack is the servant's error.
  nlohmann::json bad = nlohmann::json::parse(servant.serve(
      R"({"level": "L2", "canonical": "g +", "task": "logistic",
          "seed": 0, "lr": 0.1})"));
  CHECK_THAT(bad.at("status").get<std::string>(),
             Catch::StartsWith("failed: "));
  CHECK(bad.at("metric").is_null());
  CHECK_THROWS_WITH(
      servant.serve(R"({"level": "L3", "canonical": "g",
                        "task": "logistic", "seed": 0, "lr": 0.1})"),
      Catch::Contains("level 'L3', which the run's settings lack"));
  store.reset();
  fs::remove_all(dir);
}
