//===- Workers.h - Where a batch's costly evaluations run -------*- C++ -*-===//
//
// The engine (Search.cpp) decides what to evaluate; a worker pool decides
// where: threads of this process, or the worker ranks of an MPI job (rank 0
// keeps the strategy and the store, ranks 1..N-1 each run the pipeline on
// one candidate at a time). A pool is a queue: the engine submits work as
// it proposes it and collects results as they end, so workers keep busy
// while the engine learns. Every candidate is evaluated by the same
// deterministic pipeline with the bars of its batch, so the pool changes
// the speed of a run, not its results.
//
//===----------------------------------------------------------------------===//
#ifndef NOS_SEARCH_WORKERS_H
#define NOS_SEARCH_WORKERS_H

#include "nos/search/Pipeline.h"

#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace nos::search {

/// Work other than a candidate's evaluation: the funnel's training of a
/// promoted rule (search/Funnel.h). run() reports its own errors in the
/// job; whatever it throws ends the session.
struct PoolJob {
  virtual ~PoolJob();
  virtual void run() = 0;
  /// For workers in other processes (MPI ranks): the job as text that a
  /// worker's servant (Funnel.h's FunnelServant) runs, and taking its reply
  /// back in place of run().
  virtual std::string request() const = 0;
  virtual void answer(const std::string &reply) = 0;
  int worker = -1;
};

/// What wait() hands back: a candidate or a job, or neither when nothing
/// runs and nothing may start.
struct Finished {
  Candidate *candidate = nullptr;
  PoolJob *job = nullptr;
  explicit operator bool() const { return candidate || job; }
};

class WorkerPool {
public:
  virtual ~WorkerPool();
  /// "2 worker thread(s) x 1 torch thread(s)", for the log.
  virtual std::string describe() const = 0;
  /// Asked before each evaluation starts: none starts once it is true.
  virtual void stopWhen(std::function<bool()> stop) { stop_ = std::move(stop); }
  /// Queues `c` for evaluation against `bars`. `c` must stay where it is
  /// until wait() hands it back; it is not touched by the caller meanwhile.
  virtual void submit(Candidate &c,
                      std::shared_ptr<const std::vector<double>> bars) = 0;
  /// Queues a job, with the candidates in one first-come queue. Throws
  /// std::logic_error where the pool runs candidates only.
  virtual void submit(PoolJob &job);
  /// Blocks until an evaluation or job ends and returns it (in the order
  /// they end), or neither when none is running and none may start.
  /// Rethrows an error of the pool itself (a candidate's own errors are its
  /// status).
  virtual Finished wait() = 0;

protected:
  bool stopped() const { return stop_ && stop_(); }

private:
  std::function<bool()> stop_;
};

/// `workers` threads (0: one per core), each with `torchThreads` torch
/// threads (0: cores / workers).
std::unique_ptr<WorkerPool> makeThreadPool(const Pipeline &pipeline,
                                           int workers, int torchThreads);

/// True when this process was started by mpirun (Open MPI or PMIx).
bool launchedByMpi();
/// Whether this build has MPI.
bool haveMpi();

/// One MPI job for the life of the process: initialises MPI, and on rank 0
/// makes sure every worker rank is told to stop, however nos-search ends.
class MpiSession {
public:
  /// Throws std::runtime_error in a build without MPI.
  MpiSession(int &argc, char **&argv);
  ~MpiSession();
  int rank() const { return rank_; }
  int size() const { return size_; }
  /// The loop of ranks > 0: set up the pipeline from rank 0's settings,
  /// evaluate what it sends, until it says stop. Returns the exit code.
  int serve();
  /// Rank 0's pool over ranks 1..size-1; sends them the settings and waits
  /// until each has loaded its data (throws with a worker's error).
  std::unique_ptr<WorkerPool> pool(const std::string &settingsJson,
                                   int torchThreads);

private:
  int rank_ = 0, size_ = 1;
};

/// The process's MPI session, or null when not launched by mpirun.
MpiSession *mpiSession();
void setMpiSession(MpiSession *session);

} // namespace nos::search

#endif // NOS_SEARCH_WORKERS_H
