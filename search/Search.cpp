//===- Search.cpp - The search loop: propose, evaluate, learn, store ------===//
//
// One Engine per session. A batch is settled slot by slot: stored rows of a
// resumed batch are taken as they are; for new ones the cheap stages and
// the score lookups run here, in slot order, so which candidate counts as
// the original of a duplicate never depends on thread timing; the costly
// evaluations go to the workers. The budget is checked before each
// evaluation starts, so a session ends with at most the candidates in
// flight finishing late, and an unfinished batch is simply re-proposed by
// the next session.
//
//===----------------------------------------------------------------------===//
#include "nos/search/Search.h"

#include "nos/Builtins.h"
#include "nos/search/Reporter.h"
#include "nos/search/Store.h"
#include "nos/search/Workers.h"

#include <fmt/core.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <exception>
#include <map>
#include <stdexcept>
#include <thread>

namespace nos::search {

namespace {
using Clock = std::chrono::steady_clock;

std::atomic<bool> interrupted{false};
extern "C" void onSignal(int) { interrupted = true; }

class Engine {
public:
  Engine(Store &store, const Pipeline &pipeline, WorkerPool &pool,
         SearchSettings settings, const RunOptions &options)
      : store_(store), settings_(std::move(settings)), pipeline_(pipeline),
        pool_(pool), space_(settings_.units),
        strategy_(makeStrategy(settings_.strategy, space_)),
        progress_(store.progress()), start_(Clock::now()),
        reporter_(options.quiet),
        history_(settings_.proxy.rungs, settings_.proxy.eta) {
    if (!progress_.strategyState.empty())
      strategy_->loadState(progress_.strategyState);
    train::setTorchThreads(1); // the controller: small, deterministic
    reporter_.resume(store.statusCounts(), store.best());
    stored_ = store.searchCount();
    historyBelow_ = progress_.nextBatch;
    historyLastId_ = store.lastId();
    for (const std::vector<double> &r : store.rungsBefore(historyBelow_))
      history_.add(r);
  }

  int run() {
    fmt::print(stderr, "nos-search: {} in {}, {}; proxy: {}\n",
               settings_.strategy.name, store_.dir(), pool_.describe(),
               pipeline_.describe());
    if (settings_.references && !settleReferences())
      return finish();
    while (!outOfBudget()) {
      int64_t batch = progress_.nextBatch;
      std::vector<Actions> proposals = strategy_->propose(settings_.batchSize);
      std::vector<Candidate> settled;
      if (!settleBatch(batch, proposals, settled))
        break;
      std::vector<double> rewards;
      for (const Candidate &c : settled)
        rewards.push_back(c.reward);
      strategy_->learn(proposals, rewards);
      progress_.nextBatch = batch + 1;
      progress_.strategyState = strategy_->saveState();
      saveProgress();
      reporter_.batchDone(batch, strategy_->describe());
    }
    return finish();
  }

  /// The session's budget replaces the stored one: a run that spent its
  /// minutes can go on by candidates, and the other way round.
  void setBudget(const Budget &b, bool resuming) {
    progress_.targetCandidates =
        b.candidates > 0 ? (resuming ? stored_ : 0) + b.candidates : 0;
    progress_.targetSeconds =
        b.minutes > 0
            ? (resuming ? progress_.elapsedSeconds : 0) + 60 * b.minutes
            : 0;
    saveProgress();
  }

  /// Why the stored budget is spent, or "".
  std::string spent() const {
    if (progress_.targetCandidates > 0 && stored_ >= progress_.targetCandidates)
      return fmt::format("its budget of {} candidates",
                         progress_.targetCandidates);
    if (progress_.targetSeconds > 0 &&
        progress_.elapsedSeconds >= progress_.targetSeconds)
      return fmt::format("its budget of {:g} minutes",
                         progress_.targetSeconds / 60);
    return {};
  }

private:
  double elapsed() const {
    return progress_.elapsedSeconds +
           std::chrono::duration<double>(Clock::now() - start_).count();
  }

  /// Time, signal or a candidate budget fully stored.
  bool outOfBudget() const {
    return interrupted ||
           (progress_.targetSeconds > 0 &&
            elapsed() >= progress_.targetSeconds) ||
           (progress_.targetCandidates > 0 &&
            stored_ >= progress_.targetCandidates);
  }

  void saveProgress() {
    Progress p = progress_;
    p.elapsedSeconds = elapsed();
    store_.saveProgress(p);
  }

