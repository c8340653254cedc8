//===- Efficiency.h - How a search spent its workers' time ------*- C++ -*-===//
//
// From what a run's store holds (each candidate's stage times, the run's
// wall-clock time and its number of workers): the share of worker time
// spent on candidates at all and on training children, trained rules per
// hour, and the median compile and hurdle times. nos-search report prints
// them for every run and nos-bench search reports them as JSON keys, so
// both read one definition.
//
//===----------------------------------------------------------------------===//
#ifndef NOS_SEARCH_EFFICIENCY_H
#define NOS_SEARCH_EFFICIENCY_H

#include "nos/search/Pipeline.h"

#include <vector>

namespace nos::search {

struct Efficiency {
  double workerSeconds = 0; // workers x wall
  /// Time of the stages workers run (compile, hurdle, train) of every
  /// candidate, references included, and of the funnel's trainings, /
  /// workerSeconds.
  double busyShare = 0;
  /// Child training time (the proxy's and the funnel's) / workerSeconds.
  double trainShare = 0;
  /// The funnel's trainings alone / workerSeconds.
  double levelShare = 0;
  /// Search candidates that reached training (scored, diverged or stopped)
  /// per hour of wall-clock time.
  double trainedPerHour = 0;
  /// Medians over the candidates that ran the stage; 0 when none did.
  double compileMsP50 = 0, hurdleMsP50 = 0, trainMsP50 = 0;
};

/// `levelSeconds`: the funnel's training time (Store::levelSeconds).
Efficiency efficiency(const std::vector<Candidate> &all, int workers,
                      double wallSeconds, double levelSeconds = 0);

/// The workers that evaluated candidates of a run: distinct worker ids
/// (threads, or MPI ranks), at least 1.
int workersSeen(const std::vector<Candidate> &all);

/// Whether a settled candidate trained a child (scored, diverged, stopped).
bool reachedTraining(const Candidate &c);

} // namespace nos::search

#endif // NOS_SEARCH_EFFICIENCY_H
