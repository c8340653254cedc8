//===- Engine.h - The pipelined search loop ---------------------*- C++ -*-===//
//
// Private to search/: one Engine per nos-search session (Search.cpp makes
// it). The strategy keeps up to `pipeline` batches in flight: batch k+N-1 is
// proposed, screened and queued before the strategy learns from batch k, so
// the workers train while the strategy learns. Everything that decides a
// candidate's fate happens on the engine's thread in a fixed order (open a
// batch, learn from the oldest), never in the order workers finish, so a
// run's candidates depend on its settings and seed alone. The funnel's
// promotions (Funnel.h) are decided and joined at retirements too.
//
//===----------------------------------------------------------------------===//
#ifndef NOS_SEARCH_ENGINE_H
#define NOS_SEARCH_ENGINE_H

#include "Funnel.h"

#include "nos/search/Reporter.h"
#include "nos/search/Search.h"
#include "nos/search/Store.h"
#include "nos/search/Workers.h"

#include <atomic>
#include <chrono>
#include <deque>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

namespace nos::search {

/// Set by SIGINT or SIGTERM (Search.cpp): the session ends gracefully.
extern std::atomic<bool> interrupted;

class Engine {
public:
  /// `funnelTasks`: Funnel::load's, null when the run does not promote.
  Engine(Store &store, const Pipeline &pipeline, WorkerPool &pool,
         SearchSettings settings, const RunOptions &options,
         std::unique_ptr<FunnelTasks> funnelTasks);
  /// Waits for the evaluations still running: they write into this engine.
  ~Engine();

  /// Runs to the budget or a signal; the process exit code.
  int run();
  /// The session's budget replaces the stored one: a run that spent its
  /// minutes can go on by candidates, and the other way round.
  void setBudget(const Budget &b, bool resuming);
  /// Why the stored budget is spent, or "".
  std::string spent() const;

private:
  /// A batch on its way: opened (every slot admitted, stored or cut),
  /// settled slot by slot, then learned from and retired, oldest first.
  struct Flight {
    int64_t batch = 0;
    std::vector<Actions> proposals; // empty for the references
    std::shared_ptr<const std::vector<double>> bars;
    std::vector<Candidate> slots; // never resized once opened
    size_t open = 0;              // slots not stored yet
    bool cut = false; // the budget stopped it before every slot was admitted
  };

  double elapsed() const;
  bool outOfTime() const;
  bool budgetReached() const;

  void fill();
  void openReferences();
  void openBatch(int64_t batch, std::vector<Actions> proposals,
                 std::vector<double> bars);
  void admit(Flight &f);
  using Originals = std::unordered_map<std::string, Candidate *>;
  void prepare(Candidate &c, Flight &f);
  void canonicalize(Candidate &c);
  bool copyOf(Candidate &c, Originals &inFlight, const std::string &key,
              const char *why);
  void follow(Candidate &c, Candidate &original, const char *why);
  void remember(Candidate &c);
  void commit(Candidate &c);
  void reuse(Candidate &c, const Candidate &original, const char *why);
  bool retire();
  bool teaches(const Candidate &c) const;
  void learnFrom(Flight &f);
  void checkpoint();
  int finish();
  Flight &flightOf(const Candidate &c);

  Store &store_;
  SearchSettings settings_;
  const Pipeline &pipeline_;
  WorkerPool &pool_;
  Space space_;
  std::unique_ptr<Strategy> strategy_;
  Progress progress_;
  std::chrono::steady_clock::time_point start_;
  Reporter reporter_;
  /// Candidates in the store (references excluded), kept here because
  /// counting them in SQLite costs a scan; and those admitted but not yet
  /// stored, which count against a candidate budget already.
  int64_t stored_ = 0, admitted_ = 0;
  /// Successive halving's results of the retired batches. At the start it
  /// holds the rows of batches below historyBelow_ stored with ids up to
  /// historyLastId_ (a resumed run re-settles its references).
  RungHistory history_;
  int64_t historyBelow_ = 0, historyLastId_ = 0;
  std::deque<Flight> flights_;
  /// The originals of the batches in flight by canonical form and by
  /// fingerprint (retired ones are looked up in the store), and the
  /// duplicates and equivalents waiting for an original's result.
  Originals byCanonical_, byFingerprint_;
  /// Parse and canonical form by token string.
  std::unordered_map<std::string, Candidate> byTokens_;
  std::unordered_map<const Candidate *, std::vector<Candidate *>> waiting_;
  /// Null when the run does not promote (SearchSettings::promotes).
  std::unique_ptr<Funnel> funnel_;
  bool stopping_ = false;
  double lastCheckpoint_ = 0;
};

} // namespace nos::search

#endif // NOS_SEARCH_ENGINE_H