  int finish() {
    saveProgress();
    reporter_.finish(store_.dir(), interrupted);
    return interrupted ? 130 : 0;
  }

  bool settleReferences() {
    std::vector<Candidate> batch;
    for (size_t k = 0; k < referenceNames().size(); ++k) {
      Candidate c;
      c.batch = -1, c.slot = int(k);
      c.origin = "reference:" + referenceNames()[k];
      c.rule = referenceNames()[k];
      batch.push_back(c);
    }
    std::vector<Candidate> settled;
    return settle(-1, batch, settled);
  }

  bool settleBatch(int64_t batch, const std::vector<Actions> &proposals,
                   std::vector<Candidate> &settled) {
    std::vector<Candidate> slots;
    for (size_t k = 0; k < proposals.size(); ++k) {
      Candidate c;
      c.batch = batch, c.slot = int(k), c.origin = settings_.strategy.name;
      c.tokens = space_.tokens(proposals[k]);
      slots.push_back(c);
    }
    return settle(batch, slots, settled);
  }

  /// Settles every slot (true), or as many as the budget allows (false).
  bool settle(int64_t batch, std::vector<Candidate> &slots,
              std::vector<Candidate> &settled) {
    // References train at full fidelity: they are what the report compares
    // with.
    bars_ = batch >= 0 ? history_.bars() : std::vector<double>{};
    std::map<int, Candidate> stored;
    for (Candidate &c : store_.batch(batch))
      stored[c.slot] = c;
    std::vector<size_t> work;
    std::map<size_t, size_t> sameAs; // slot -> earlier slot of this batch
    std::map<std::string, size_t> canonicalSlot, fingerprintSlot;
    // New slots admitted so far count against the candidate budget before
    // they are stored.
    int64_t base = stored_, admitted = 0;
    bool complete = true;
    for (size_t k = 0; k < slots.size(); ++k) {
      Candidate &c = slots[k];
      if (auto it = stored.find(c.slot); it != stored.end()) {
        if (it->second.tokens != c.tokens || it->second.origin != c.origin)
          throw std::runtime_error(fmt::format(
              "batch {} slot {} is stored as '{}' but was proposed as '{}': "
              "the run is not reproducible with this build",
              batch, c.slot, it->second.tokens, c.tokens));
        c = it->second;
        continue;
      }
      if (outOfBudgetNow() || (batch >= 0 && progress_.targetCandidates > 0 &&
                               base + admitted >= progress_.targetCandidates)) {
        complete = false; // what was admitted is still evaluated below
        break;
      }
      ++admitted;
      prepare(c, k, canonicalSlot, fingerprintSlot, sameAs, work);
      if (c.settled() && !sameAs.count(k))
        commit(c);
    }
    complete = evaluate(slots, work) && complete;
    for (auto [k, original] : sameAs) {
      Candidate &c = slots[k];
      const Candidate &o = slots[original];
      if (o.id == 0) { // its original was not evaluated this session
        complete = false;
        continue;
      }
      reuseScore(c, o);
      commit(c);
    }
    if (complete)
      for (const Candidate &c : slots)
        if (c.status != status::Duplicate && c.status != status::Equivalent &&
            (c.id > historyLastId_ || c.batch >= historyBelow_))
          history_.add(c.rungs); // not yet loaded from the store
    settled = slots;
    return complete;
  }

  void prepare(Candidate &c, size_t k,
               std::map<std::string, size_t> &canonicalSlot,
               std::map<std::string, size_t> &fingerprintSlot,
               std::map<size_t, size_t> &sameAs, std::vector<size_t> &work) {
    pipeline_.canonicalize(c);
    if (c.settled())
      return;
    if (reuse(c, store_.findCanonical(c.canonical), status::Duplicate))
      return;
    if (auto it = canonicalSlot.find(c.canonical); it != canonicalSlot.end()) {
      c.status = status::Duplicate, sameAs[k] = it->second;
      return;
    }
    canonicalSlot[c.canonical] = k;
    pipeline_.probe(c);
    if (c.settled())
      return;
    if (reuse(c, store_.findFingerprint(c.fingerprint), status::Equivalent))
      return;
    if (auto it = fingerprintSlot.find(c.fingerprint);
        it != fingerprintSlot.end()) {
      c.status = status::Equivalent, sameAs[k] = it->second;
      return;
    }
    fingerprintSlot[c.fingerprint] = k;
    work.push_back(k);
  }

