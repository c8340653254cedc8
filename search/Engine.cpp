//===- Engine.cpp - The pipelined search loop -----------------------------===//
//
// The loop: keep `pipeline` batches open, retire the oldest once every slot
// is stored (the strategy learns from it), otherwise store the next result
// a worker hands back. Opening a batch runs the cheap stages and the score
// lookups here, in slot order: an original in flight is found in this
// engine's maps, a retired one in the store, so which candidate is the
// original of a duplicate never depends on thread timing. The budget is
// checked before each evaluation starts, so a session ends with at most the
// candidates in flight finishing late; a checkpoint every few seconds lets
// the next session replay from there, reusing every stored row.
//
//===----------------------------------------------------------------------===//
#include "Engine.h"

#include "nos/Builtins.h"

#include <fmt/core.h>

#include <map>
#include <stdexcept>
#include <string_view>

namespace nos::search {

namespace {
using Clock = std::chrono::steady_clock;

/// Seconds between checkpoints: a controller's state is ~1.5 MB, too much
/// to write after every batch, and a kill costs at most a replay of this
/// long (the strategy's updates, not the evaluations, which are stored).
constexpr double kCheckpointSeconds = 10;

/// Token strings whose canonical form is kept (Engine::canonicalize).
constexpr size_t kTokenMemo = 1 << 16;

/// A duplicate or equivalent earns what its original earned.
void reuseScore(Candidate &c, const Candidate &original, const char *why) {
  c.status = why;
  c.reward = original.reward, c.bestLr = original.bestLr;
  c.accuracies = original.accuracies, c.sourceId = original.id;
  c.fidelity = original.fidelity, c.rungs = original.rungs;
  c.detail = "same " +
             std::string(why == status::Duplicate ? "canonical form"
                                                  : "probe updates") +
             " as candidate " + std::to_string(original.id);
}

bool isCopy(const Candidate &c) {
  return c.status == status::Duplicate || c.status == status::Equivalent;
}

/// A copy's detail ends with this when its reward is a promotion's: stored
/// with the row, so a resumed run teaches what the first session taught.
constexpr std::string_view kFunnelReward = "; reward from the funnel";

bool rewardFromFunnel(const Candidate &c) {
  return c.detail.ends_with(kFunnelReward);
}

/// What Pipeline::canonicalize sets: all that a token string decides.
void copyCanonicalForm(const Candidate &from, Candidate &to) {
  to.rule = from.rule, to.canonical = from.canonical, to.hash = from.hash;
  to.expr = from.expr, to.status = from.status, to.detail = from.detail;
}

} // namespace

Engine::Engine(Store &store, const Pipeline &pipeline, WorkerPool &pool,
               SearchSettings settings, const RunOptions &options,
               std::unique_ptr<FunnelTasks> funnelTasks)
    : store_(store), settings_(std::move(settings)), pipeline_(pipeline),
      pool_(pool), space_(settings_.units, settings_.space),
      strategy_(makeStrategy(settings_.strategy, space_)),
      progress_(store.progress()), start_(Clock::now()),
      reporter_(options.quiet),
      history_(settings_.proxy.rungs, settings_.proxy.eta) {
  if (!progress_.strategyState.empty())
    strategy_->loadState(progress_.strategyState);
  progress_.strategyState = {}; // ~1.5 MB that checkpoints need not copy
  train::setTorchThreads(1);    // the controller: small, deterministic
  reporter_.resume(store.statusCounts(), store.best());
  stored_ = store.searchCount();
  historyBelow_ = progress_.nextBatch;
  historyLastId_ = store.lastId();
  for (const std::vector<double> &r : store.rungsBefore(historyBelow_))
    history_.add(r);
  lastCheckpoint_ = progress_.elapsedSeconds;
  if (funnelTasks)
    funnel_ = std::make_unique<Funnel>(
        settings_, std::move(funnelTasks), store_, pool_, progress_.nextBatch,
        [this](const std::string &line) { reporter_.note(line); });
  // Last: a throw above must not leave the pool a pointer to this engine.
  pool_.stopWhen([this] { return outOfTime(); });
}

Engine::~Engine() {
  pool_.stopWhen([] { return true; });
  try {
    while (pool_.wait()) {
    }
  } catch (...) { // the session already ends with an error
  }
}

int Engine::run() {
  fmt::print(stderr, "nos-search: {} in {}, {}; proxy: {}\n",
             settings_.strategy.name, store_.dir(), pool_.describe(),
             pipeline_.describe());
  if (funnel_)
    funnel_->start(); // after setBudget: the pool may be stopped until then
  if (settings_.references)
    openReferences();
  for (PendingBatch &p : progress_.pending)
    openBatch(p.batch, std::move(p.proposals), std::move(p.bars));
  for (;;) {
    fill();
    if (retire())
      continue;
    // Promotions decided last still train when no batch is left.
    bool busy = !flights_.empty() || (funnel_ && funnel_->waiting() > 0);
    Finished done = busy ? pool_.wait() : Finished{};
    if (!done)
      break; // nothing runs and nothing may start
    if (done.job)
      funnel_->finished(*done.job, elapsed());
    else
      commit(*done.candidate);
  }
  return finish();
}

void Engine::setBudget(const Budget &b, bool resuming) {
  progress_.targetCandidates =
      b.candidates > 0 ? (resuming ? stored_ : 0) + b.candidates : 0;
  progress_.targetSeconds =
      b.minutes > 0 ? (resuming ? progress_.elapsedSeconds : 0) + 60 * b.minutes
                    : 0;
  store_.saveProgress(progress_);
}

std::string Engine::spent() const {
  if (progress_.targetCandidates > 0 && stored_ >= progress_.targetCandidates)
    return fmt::format("its budget of {} candidates",
                       progress_.targetCandidates);
  if (progress_.targetSeconds > 0 &&
      progress_.elapsedSeconds >= progress_.targetSeconds)
    return fmt::format("its budget of {:g} minutes",
                       progress_.targetSeconds / 60);
  return {};
}

double Engine::elapsed() const {
  return progress_.elapsedSeconds +
         std::chrono::duration<double>(Clock::now() - start_).count();
}

/// Asked by worker threads too: reads only what no one writes during run().
bool Engine::outOfTime() const {
  return interrupted ||
         (progress_.targetSeconds > 0 && elapsed() >= progress_.targetSeconds);
}

bool Engine::budgetReached() const {
  return progress_.targetCandidates > 0 &&
         stored_ + admitted_ >= progress_.targetCandidates;
}

/// Opens strategy batches until `pipeline` are open. Not while the
/// references are: every batch's bars count them.
void Engine::fill() {
  while (!stopping_) {
    int64_t open = 0;
    for (const Flight &f : flights_) {
      if (f.batch < 0)
        return;
      ++open;
    }
    if (open >= settings_.pipeline)
      return;
    if (outOfTime() || budgetReached()) {
      stopping_ = true;
      return;
    }
    openBatch(progress_.nextBatch + open,
              strategy_->propose(settings_.batchSize), history_.bars());
  }
}

void Engine::openReferences() {
  Flight &f = flights_.emplace_back();
  f.batch = -1;
  // References train at full fidelity: they are what the report compares
  // with.
  f.bars = std::make_shared<const std::vector<double>>();
  for (size_t k = 0; k < referenceNames().size(); ++k) {
    Candidate &c = f.slots.emplace_back();
    c.batch = -1, c.slot = int(k);
    c.origin = "reference:" + referenceNames()[k];
    c.rule = referenceNames()[k];
  }
  admit(f);
}

void Engine::openBatch(int64_t batch, std::vector<Actions> proposals,
                       std::vector<double> bars) {
  Flight &f = flights_.emplace_back();
  f.batch = batch;
  f.bars = std::make_shared<const std::vector<double>>(std::move(bars));
  for (size_t k = 0; k < proposals.size(); ++k) {
    Candidate &c = f.slots.emplace_back();
    c.batch = batch, c.slot = int(k), c.origin = settings_.strategy.name;
    c.tokens = space_.tokens(proposals[k]);
  }
  f.proposals = std::move(proposals);
  admit(f);
}

/// Stored rows of a resumed batch are taken as they are; new slots go
/// through the cheap stages, as many as the budget admits.
void Engine::admit(Flight &f) {
  std::map<int, Candidate> stored;
  for (Candidate &c : store_.batch(f.batch))
    stored[c.slot] = c;
  f.open = f.slots.size();
  for (Candidate &c : f.slots) {
    if (auto it = stored.find(c.slot); it != stored.end()) {
      if (it->second.tokens != c.tokens || it->second.origin != c.origin)
        throw std::runtime_error(fmt::format(
            "batch {} slot {} is stored as '{}' but was proposed as '{}': "
            "the run is not reproducible with this build",
            f.batch, c.slot, it->second.tokens, c.tokens));
      c = it->second;
      remember(c);
      --f.open;
      continue;
    }
    if (outOfTime() || (f.batch >= 0 && budgetReached())) {
      f.cut = stopping_ = true; // what was admitted is still evaluated
      return;
    }
    admitted_ += f.batch >= 0;
    prepare(c, f);
  }
}

void Engine::prepare(Candidate &c, Flight &f) {
  canonicalize(c);
  if (c.settled())
    return commit(c);
  if (copyOf(c, byCanonical_, c.canonical, status::Duplicate))
    return;
  pipeline_.probe(c);
  if (c.settled())
    return commit(c);
  if (copyOf(c, byFingerprint_, c.fingerprint, status::Equivalent))
    return;
  pool_.submit(c, f.bars);
}

/// A strategy proposes the same tokens again and again; their parse and
/// canonical form are kept here, so that only new ones cost MLIR time.
void Engine::canonicalize(Candidate &c) {
  auto it = c.tokens.empty() ? byTokens_.end() : byTokens_.find(c.tokens);
  if (it != byTokens_.end())
    return copyCanonicalForm(it->second, c);
  pipeline_.canonicalize(c);
  if (c.tokens.empty())
    return;
  if (byTokens_.size() >= kTokenMemo)
    byTokens_.clear(); // bounded memory; a forgotten one costs a parse
  copyCanonicalForm(c, byTokens_[c.tokens]);
}

/// True when an original with this key settles `c` (now, or when its own
/// result is in); else `c` becomes the key's original.
bool Engine::copyOf(Candidate &c, Originals &inFlight, const std::string &key,
                    const char *why) {
  if (auto it = inFlight.find(key); it != inFlight.end()) {
    follow(c, *it->second, why);
    return true;
  }
  std::optional<Candidate> stored =
      why == status::Duplicate
          ? store_.findCanonical(key, progress_.nextBatch)
          : store_.findFingerprint(key, progress_.nextBatch);
  if (stored) {
    reuse(c, *stored, why);
    commit(c);
    return true;
  }
  inFlight[key] = &c;
  return false;
}

/// An original that retired may have gone up the funnel since: a copy
/// proposed after its promotion joined earns what the promotion found.
void Engine::reuse(Candidate &c, const Candidate &original, const char *why) {
  reuseScore(c, original, why);
  if (!funnel_)
    return;
  if (std::optional<double> r = funnel_->reward(original.id, c.batch)) {
    c.reward = *r;
    c.detail += kFunnelReward;
  }
}

/// Takes the original's result now if it is stored, else when it is.
void Engine::follow(Candidate &c, Candidate &original, const char *why) {
  c.status = why;
  if (original.id != 0) {
    reuseScore(c, original, why);
    commit(c);
  } else {
    waiting_[&original].push_back(&c);
  }
}

/// A stored row of a batch opened again is an original as it was when
/// first opened: the same rules as prepare() applies.
void Engine::remember(Candidate &c) {
  if (!c.canonical.empty() && c.status != status::Duplicate)
    byCanonical_.emplace(c.canonical, &c);
  if (!c.fingerprint.empty() && !isCopy(c) && c.status != status::Screened)
    byFingerprint_.emplace(c.fingerprint, &c);
}

void Engine::commit(Candidate &c) {
  c.time = elapsed();
  store_.insert(c);
  if (c.batch >= 0)
    ++stored_, --admitted_;
  reporter_.settled(c, elapsed(), progress_.targetSeconds);
  --flightOf(c).open;
  auto it = waiting_.find(&c);
  if (it == waiting_.end())
    return;
  std::vector<Candidate *> copies = std::move(it->second);
  waiting_.erase(it);
  for (Candidate *copy : copies) {
    reuseScore(*copy, c,
               copy->status == status::Duplicate ? status::Duplicate
                                                 : status::Equivalent);
    commit(*copy);
  }
}

/// Learns from the oldest batch if its every slot is stored. One at a
/// time: the next batch is proposed right after each update, or what the
/// strategy proposes would depend on how many batches ended together.
bool Engine::retire() {
  if (flights_.empty() || flights_.front().open != 0 || flights_.front().cut)
    return false;
  Flight &f = flights_.front();
  if (funnel_ && !funnel_->canRetire(f.slots))
    return false; // a round ends here: its promotions are still training
  learnFrom(f);
  if (funnel_)
    funnel_->retired(f.batch, f.slots, elapsed());
  for (const Candidate &c : f.slots) {
    if (auto it = byCanonical_.find(c.canonical);
        it != byCanonical_.end() && it->second == &c)
      byCanonical_.erase(it);
    if (auto it = byFingerprint_.find(c.fingerprint);
        it != byFingerprint_.end() && it->second == &c)
      byFingerprint_.erase(it);
  }
  bool strategyBatch = f.batch >= 0;
  flights_.pop_front();
  if (strategyBatch && elapsed() - lastCheckpoint_ >= kCheckpointSeconds)
    checkpoint();
  return true;
}

/// Whether `c`'s reward is news to the strategy: with copies teaching
/// nothing, only an evaluation of its own or a promotion's reward is.
bool Engine::teaches(const Candidate &c) const {
  return !isCopy(c) || !settings_.strategy.copiesTeachNothing() ||
         rewardFromFunnel(c);
}

void Engine::learnFrom(Flight &f) {
  for (const Candidate &c : f.slots)
    if (!isCopy(c) && (c.id > historyLastId_ || c.batch >= historyBelow_))
      history_.add(c.rungs); // not yet loaded from the store
  if (f.batch < 0)
    return;
  std::vector<double> rewards;
  std::vector<bool> copies;
  for (const Candidate &c : f.slots) {
    rewards.push_back(teaches(c) ? c.reward : NAN);
    copies.push_back(isCopy(c));
  }
  strategy_->learn(f.proposals, rewards, copies);
  progress_.nextBatch = f.batch + 1;
  reporter_.batchDone(f.batch, strategy_->describe());
}

/// The strategy has learned from every batch below nextBatch and proposed
/// the open ones: those are what a resumed run opens again.
void Engine::checkpoint() {
  Progress p = progress_;
  p.strategyState = strategy_->saveState();
  p.pending.clear();
  for (const Flight &f : flights_)
    if (f.batch >= 0)
      p.pending.push_back({f.batch, f.proposals, *f.bars});
  p.elapsedSeconds = elapsed();
  store_.saveProgress(p);
  lastCheckpoint_ = p.elapsedSeconds;
}

int Engine::finish() {
  checkpoint();
  reporter_.finish(store_.dir(), interrupted);
  return interrupted ? 130 : 0;
}

Engine::Flight &Engine::flightOf(const Candidate &c) {
  for (Flight &f : flights_)
    if (f.batch == c.batch)
      return f;
  throw std::logic_error("a candidate of a batch not in flight");
}

} // namespace nos::search
