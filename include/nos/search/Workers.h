//===- Workers.h - Where a batch's costly evaluations run -------*- C++ -*-===//
//
// The engine (Search.cpp) decides what to evaluate; a worker pool decides
// where: threads of this process, or the worker ranks of an MPI job (rank 0
// keeps the strategy and the store, ranks 1..N-1 each run the pipeline on
// one candidate at a time). Either way every candidate is evaluated by the
// same deterministic pipeline with the bars of the batch, so the pool
// changes the speed of a run, not its results.
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

class WorkerPool {
public:
  virtual ~WorkerPool();
  /// "2 worker thread(s) x 1 torch thread(s)", for the log.
  virtual std::string describe() const = 0;
  /// Evaluates slots[work[i]] for every i; `commit` is called once per
  /// settled candidate, never concurrently. No new evaluation starts once
  /// `stop()` is true; returns false when some were not started. Errors of
  /// `commit` or of the pool itself are rethrown after in-flight work ends.
  virtual bool evaluate(std::vector<Candidate> &slots,
                        const std::vector<size_t> &work,
                        const std::vector<double> &bars,
                        const std::function<bool()> &stop,
                        const std::function<void(Candidate &)> &commit) = 0;
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
