//===- Funnel.cpp - Promotions of the best rules to costlier levels -------===//
//
// What a promotion decides on is only what retired batches stored and what
// earlier joins took in, so a resumed run rebuilds it from the store: the
// proxy results below its checkpoint, and the joins recomputed from the
// stored level runs. Trainings are jobs of one (task, seed, lr) each, so
// that workers share a promotion, and a kill or the end of a budget waits
// for and loses at most one training per worker.
//
//===----------------------------------------------------------------------===//
#include "Funnel.h"

#include "nos/train/Tasks.h"

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <iterator>
#include <set>
#include <stdexcept>

namespace nos::search {

namespace {
/// What a round counts (as Store::evaluatedBefore does): candidates that
/// went to a worker or were refused there, not copies or screened ones.
bool evaluatedItself(const Candidate &c) {
  return c.status != status::Duplicate && c.status != status::Equivalent &&
         c.status != status::Screened;
}
} // namespace

/// One training of a promotion: one task, seed and lr.
struct Funnel::Job : PoolJob {
  Key key;
  std::string canonical, task;
  uint64_t seed = 0;
  double lr = 0;
  const LevelTrainer *trainer = nullptr;
  LevelCache *cache = nullptr;
  LevelRun run_;

  void run() override {
    run_ = trainLevelRun(*trainer, cache, canonical, task, seed, lr);
  }

  std::string request() const override {
    return nlohmann::json{{"level", trainer->spec().name},
                          {"canonical", canonical},
                          {"task", task},
                          {"seed", seed},
                          {"lr", lr}}
        .dump();
  }

