//===- Reporter.cpp - What a running search tells its user ----------------===//
//
// Everything goes to stderr, leaving stdout to the final summary; the status
// line is only drawn when stderr is a terminal.
//
//===----------------------------------------------------------------------===//
#include "nos/search/Reporter.h"

#include <fmt/core.h>

#include <unistd.h>

namespace nos::search {

namespace {
std::string clock(double seconds) {
  int s = int(seconds);
  return s >= 3600 ? fmt::format("{}h{:02}m", s / 3600, s / 60 % 60)
                   : fmt::format("{}m{:02}s", s / 60, s % 60);
}
} // namespace

Reporter::Reporter(bool quiet)
    : quiet_(quiet), terminal_(isatty(STDERR_FILENO)),
      start_(std::chrono::steady_clock::now()) {
  best_.reward = -1;
}

void Reporter::count(const Candidate &c) {
  if (c.batch < 0)
    return; // references are not candidates
  ++total_;
  ++byStatus_[c.status];
  // A copy may carry the funnel's reward; the best shown is a rule's own.
  bool copy = c.status == status::Duplicate || c.status == status::Equivalent;
  if (!copy && c.reward > best_.reward)
    best_ = c;
}

void Reporter::resume(const std::map<std::string, int64_t> &byStatus,
                      const std::optional<Candidate> &best) {
  for (const auto &[status, n] : byStatus)
    byStatus_[status] += n, total_ += n;
  if (best && best->reward > best_.reward)
    best_ = *best;
}

void Reporter::note(const std::string &line) {
  if (quiet_)
    return;
  fmt::print(stderr, "{}nos-search: {}\n", terminal_ ? "\r\033[K" : "", line);
}

void Reporter::settled(const Candidate &c, double elapsed,
                       double targetSeconds) {
  count(c);
  if (c.batch >= 0)
    ++session_;
  if (quiet_)
    return;
  if (terminal_) {
    statusLine(elapsed, targetSeconds);
    return;
  }
  std::string what =
      c.batch < 0 ? "reference " + referenceName(c)
                  : fmt::format("candidate {} (batch {})", c.id, c.batch);
  bool trained = c.status == status::Scored || c.status == status::Diverged ||
                 c.status == status::Stopped;
  std::string fidelity =
      c.fidelity < 1 ? fmt::format(" (fidelity {:.2f})", c.fidelity) : "";
  std::string score =
      trained && !c.accuracies.empty()
          ? fmt::format(" with reward {:.4f}{} at lr {:g} in {:.1f} s",
                        c.reward, fidelity, c.bestLr, c.trainSeconds)
          : fmt::format(" with reward {:.4f}", c.reward);
  std::string detail = c.detail.empty() ? "" : " (" + c.detail + ")";
  std::string best = best_.reward >= 0
                         ? fmt::format(" Best is candidate {} with {:.4f}.",
                                       best_.id, best_.reward)
                         : "";
  fmt::print(stderr, "[{}] {} finished: {}{}{}: {}.{}\n", clock(elapsed), what,
             c.status, score, detail, c.rule, best);
}

void Reporter::statusLine(double elapsed, double targetSeconds) {
  double minutes =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start_)
          .count() /
      60;
  auto share = [&](std::initializer_list<const char *> kinds) {
    int64_t n = 0;
    for (const char *k : kinds)
      n += byStatus_.count(k) ? byStatus_[k] : 0;
    return total_ ? 100.0 * double(n) / double(total_) : 0.0;
  };
  std::string left =
      targetSeconds > 0
          ? ", " + clock(std::max(0.0, targetSeconds - elapsed)) + " left"
          : "";
  fmt::print(stderr,
             "\r\x1b[K[{}] {} candidates ({:.0f}/min), dedup {:.0f}%, "
             "screened {:.0f}%, best {:.4f} {:.40}{}",
             clock(elapsed), total_, minutes > 0 ? session_ / minutes : 0,
             share({status::Duplicate, status::Equivalent}),
             share({status::Screened, status::HurdleFailed}),
             std::max(0.0, best_.reward), best_.rule, left);
  std::fflush(stderr);
}

void Reporter::batchDone(int64_t batch, const std::string &strategy) {
  if (!quiet_ && !terminal_ && !strategy.empty())
    fmt::print(stderr, "batch {} learnt: {}\n", batch, strategy);
}

void Reporter::finish(const std::string &dir, bool interrupted) {
  if (terminal_ && !quiet_)
    fmt::print(stderr, "\n");
  double minutes =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start_)
          .count() /
      60;
  fmt::print("nos-search: {} {}: {} candidates stored, {} this session in "
             "{:.1f} min ({:.0f}/min)\n",
             interrupted ? "interrupted" : "stopped", dir, total_, session_,
             minutes, minutes > 0 ? session_ / minutes : 0);
  if (best_.reward >= 0)
    fmt::print("best: candidate {} with reward {:.4f}: {}\n", best_.id,
               best_.reward, best_.rule);
}

} // namespace nos::search
