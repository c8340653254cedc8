//===- Search.h - The search loop: propose, evaluate, learn, store -*- C++ -*-//
//
// nos-search's entry points; the loop itself is search/Engine.h. Pipelined
// batches: the strategy keeps --pipeline batches in flight, proposing batch
// k+N-1 before it learns from batch k; the cheap pipeline stages and the
// lookups of earlier scores run on the calling thread, the rest on worker
// threads or MPI ranks, every settled candidate is stored at once, and the
// strategy learns from each whole batch in order (duplicates and
// equivalents earn the reward they reuse). So the sequence of candidates
// depends only on the settings and the seed, not on the number of workers,
// their timing or interruptions.
//
//===----------------------------------------------------------------------===//
#ifndef NOS_SEARCH_SEARCH_H
#define NOS_SEARCH_SEARCH_H

#include "nos/search/Settings.h"

#include <string>
#include <vector>

namespace nos::search {

/// What a session may spend; 0 means no limit of that kind. Resuming adds
/// to what the run has already spent.
struct Budget {
  int64_t candidates = 0;
  double minutes = 0;
};

struct RunOptions {
  int workers = 0; // 0: one per core
  /// Torch intra-op threads per worker; 0: cores / workers.
  int torchThreads = 0;
  /// Status line on a terminal, else a log line per candidate (stderr).
  bool quiet = false;
  /// The level-results cache (search/LevelCache.h): a database path, ""
  /// for the default one, "off" for none. It changes no result, only what
  /// trains, so it is not a stored setting.
  std::string levelCache;
};

/// Starts a run in `dir` (which must not hold one). Returns the process exit
/// code; errors are printed with their reason.
int startSearch(const std::string &dir, const SearchSettings &settings,
                const Budget &budget, const RunOptions &options);
/// Continues the run in `dir` with its stored settings. A budget of zero
/// continues the one it was given; a finished run needs a new one.
int resumeSearch(const std::string &dir, const Budget &budget,
                 const RunOptions &options);

} // namespace nos::search

#endif // NOS_SEARCH_SEARCH_H
