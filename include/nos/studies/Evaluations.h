//===- Evaluations.h - Rules rated on named proxies over seeds --*- C++ -*-===//
//
// What the fidelity study and the re-evaluation of a search's finds share:
// a set of (proxy, rule, seed) child trainings, each appended to a
// JSON-lines log as soon as it finishes, so an interrupted study continues
// where it was and never trains one twice.
//
//===----------------------------------------------------------------------===//
#ifndef NOS_STUDIES_EVALUATIONS_H
#define NOS_STUDIES_EVALUATIONS_H

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <vector>

namespace nos::studies {

struct RatedRule {
  std::string label;     // how tables name it
  std::string canonical; // what is trained
};

struct Evaluation {
  std::string proxy, rule; // preset name, canonical rule
  uint64_t seed = 0;
  double reward = 0, bestLr = 0, seconds = 0;
  std::string status;
  std::vector<double> accuracies; // per lr of the proxy's grid
};

class EvaluationLog {
public:
  /// Reads the log at `path` if it exists; a last line cut short by a kill
  /// is dropped (the file is rewritten without it).
  explicit EvaluationLog(std::string path);

  const Evaluation *find(const std::string &proxy, const std::string &rule,
                         uint64_t seed) const;
  /// Trains every (proxy, rule, seed) not yet in the log on
  /// `workers` threads (0: one per core), one torch thread each, logging
  /// progress to stderr under `tool`. Throws on the first error.
  void complete(const std::vector<std::string> &proxies,
                const std::vector<RatedRule> &rules,
                const std::vector<uint64_t> &seeds, int workers,

                const std::string &tool);

private:
  void append(const Evaluation &e);

  std::string path_;
  std::map<std::string, Evaluation> done_;
  mutable std::mutex mutex_;
};

/// The six references by name, canonicalized.
std::vector<RatedRule> referenceRatedRules();

} // namespace nos::studies

#endif // NOS_STUDIES_EVALUATIONS_H
