//===- Reference.h - The reference interpreter (the oracle) -----*- C++ -*-===//
//
// Evaluates a rule per element in double precision with the state updates and
// random-number contract of language.md §1, §2, §7. Every compiled kernel is
// tested against it. Besides the value it propagates a first-order bound on the
// error an f32 evaluation of the same expression may make, which gives
// differential tests a tolerance derived from the rule instead of a magic
// number.
//
//===----------------------------------------------------------------------===//
#ifndef NOS_REFERENCE_H
#define NOS_REFERENCE_H

#include "nos/AST.h"
#include "nos/Hyper.h"

#include <string>
#include <vector>

namespace nos {

/// What a rule needs at run time; computed the same way by the compiler, so
/// that state slots and schedules line up with the kernel ABI.
struct RuleLayout {
  /// State slot names in ABI order: "m", "v", "gamma" (those the rule uses),
  /// then "ema0", "ema1", ... in pre-order of first occurrence.
  std::vector<std::string> stateSlots;
  /// The ema nodes behind "emaK" (same order), for the interpreter.
  std::vector<const Expr *> emaNodes;
  /// Schedule nodes in pre-order of first occurrence, deduplicated by
  /// (kind, n): the kernel reads NosArgs::sched[k].
  std::vector<ScheduleSpec> schedules;
  bool usesRandom = false;
};

/// Computes the layout. Stochastic nodes are numbered 0, 1, ... in pre-order
/// (that number is the Philox counter's `node` word).
RuleLayout computeLayout(const Expr &rule);

/// Value of one element's update with its f32 error bound.
struct RefValue {
  double value;
  double bound; // |f32 result - value| <= bound (first order); may be inf
};

/// The reference's value of a function on literals, in double precision:
/// what constant folding computes (Folds.cpp), so a function's meaning is
/// written once, here. NaN where the result is not a constant: a random draw
/// (drop) or a run-time argument (division's delta).
double foldUnary(UnaryFn fn, double x, double param);
double foldBinary(BinaryFn fn, double x, double y);

/// Applies steps to arrays the way a compiled kernel does.
class Reference {
public:
  explicit Reference(ExprPtr rule);
  const RuleLayout &layout() const { return layout_; }

  /// Why the rule cannot run with `hyper` (a schedule without
  /// hyper.totalSteps > 0), or the empty string when it can.
  std::string check(const Hyper &hyper) const;

  /// One step t >= 1 over n elements: updates state (state[k] is the array
  /// of slot k, length n), computes U and does w -= lr * U. `rngBase` is the
  /// element index of w[0]. If `update` is non-null it receives U and its
  /// bound per element. Returns false and changes nothing when check(hyper)
  /// fails, step < 1 or state does not have one array per slot.
  bool step(double *w, const double *g, std::vector<double *> state, int64_t n,
            int64_t rngBase, int64_t step, const Hyper &hyper,
            std::vector<RefValue> *update = nullptr) const;

  /// When set, every node's value is rounded to f32 after it is computed
  /// (f32 range and overflow, double-precision operations): the mode the
  /// differential tests compare against.
  void setRoundToFloat(bool on) { roundToFloat_ = on; }

private:
  ExprPtr rule_;
  RuleLayout layout_;
  /// Per pre-order visit of the (expanded) tree: the ema slot, stochastic
  /// node number or schedule index of that occurrence, else -1.
  std::vector<int> tags_;
  bool roundToFloat_ = false;
};

} // namespace nos

#endif // NOS_REFERENCE_H
