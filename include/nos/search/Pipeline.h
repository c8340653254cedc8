//===- Pipeline.h - From sampled tokens to a reward -------------*- C++ -*-===//
//
// The stages a candidate goes through, each cheap one before the costly
// ones: tokens -> rule -> canonical form and hash (the compiler's) ->
// behavioural fingerprint on fixed probe gradients (AutoML-Zero's
// functional-equivalence cache) -> screening of degenerate rules -> compile
// -> hurdle (a quadratic it must make progress on) -> child training over
// the lr grid -> reward = best validation accuracy. Looking up earlier
// scores is the caller's part (Search.cpp), between the cheap stages. Every
// stage's outcome and time land in the Candidate, which Store.h keeps.
//
//===----------------------------------------------------------------------===//
#ifndef NOS_SEARCH_PIPELINE_H
#define NOS_SEARCH_PIPELINE_H

#include "nos/AST.h"
#include "nos/train/Proxy.h"

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace nos::search {

/// Outcomes, as stored in candidates.status.
namespace status {
inline constexpr const char *Scored = "scored";
inline constexpr const char *Duplicate = "duplicate";   // same canonical form
inline constexpr const char *Equivalent = "equivalent"; // same fingerprint
inline constexpr const char *Screened = "screened";
inline constexpr const char *HurdleFailed = "hurdle-failed";
inline constexpr const char *Diverged = "diverged"; // at every lr
/// Successive halving stopped it below full fidelity; its reward is the
/// accuracy where it stopped (Candidate::fidelity says how far that was).
inline constexpr const char *Stopped = "stopped";
inline constexpr const char *Failed = "failed"; // compile or run error
} // namespace status

/// Fixed probe problem of the fingerprint and the screen.
struct ProbeSpec {
  int64_t elements = 64;
  int64_t steps = 8;
  uint64_t seed = 1;
};

struct Probe {
  /// 16 hex digits over the updates rounded to 4 significant digits.
  std::string fingerprint;
  /// Why the rule is degenerate, or empty.
  std::string screened;
  /// The update of every element at every probe step.
  std::vector<double> updates;
};

/// Runs `rule` on the probe gradients in the reference interpreter (f32
/// rounding on, as the kernels compute) and screens it: NaN/Inf updates,
/// all-zero or constant updates, or updates that do not change when the
/// gradients do.
Probe probeRule(const Expr &rule, const ProbeSpec &spec = {});

using train::ProxySpec;

struct Candidate {
  int64_t id = 0;     // store row, 0 until stored
  int64_t batch = 0;  // -1 for the reference rules
  int slot = 0;       // position in the batch
  std::string origin; // the strategy, or "reference:NAME"
  std::string tokens; // empty for reference rules
  /// `rule` is rule text, a built-in name only for a reference (origin
  /// "reference:NAME"), so that a canonical form is never read as a name.
  std::string rule, canonical, hash, fingerprint;
  std::string status, detail;
  std::vector<double> accuracies; // per lr of the grid
  double bestLr = 0, reward = 0;
  /// Share of the full training budget the reward was measured at, and the
  /// best accuracy at each rung the candidate reached.
  double fidelity = 1;
  std::vector<double> rungs;
  int64_t sourceId = 0; // whose score a duplicate or equivalent reuses
  double compileMs = 0, trainSeconds = 0;
  std::map<std::string, double> stageMs;
  int worker = -1;
  double time = 0; // seconds since the run began, when it was settled

  ExprPtr expr;                // not stored
  std::vector<double> updates; // not stored: the probe's
  bool settled() const { return !status.empty(); }
};

/// The built-in name of a reference candidate (origin "reference:NAME").
inline std::string referenceName(const Candidate &c) {
  return c.origin.substr(c.origin.find(':') + 1);
}

/// The bars of successive halving: ASHA's rule (promote the top 1/eta of
/// each rung), with the bars taken from earlier batches only, so that which
/// candidate goes on never depends on worker count or timing.
class RungHistory {
public:
  /// Below this many results at a rung, everything there goes on.
  static constexpr size_t kMinResults = 8;

  RungHistory(int64_t rungs, double eta);
  /// Records a candidate's best accuracy at each rung it reached.
  void add(const std::vector<double> &rungValues);
  /// Per rung below the top, the accuracy a candidate needs there to go on
  /// (-inf while the rung has fewer than kMinResults results).
  std::vector<double> bars() const;

private:
  double eta_;
  std::vector<std::vector<double>> sorted_; // per rung, ascending
};

class Pipeline {
public:
  /// Loads the task's data; throws std::runtime_error naming the problem.
  explicit Pipeline(ProxySpec spec, ProbeSpec probe = {});
  ~Pipeline();

  /// Parse (tokens, else the rule, or the built-in name of a reference) and
  /// canonicalize. Sets status Failed on error.
  void canonicalize(Candidate &c) const;
  /// Fingerprint and screen; sets status Screened for a degenerate rule.
  void probe(Candidate &c) const;
  /// Compile, hurdle, child training, reward; safe to call from several
  /// threads at once. `bars` (RungHistory::bars) may stop the candidate
  /// below full fidelity; without them every candidate that has lanes left
  /// goes on (the lrs are still halved). `seed` replaces the spec's child
  /// seed (for re-evaluations over several seeds).
  void evaluate(Candidate &c, const std::vector<double> &bars = {},
                std::optional<uint64_t> seed = std::nullopt) const;
  /// Steps of the full budget and of each rung.
  std::vector<int64_t> rungSteps() const;

  const ProxySpec &spec() const { return spec_; }
  std::string describe() const;

private:
  ProxySpec spec_;
  ProbeSpec probeSpec_;
  std::unique_ptr<train::Task> task_;
  std::vector<double> toyTarget_;

  void train(Candidate &c, const CompiledRule &rule,
             const std::vector<double> &bars, uint64_t seed) const;
};

} // namespace nos::search

#endif // NOS_SEARCH_PIPELINE_H
