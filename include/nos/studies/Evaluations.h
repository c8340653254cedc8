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

#include <nlohmann/json.hpp>

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <utility>
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

/// An append-only file of JSON lines, one finished job per line, read back
/// when a study continues. Only the last line can be cut by a kill; it is
/// dropped (the file rewritten without it), any other damage is an error
/// naming the line.
class JsonLines {
public:
  explicit JsonLines(std::string path);
  /// The lines the file held when opened (its users keep what they append).
  const std::vector<nlohmann::json> &lines() const { return lines_; }
  /// Appends and flushes one line; throws when the file cannot take it.
  void append(const nlohmann::json &line);
  const std::string &path() const { return path_; }

private:
  std::string path_;
  std::vector<nlohmann::json> lines_;
};

/// Runs job(0) .. job(n - 1) on `workers` threads (0: one per core), one
/// torch thread each; the first exception stops every worker and is
/// rethrown.
void runJobs(size_t n, int workers, const std::function<void(size_t)> &job);

/// A study's entry point: 0 when `body` returns, 1 with "TOOL: error: WHY"
/// on stderr when it throws.
int runStudy(const std::string &tool, const std::function<void()> &body);

/// first, first + 1, ..., n seeds.
std::vector<uint64_t> seedRange(uint64_t first, int n);

/// JSON has no NaN or infinity: null stands for a metric a run did not
/// reach, and reads back as NaN (also when the key is missing).
nlohmann::json finiteOrNull(double v);
double numberOr(const nlohmann::json &j, const char *key);

/// Writes each (name, text) into `dir`, each file whole or not at all;
/// throws naming the file that could not be written.
void writeStudyFiles(
    const std::string &dir,
    const std::vector<std::pair<std::string, std::string>> &files);

/// The references, then each run's top `top` distinct rules, then `rules`
/// by text; each canonical form once. A run's top are by proxy reward
/// (scored originals of its batches), or with `level` (L2, L3) by margin
/// over the best reference at that funnel level, as `nos-search report`
/// ranks them. Throws for a rule that does not parse, or a run that
/// promoted nothing to `level`.
std::vector<RatedRule> collectRules(const std::vector<std::string> &runs,
                                    int top,
                                    const std::vector<std::string> &rules,
                                    const std::string &level = "");

class EvaluationLog {
public:
  /// Reads the log at `path` if it exists; a last line cut short by a kill
  /// is dropped (the file is rewritten without it).
  explicit EvaluationLog(std::string path);

  const Evaluation *find(const std::string &proxy, const std::string &rule,
                         uint64_t seed) const;
  /// Trains every (proxy, rule, seed) not yet in the log on
  /// `workers` threads (0: one per core), one torch thread each, logging
  /// progress to stderr under `tool`, children on `device`. Throws on the
  /// first error.
  void complete(const std::vector<std::string> &proxies,
                const std::vector<RatedRule> &rules,
                const std::vector<uint64_t> &seeds, int workers,
                const std::string &tool, const std::string &device);

private:
  void append(const Evaluation &e);

  JsonLines file_;
  std::map<std::string, Evaluation> done_;
  mutable std::mutex mutex_;
};

/// The six references by name, canonicalized.
std::vector<RatedRule> referenceRatedRules();

} // namespace nos::studies

#endif // NOS_STUDIES_EVALUATIONS_H
