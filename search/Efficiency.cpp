//===- Efficiency.cpp - How a search spent its workers' time --------------===//
//
// Stage times are what the pipeline recorded per candidate (stage_ms in the
// store): parse, canonical and probe run on the engine's thread as it opens
// a batch, compile, hurdle and train on a worker. Time a worker spent
// waiting (for work, for the strategy) is in no stage, which is what
// busyShare exposes.
//
//===----------------------------------------------------------------------===//
#include "nos/search/Efficiency.h"

#include <set>

#include "nos/Statistics.h"

#include <algorithm>

namespace nos::search {

bool reachedTraining(const Candidate &c) {
  return c.status == status::Scored || c.status == status::Diverged ||
         c.status == status::Stopped;
}

Efficiency efficiency(const std::vector<Candidate> &all, int workers,
                      double wallSeconds, double levelSeconds) {
  Efficiency e;
  e.workerSeconds = std::max(1, workers) * std::max(wallSeconds, 0.0);
  double busyMs = 1000 * levelSeconds, trainMs = 1000 * levelSeconds;
  int64_t trained = 0;
  std::vector<double> compile, hurdle, train;
  for (const Candidate &c : all) {
    for (const char *stage : {"compile", "hurdle", "train"})
      if (auto it = c.stageMs.find(stage); it != c.stageMs.end())
        busyMs += it->second;
    if (auto it = c.stageMs.find("compile"); it != c.stageMs.end())
      compile.push_back(it->second);
    if (auto it = c.stageMs.find("hurdle"); it != c.stageMs.end())
      hurdle.push_back(it->second);
    if (auto it = c.stageMs.find("train"); it != c.stageMs.end()) {
      trainMs += it->second;
      train.push_back(it->second);
    }
    trained += c.batch >= 0 && reachedTraining(c);
  }
  if (e.workerSeconds > 0) {
    e.busyShare = busyMs / 1000 / e.workerSeconds;
    e.trainShare = trainMs / 1000 / e.workerSeconds;
    e.levelShare = levelSeconds / e.workerSeconds;
  }
  if (wallSeconds > 0)
    e.trainedPerHour = double(trained) / (wallSeconds / 3600);
  e.compileMsP50 = median(std::move(compile));
  e.hurdleMsP50 = median(std::move(hurdle));
  e.trainMsP50 = median(std::move(train));
  return e;
}

int workersSeen(const std::vector<Candidate> &all) {
  std::set<int> ids;
  for (const Candidate &c : all)
    if (c.worker >= 0)
      ids.insert(c.worker);
  return std::max<int>(1, int(ids.size()));
}

} // namespace nos::search