  /// A duplicate or equivalent earns what its original earned.
  static void reuseScore(Candidate &c, const Candidate &original) {
    c.reward = original.reward, c.bestLr = original.bestLr;
    c.accuracies = original.accuracies, c.sourceId = original.id;
    c.fidelity = original.fidelity, c.rungs = original.rungs;
  }

  static bool reuse(Candidate &c, const std::optional<Candidate> &earlier,
                    const char *why) {
    if (!earlier)
      return false;
    c.status = why;
    reuseScore(c, *earlier);
    c.detail = "same " +
               std::string(why == status::Duplicate ? "canonical form"
                                                    : "probe updates") +
               " as candidate " + std::to_string(earlier->id);
    return true;
  }

  void commit(Candidate &c) {
    c.time = elapsed();
    store_.insert(c);
    stored_ += c.batch >= 0;
    reporter_.settled(c, elapsed(), progress_.targetSeconds);
  }

  /// Runs the queued slots on the workers; false if the budget ran out
  /// before every one had started.
  bool evaluate(std::vector<Candidate> &slots,
                const std::vector<size_t> &work) {
    return pool_.evaluate(
        slots, work, bars_, [this] { return outOfBudgetNow(); },
        [this](Candidate &c) { commit(c); });
  }

  bool outOfBudgetNow() const {
    return interrupted || (progress_.targetSeconds > 0 &&
                           elapsed() >= progress_.targetSeconds);
  }

  Store &store_;
  SearchSettings settings_;
  const Pipeline &pipeline_;
  WorkerPool &pool_;
  Space space_;
  std::unique_ptr<Strategy> strategy_;
  Progress progress_;
  Clock::time_point start_;
  Reporter reporter_;
  /// Candidates in the store (references excluded), kept here because
  /// counting them in SQLite costs a scan per batch.
  int64_t stored_ = 0;
  /// Successive halving's results so far, and the bars of this batch.
  /// At the start it holds the rows of batches below historyBelow_ stored
  /// with ids up to historyLastId_ (a resumed run re-settles its references).
  RungHistory history_;
  int64_t historyBelow_ = 0, historyLastId_ = 0;
  std::vector<double> bars_;
};

int fail(const std::string &message) {
  fmt::print(stderr, "nos-search: error: {}\n", message);
  return 1;
}

void installHandlers() {
  std::signal(SIGINT, onSignal);
  std::signal(SIGTERM, onSignal);
}

/// MPI's worker ranks when launched by mpirun, else threads.
std::unique_ptr<WorkerPool> makePool(const Pipeline &pipeline,
                                     const SearchSettings &settings,
                                     const RunOptions &options) {
  if (MpiSession *mpi = mpiSession())
    return mpi->pool(settings.toJson(), options.torchThreads);
  return makeThreadPool(pipeline, options.workers, options.torchThreads);
}
} // namespace

int startSearch(const std::string &dir, const SearchSettings &settings,
                const Budget &budget, const RunOptions &options) {
  try {
    // Everything that can reject the settings runs before the folder exists.
    Space space(settings.units);
    makeStrategy(settings.strategy, space);
    if (settings.batchSize < 1)
      throw std::invalid_argument("the batch size must be at least 1");
    Pipeline pipeline(settings.proxy, settings.probe); // loads the data
    std::unique_ptr<WorkerPool> pool = makePool(pipeline, settings, options);
    std::unique_ptr<Store> store = Store::create(dir, settings.toJson());
    Engine engine(*store, pipeline, *pool, settings, options);
    engine.setBudget(budget, false);
    installHandlers();
    return engine.run();
  } catch (const std::exception &e) {
    return fail(e.what());
  }
}

int resumeSearch(const std::string &dir, const Budget &budget,
                 const RunOptions &options) {
  try {
    std::unique_ptr<Store> store = Store::open(dir);
    SearchSettings settings = SearchSettings::fromJson(store->settingsJson());
    Pipeline pipeline(settings.proxy, settings.probe);
    std::unique_ptr<WorkerPool> pool = makePool(pipeline, settings, options);
    Engine engine(*store, pipeline, *pool, settings, options);
    std::string spent = engine.spent();
    if (!spent.empty() && budget.candidates <= 0 && budget.minutes <= 0)
      return fail("the run in '" + dir + "' is finished (it spent " + spent +
                  "); give --candidates N or --minutes M to extend it");
    if (budget.candidates > 0 || budget.minutes > 0)
      engine.setBudget(budget, true);
    installHandlers();
    return engine.run();
  } catch (const std::exception &e) {
    return fail(e.what());
  }
}

} // namespace nos::search
