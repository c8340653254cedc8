//===- Reporter.h - What a running search tells its user --------*- C++ -*-===//
//
// On a terminal, one status line rewritten in place (candidates, rate, the
// share deduplicated and screened, the best rule, time left); otherwise one
// plain line per settled candidate, after Optuna's "Trial N finished with
// value ...", so logs of background runs can be read and grepped.
//
//===----------------------------------------------------------------------===//
#ifndef NOS_SEARCH_REPORTER_H
#define NOS_SEARCH_REPORTER_H

#include "nos/search/Pipeline.h"

#include <chrono>
#include <map>
#include <optional>
#include <string>

namespace nos::search {

class Reporter {
public:
  explicit Reporter(bool quiet);
  /// What earlier sessions stored (Store::statusCounts, Store::best):
  /// counted, not printed.
  void resume(const std::map<std::string, int64_t> &byStatus,
              const std::optional<Candidate> &best);
  /// A candidate settled now.
  void settled(const Candidate &c, double elapsed, double targetSeconds);
  void batchDone(int64_t batch, const std::string &strategy);
  /// A line of its own (a promotion's result), unless quiet.
  void note(const std::string &line);
  void finish(const std::string &dir, bool interrupted);

private:
  void count(const Candidate &c);
  void statusLine(double elapsed, double targetSeconds);

  bool quiet_, terminal_;
  std::chrono::steady_clock::time_point start_;
  std::map<std::string, int64_t> byStatus_;
  int64_t total_ = 0, session_ = 0;
  Candidate best_;
};

} // namespace nos::search

#endif // NOS_SEARCH_REPORTER_H