  void answer(const std::string &reply) override {
    nlohmann::json j = nlohmann::json::parse(reply);
    // JSON has no NaN: a diverged run's metric travels as null.
    double metric = j.at("metric").is_null() ? NAN : double(j.at("metric"));
    run_ = {j.at("task"),   j.at("lr"), j.at("seed"),
            j.at("status"), metric,     j.at("seconds")};
  }
};

FunnelServant::FunnelServant(const SearchSettings &settings)
    : tasks_(Funnel::load(settings)) {}

FunnelServant::~FunnelServant() = default;

std::string FunnelServant::serve(const std::string &request) {
  nlohmann::json j = nlohmann::json::parse(request);
  std::string name = j.at("level");
  const LevelTrainer *trainer = nullptr;
  if (tasks_)
    for (const std::unique_ptr<LevelTrainer> &t : tasks_->trainers)
      if (t->spec().name == name)
        trainer = t.get();
  if (!trainer)
    throw std::runtime_error("a job for level '" + name +
                             "', which the run's settings lack");
  LevelRun r = trainLevelRun(*trainer, nullptr, j.at("canonical"), j.at("task"),
                             j.at("seed"), j.at("lr"));
  return nlohmann::json{{"task", r.task},     {"lr", r.lr},
                        {"seed", r.seed},     {"status", r.status},
                        {"metric", r.metric}, {"seconds", r.seconds}}
      .dump();
}

struct Funnel::Entry {
  Promotion promotion;
  size_t level = 0;
  std::string canonical;
  bool reference = false;
  std::vector<std::unique_ptr<Job>> jobs;
  size_t outstanding = 0;
};

namespace {
/// Why a level cannot run: no task or lr, or one given twice (its
/// trainings would collide in the store).
std::string refuseLevel(const LevelSpec &l, const std::string &what) {
  if (l.tasks.empty() || l.lrs.empty())
    return what + " needs at least one task and one lr";
  std::set<std::string> tasks(l.tasks.begin(), l.tasks.end());
  std::set<double> lrs(l.lrs.begin(), l.lrs.end());
  if (tasks.size() != l.tasks.size() || lrs.size() != l.lrs.size())
    return what + " names a task or an lr twice";
  return {};
}
} // namespace

std::string Funnel::refuse(const SearchSettings &s) {
  if (s.funnel.used == 0 || s.proxy.kind != "train")
    return {};
  if (!s.references)
    return "the funnel compares every level with the references: drop "
           "--no-references, or give --levels 0";
  for (int k = 0; k < s.funnel.used; ++k) {
    const LevelSpec &l = s.funnel.levels.at(size_t(k));
    if (std::string why = refuseLevel(l, "funnel level " + l.name);
        !why.empty())
      return why;
  }
  if (!s.funnel.metaValidation)
    return {};
  if (std::string why = refuseLevel(s.funnel.meta, "meta-validation");
      !why.empty())
    return why;
  // Held out means another dataset: a meta task on the proxy's or a
  // level's data would be rewarded in all but name.
  std::set<std::string> rewarded = {s.proxy.task.dataset};
  for (int k = 0; k < s.funnel.used; ++k)
    for (const std::string &task : s.funnel.levels[size_t(k)].tasks)
      rewarded.insert(train::suiteTask(task).spec.dataset);
  for (const std::string &task : s.funnel.meta.tasks)
    if (rewarded.count(train::suiteTask(task).spec.dataset))
      return "the meta-validation task '" + task + "' trains on " +
             train::suiteTask(task).spec.dataset +
             " data, which the reward is measured on; it must be held out";
  return {};
}

std::unique_ptr<FunnelTasks> Funnel::load(const SearchSettings &s) {
  if (!s.promotes())
    return nullptr;
  auto tasks = std::make_unique<FunnelTasks>();
  const std::string &device = s.proxy.task.device;
  for (int k = 0; k < s.funnel.used; ++k)
    tasks->trainers.push_back(
        std::make_unique<LevelTrainer>(s.funnel.levels.at(size_t(k)), device));
  if (s.funnel.metaValidation) {
    tasks->meta = tasks->trainers.size();
    tasks->trainers.push_back(
        std::make_unique<LevelTrainer>(s.funnel.meta, device));
  }
  return tasks;
}

Funnel::Funnel(const SearchSettings &settings,
               std::unique_ptr<FunnelTasks> tasks, Store &store,
               WorkerPool &pool, int64_t nextBatch,
               std::function<void(const std::string &)> log)
    : settings_(settings), store_(store), pool_(pool), log_(std::move(log)),
      tasks_(std::move(tasks)), trainers_(tasks_->trainers),
      meta_(tasks_->meta) {
  size_t used = size_t(settings_.funnel.used);
  levels_.resize(used);
  referenceScores_.resize(used);
  referenceBest_.resize(used);
  evaluated_ = store_.evaluatedBefore(nextBatch);
  for (auto [id, reward] : store_.scoredBefore(nextBatch))
    proxy_.insert({reward, -id});
  for (const Candidate &c : store_.batch(-1))
    if (c.status == status::Scored)
      referenceReward_ = std::max(referenceReward_, c.reward);
  // Decisions at or after the checkpoint are made again as the batches are
  // replayed; joins before it are recomputed, not rewritten.
  std::vector<Promotion> joined;
  for (const Promotion &p : store_.promotions()) {
    std::optional<size_t> level = levelNamed(p.level);
    std::optional<Candidate> c = store_.candidate(p.candidate);
    if (p.decided >= nextBatch || !level || !c)
      continue;
    Promotion decided = p;
    decided.joined = Promotion::kNotJoined;
    promote(decided, c->canonical, *level, c->batch < 0);
    if (p.joined < nextBatch)
      joined.push_back(p);
  }
  // References first: every other score is measured against them.
  std::stable_sort(joined.begin(), joined.end(),
                   [&](const Promotion &a, const Promotion &b) {
                     return std::pair(a.joined, a.decided >= 0) <
                            std::pair(b.joined, b.decided >= 0);
                   });
  for (const Promotion &p : joined)
    joinOne(*entries_.at({p.candidate, *levelNamed(p.level)}), p.joined, false);
}

std::optional<size_t> Funnel::levelNamed(const std::string &name) const {
  for (size_t k = 0; k < trainers_.size(); ++k)
    if (trainers_[k]->spec().name == name)
      return k;
  return std::nullopt;
}

Funnel::~Funnel() = default;

void Funnel::promote(const Promotion &p, const std::string &canonical,
                     size_t level, bool reference) {
  Key key{p.candidate, level};
  if (entries_.count(key))
    return; // decided again by a replayed batch
  auto e = std::make_unique<Entry>();
  e->promotion = p;
  e->level = level, e->canonical = canonical, e->reference = reference;
  store_.insertPromotion(e->promotion);
  if (started_)
    launch(*e);
  entries_[key] = std::move(e);
}

void Funnel::start() {
  started_ = true;
  if (tasks_->cache)
    log_("level trainings served from and kept in " + tasks_->cache->path());
  for (auto &[key, e] : entries_)
    launch(*e);
}

/// Submits the (task, seed, lr) trainings the store does not hold yet.
void Funnel::launch(Entry &e) {
  const LevelTrainer &trainer = *trainers_[e.level];
  std::vector<LevelRun> stored =
      store_.levelRuns(e.promotion.candidate, e.promotion.level);
  for (uint64_t seed : trainer.spec().seedList())
    for (const std::string &task : trainer.spec().tasks)
      for (double lr : trainer.spec().lrs) {
        bool have =
            std::any_of(stored.begin(), stored.end(), [&](const auto &r) {
              return r.task == task && r.seed == seed && r.lr == lr;
            });
        if (have)
          continue;
        auto job = std::make_unique<Job>();
        job->key = {e.promotion.candidate, e.level};
        job->canonical = e.canonical, job->task = task;
        job->seed = uint64_t(seed), job->lr = lr, job->trainer = &trainer;
        job->cache = tasks_->cache.get();
        ++e.outstanding;
        pool_.submit(*job);
        e.jobs.push_back(std::move(job));
      }
}

void Funnel::finished(PoolJob &pj, double now) {
  Job &job = static_cast<Job &>(pj);
  Entry &e = *entries_.at(job.key);
  store_.insertLevelRuns(e.promotion.candidate, e.promotion.level, {job.run_},
                         now);
  --e.outstanding;
  if (tasks_->cache)
    if (std::string why = tasks_->cache->takeError(); !why.empty())
      log_("the level-results cache " + tasks_->cache->path() + " failed (" +
           why + "); its trainings run and are stored as ever");
}

size_t Funnel::waiting(bool joinedOnly) const {
  size_t n = 0;
  for (const auto &[key, e] : entries_)
    n += e->outstanding > 0 && !(joinedOnly && key.second == meta_);
  return n;
}

/// Whether retiring a batch with these slots ends a round.
bool Funnel::boundary(const std::vector<Candidate> &slots) const {
  int64_t more = std::count_if(slots.begin(), slots.end(), evaluatedItself);
  int64_t round = settings_.funnel.round;
  return (evaluated_ + more) / round > evaluated_ / round;
}

bool Funnel::canRetire(const std::vector<Candidate> &slots) const {
  if (slots.empty() || slots[0].batch < 0 || !boundary(slots))
    return true;
  return waiting(true) == 0; // meta-validation is never joined
}

void Funnel::retired(int64_t batch, const std::vector<Candidate> &slots,
                     double now) {
  if (batch < 0) {
    for (const Candidate &c : slots) {
      if (c.status == status::Scored)
        referenceReward_ = std::max(referenceReward_, c.reward);
      for (size_t k = 0; k < trainers_.size(); ++k)
        promote({c.id, trainers_[k]->spec().name, -1, Promotion::kNotJoined,
                 NAN, NAN, now},
                c.canonical, k, true);
    }
    return;
  }
  bool ends = boundary(slots);
  for (const Candidate &c : slots) {
    if (!evaluatedItself(c))
      continue;
    ++evaluated_;
    if (c.status == status::Scored)
      proxy_.insert({c.reward, -c.id});
  }
  if (!ends)
    return;
  join(batch, true);
  decide(batch, now);
  if (meta_ != kNoMeta)
    validateBest(batch, now);
}

/// Takes in every promotion whose trainings are all stored (canRetire
/// waited for them), references first.
void Funnel::join(int64_t batch, bool store) {
  for (bool references : {true, false})
    for (auto &[key, e] : entries_)
      if (e->reference == references && key.second != meta_ &&
          e->promotion.joined == Promotion::kNotJoined && e->outstanding == 0)
        joinOne(*e, batch, store);
}

void Funnel::joinOne(Entry &e, int64_t batch, bool store) {
  e.promotion.joined = batch;
  const LevelTrainer &trainer = *trainers_[e.level];
  std::vector<TaskScore> scores =
      scoreLevel(trainer.spec(),
                 store_.levelRuns(e.promotion.candidate, e.promotion.level));
  if (e.reference) {
    referenceScores_[e.level].push_back(scores);
    referenceBest_[e.level] = bestReference(referenceScores_[e.level]);
  } else {
    e.promotion.score =
        marginOverBest(trainer.spec(), scores, referenceBest_[e.level]);
    e.promotion.reward =
        std::isfinite(referenceReward_)
            ? referenceReward_ + std::abs(referenceReward_) * e.promotion.score
            : NAN;
    levels_[e.level].insert({e.promotion.score, -e.promotion.candidate});
    // Without a scored reference there is no scale to reward copies on.
    if (std::isfinite(e.promotion.reward))
      copyRewards_[e.promotion.candidate][batch] = e.promotion.reward;
    if (store)
      log_(fmt::format("{} {:+.2f}% against the best reference: {}",
                       e.promotion.level, 100 * e.promotion.score,
                       e.canonical));
  }
  if (store)
    store_.joinPromotion(e.promotion);
}

void Funnel::decide(int64_t batch, double now) {
  decideFromProxy(batch, now);
  for (size_t from = 0; from + 1 < levels_.size(); ++from)
    decideFromLevel(from, batch, now);
}

/// The run's best: the best margin at the highest level with a joined
/// result, else the best proxy result; with the reward it is credited.
std::optional<std::pair<int64_t, double>> Funnel::best() const {
  for (size_t k = levels_.size(); k-- > 0;)
    if (!levels_[k].empty()) {
      int64_t id = -levels_[k].begin()->second;
      const Entry &e = *entries_.at({id, k});
      return std::pair(id, e.promotion.reward);
    }
  if (proxy_.empty())
    return std::nullopt;
  return std::pair(-proxy_.begin()->second, proxy_.begin()->first);
}

/// Queues the run's best for meta-validation when it is a new one.
void Funnel::validateBest(int64_t batch, double now) {
  std::optional<std::pair<int64_t, double>> b = best();
  if (!b || entries_.count({b->first, meta_}))
    return;
  std::optional<Candidate> c = store_.candidate(b->first);
  promote({b->first, settings_.funnel.meta.name, batch, Promotion::kNotJoined,
           NAN, b->second, now},
          c->canonical, meta_, false);
  log_(fmt::format("meta-validating the run's best (reward {:.4f}): {}",
                   b->second, c->canonical));
}

/// The best proxy results in the top share and ahead of the best
/// reference that are not at L2 yet, at most perRound of them.
void Funnel::decideFromProxy(int64_t batch, double now) {
  promoteBest(
      proxy_, referenceReward_, 0, batch, now,
      [&](int64_t id) { return store_.candidate(id)->canonical; },
      [](double reward) { return fmt::format("proxy reward {:.4f}", reward); });
}

/// The same from a level to the next: ahead of the best reference means a
/// positive score.
void Funnel::decideFromLevel(size_t from, int64_t batch, double now) {
  const std::string &name = settings_.funnel.levels[from].name;
  promoteBest(
      levels_[from], 0, from + 1, batch, now,
      [&](int64_t id) {
        return entries_.at({id, from})->canonical;
      },
      [&](double score) {
        return fmt::format("{} {:+.2f}%", name, 100 * score);
      });
}

/// Promotes to level `to` the best of `ranking` in its top share and above
/// `bar`, at most the level's number per round, passing over those already
/// there.
void Funnel::promoteBest(const Ranking &ranking, double bar, size_t to,
                         int64_t batch, double now,
                         const std::function<std::string(int64_t)> &canonicalOf,
                         const std::function<std::string(double)> &why) {
  const LevelSpec &level = settings_.funnel.levels[to];
  size_t top = size_t(std::ceil(settings_.funnel.top * double(ranking.size())));
  int promoted = 0;
  size_t rank = 0;
  for (auto [value, negId] : ranking) {
    if (rank++ >= top || promoted >= level.perRound || value <= bar)
      break;
    if (entries_.count({-negId, to}))
      continue;
    std::string canonical = canonicalOf(-negId);
    promote({-negId, level.name, batch, Promotion::kNotJoined, NAN, NAN, now},
            canonical, to, false);
    log_(fmt::format("to {} ({}): {}", level.name, why(value), canonical));
    ++promoted;
  }
}

std::optional<double> Funnel::reward(int64_t original, int64_t batch) const {
  auto it = copyRewards_.find(original);
  if (it == copyRewards_.end())
    return std::nullopt;
  // The latest join at least `pipeline` batches before `batch`.
  auto join = it->second.upper_bound(batch - settings_.pipeline);
  if (join == it->second.begin())
    return std::nullopt;
  return std::prev(join)->second;
}

} // namespace nos::search
