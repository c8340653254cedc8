//===- Reference.cpp - The reference interpreter (the oracle) -------------===//
//
// Evaluates a rule element by element in double precision, exactly following
// language.md §1, §2, §7, and carries with every value a first-order bound on
// how far an f32 evaluation of the same expression may be from it. The bound
// models one rounding (u = 2^-24, or FLT_MIN in the subnormal range where a GPU
// may flush) per operation, two for library functions, and propagates input
// errors through each operation's derivative; anything that may overflow f32
// or is not finite gets an infinite bound, so tests skip rather than guess.
//
// The tree is walked in pre-order with a visit counter; tags_ maps each visit
// to its ema slot, stochastic node number or schedule index, which keeps
// rules from the token form (where one subtree can appear several times)
// numbered exactly as their printed, re-parsed form is.
//
//===----------------------------------------------------------------------===//

#include "nos/Reference.h"
#include "nos/Philox.h"
#include "nos/Printer.h"

#include <cfloat>
#include <cmath>
#include <limits>

namespace nos {

namespace {

constexpr double kU = 0x1p-24;
constexpr double kInf = std::numeric_limits<double>::infinity();

bool containsStochastic(const Expr &e) {
  return isStochastic(e) || (e.lhs && containsStochastic(*e.lhs)) ||
         (e.rhs && containsStochastic(*e.rhs));
}

/// Walks the rule once in pre-order; both computeLayout and the
/// interpreter's tags come from here so they cannot disagree.
class LayoutBuilder {
public:
  RuleLayout layout;
  std::vector<int> tags;

  void visit(const Expr &e) {
    size_t me = tags.size();
    tags.push_back(-1);
    if (isStochastic(e)) {
      tags[me] = stochastic_++;
      layout.usesRandom = true;
    }
    if (e.kind == Expr::Kind::Operand)
      noteOperand(e.operand);
    if (e.kind == Expr::Kind::Schedule)
      tags[me] = scheduleIndex(e);
    if (e.kind == Expr::Kind::Ema)
      tags[me] = emaSlot(e);
    if (e.lhs)
      visit(*e.lhs);
    if (e.rhs)
      visit(*e.rhs);
  }

  void finish() {
    if (usesM_)
      layout.stateSlots.push_back("m");
    if (usesV_)
      layout.stateSlots.push_back("v");
    if (usesGamma_)
      layout.stateSlots.push_back("gamma");
    for (size_t k = 0; k < layout.emaNodes.size(); ++k)
      layout.stateSlots.push_back("ema" + std::to_string(k));
  }

private:
  void noteOperand(Operand op) {
    unsigned reads = operandInfo(op).reads;
    usesM_ |= (reads & ReadsM) != 0;
    usesV_ |= (reads & ReadsV) != 0;
    usesGamma_ |= (reads & ReadsGamma) != 0;
  }

  int scheduleIndex(const Expr &e) {
    auto &list = layout.schedules;
    for (size_t k = 0; k < list.size(); ++k)
      if (list[k].kind == e.schedule && list[k].n == e.param)
        return static_cast<int>(k);
    list.push_back({e.schedule, e.param});
    return static_cast<int>(list.size() - 1);
  }

  /// Equal deterministic emas compute the same average, so they share one
  /// buffer; an ema over random draws never equals another one.
  int emaSlot(const Expr &e) {
    bool shareable = !containsStochastic(e);
    auto &nodes = layout.emaNodes;
    if (shareable)
      for (size_t k = 0; k < nodes.size(); ++k)
        if (shareable_[k] && structurallyEqual(*nodes[k], e))
          return static_cast<int>(k);
    nodes.push_back(&e);
    shareable_.push_back(shareable);
    return static_cast<int>(nodes.size() - 1);
  }

  int stochastic_ = 0;
  bool usesM_ = false, usesV_ = false, usesGamma_ = false;
  std::vector<bool> shareable_;
};

/// Error of rounding an exact result to f32.
double roundErr(double v) {
  double a = std::fabs(v);
  if (a == 0)
    return 0;
  return a < FLT_MIN ? FLT_MIN : kU * a;
}

bool exactInFloat(double x) {
  return static_cast<double>(static_cast<float>(x)) == x;
}

/// Scalars of one step, as the kernel receives them.
struct StepScalars {
  RefValue lr, beta[3], eps, delta, bc[3], anoiseStd;
  std::vector<RefValue> sched;
};

class Evaluator {
public:
  Evaluator(const std::vector<int> &tags, bool roundToFloat)
      : tags_(tags), round_(roundToFloat) {}

  RefValue fin(double v, double e) const {
    if (round_)
      v = static_cast<double>(static_cast<float>(v));
    if (!std::isfinite(v) || !(e < kInf) || std::fabs(v) > FLT_MAX)
      e = kInf;
    return {v, e};
  }
  RefValue scalar(double x) const {
    return fin(x, exactInFloat(x) ? 0.0 : kU * std::fabs(x));
  }

  RefValue add(RefValue a, RefValue b) const {
    double v = a.value + b.value;
    return fin(v, a.bound + b.bound + roundErr(v));
  }
  RefValue sub(RefValue a, RefValue b) const {
    double v = a.value - b.value;
    return fin(v, a.bound + b.bound + roundErr(v));
  }
  RefValue mul(RefValue a, RefValue b) const {
    double v = a.value * b.value;
    return fin(v, std::fabs(b.value) * a.bound + std::fabs(a.value) * b.bound +
                      a.bound * b.bound + roundErr(v));
  }
  /// Exact worst case over the error intervals of x and d, plus rounding.
  RefValue divide(RefValue x, RefValue d) const {
    double v = x.value / d.value;
    double margin = std::fabs(d.value) - d.bound;
    if (!(margin > 0))
      return fin(v, d.bound == 0 && x.bound == 0 ? roundErr(v) : kInf);
    return fin(v, (x.bound + std::fabs(v) * d.bound) / margin + roundErr(v));
  }
  RefValue exp(RefValue a) const {
    double v = std::exp(a.value);
    return fin(v, std::fabs(v) * std::expm1(a.bound) + 2 * roundErr(v));
  }
  RefValue log(RefValue a) const {
    double x = std::fabs(a.value), v = std::log(x);
    if (a.bound >= x)
      return fin(v, kInf);
    return fin(v, -std::log1p(-a.bound / x) + 2 * roundErr(v));
  }
  RefValue sqrt(RefValue a) const {
    double x = std::fabs(a.value), v = std::sqrt(x), e = a.bound;
    double spread = e <= x ? e / (v + std::sqrt(x - e)) : std::sqrt(e);
    return fin(v, (e == 0 ? 0.0 : spread) + roundErr(v));
  }
  RefValue pow(RefValue x, RefValue y) const {
    double v = std::pow(x.value, y.value);
    if (x.bound == 0 && y.bound == 0)
      return fin(v, 4 * roundErr(v));
    double ax = std::fabs(x.value);
    if (ax <= x.bound || (x.value < 0 && y.bound > 0))
      return fin(v, kInf);
    // x^y = exp(y log|x|): bound the exponent's error, then exponentiate.
    double rel = std::fabs(std::log(ax)) * y.bound +
                 std::fabs(y.value) * -std::log1p(-x.bound / ax) +
                 x.bound * y.bound / ax;
    return fin(v, std::fabs(v) * std::expm1(rel) + 4 * roundErr(v));
  }
  /// sign(NaN) is NaN, like the kernels: a NaN must stay visible.
  RefValue sign(RefValue a) const {
    if (std::isnan(a.value))
      return {a.value, 0.0};
    double v = (a.value > 0) - (a.value < 0);
    bool certain = a.bound == 0 || std::fabs(a.value) > a.bound;
    return {v, certain ? 0.0 : 2.0};
  }
  RefValue clip(RefValue a, double c) const {
    RefValue cc = scalar(c);
    double v = std::fmax(-cc.value, std::fmin(a.value, cc.value));
    if (std::isnan(a.value))
      v = a.value;
    return fin(v, a.bound + cc.bound);
  }

  /// e <- beta e + (1 - beta) x, stored in f32 by a kernel.
  RefValue average(double &slot, RefValue beta, RefValue x) const {
    double b = beta.value, old = slot;
    double v = b * old + (1 - b) * x.value;
    double e = (1 - b) * x.bound +
               4 * kU * (std::fabs(b * old) + std::fabs((1 - b) * x.value)) +
               std::fabs(old - x.value) * beta.bound;
    RefValue r = fin(v, e);
    slot = r.value;
    return r;
  }

  // Per-element inputs, set by Reference::step.
  const StepScalars *s = nullptr;
  double g = 0, w = 0;
  uint64_t index = 0, seed = 0;
  uint32_t step = 0;
  RefValue corrected[3]; // m-hat, v-hat, gamma-hat
  std::vector<double *> emaSlots;
  std::vector<char> emaDone;
  std::vector<RefValue> emaValue;

  RefValue eval(const Expr &e) {
    int tag = tags_[visit_++];
    switch (e.kind) {
    case Expr::Kind::Operand:
      return operand(e.operand, tag);
    case Expr::Kind::Literal:
      return scalar(e.param);
    case Expr::Kind::Schedule:
      return s->sched[tag];
    case Expr::Kind::Unary:
      return unary(e, tag);
    case Expr::Kind::Binary:
      return binary(e);
    case Expr::Kind::Ema:
      return ema(e, tag);
    }
    return {0, 0};
  }

  void reset() { visit_ = 0; }

private:
  std::array<uint32_t, 4> draw(int node) const {
    return philox4x32(index, step, static_cast<uint32_t>(node), seed);
  }

  RefValue noise(RefValue scale, int node) const {
    auto r = draw(node);
    double z = normalFromBits(r[0], r[1]);
    double v = scale.value * z;
    double e = 1e-6 * (1 + std::fabs(z)) * std::fabs(scale.value) +
               std::fabs(z) * scale.bound + roundErr(v);
    return fin(v, e);
  }

  RefValue operand(Operand op, int tag) {
    switch (op) {
    case Operand::G:
      return {g, 0};
    case Operand::W:
      return {w, 0};
    case Operand::G2:
      return mul({g, 0}, {g, 0});
    case Operand::G3:
      return mul(mul({g, 0}, {g, 0}), {g, 0});
    case Operand::M:
      return corrected[0];
    case Operand::V:
      return corrected[1];
    case Operand::Gamma:
      return corrected[2];
    case Operand::Noise:
      return noise(scalar(0.1), tag);
    case Operand::ANoise:
      return noise(s->anoiseStd, tag);
    case Operand::Adam:
      return divide(corrected[0], add(sqrt(corrected[1]), s->eps));
    case Operand::RMSProp:
      return divide({g, 0}, add(sqrt(corrected[1]), s->eps));
    }
    return {0, 0};
  }

  RefValue unary(const Expr &e, int tag) {
    return apply(e.unary, eval(*e.lhs), e.param, tag);
  }

  RefValue binary(const Expr &e) {
    RefValue a = eval(*e.lhs);
    RefValue b = eval(*e.rhs);
    return apply(e.binary, a, b);
  }

public:
  /// The meaning of each function of Functions.def: exhaustive, so a new
  /// row without one stops the build (-Werror=switch). `tag` is the random
  /// stream of a function that draws (drop); others ignore it.
  RefValue apply(UnaryFn fn, RefValue a, double param, int tag) {
    switch (fn) {
    case UnaryFn::Neg:
      return {-a.value, a.bound};
    case UnaryFn::Exp:
      return exp(a);
    case UnaryFn::Log:
      return log(a);
    case UnaryFn::Sqrt:
      return sqrt(a);
    case UnaryFn::Sign:
      return sign(a);
    case UnaryFn::Clip:
      return clip(a, param);
    case UnaryFn::Drop: {
      // The kernel compares f32 uniforms with the f32 literal.
      float u = uniformFromBits(draw(tag)[0]);
      bool keep = u >= static_cast<float>(param);
      return keep ? a : RefValue{0, 0};
    }
    }
    return a;
  }

  /// As above; division reads delta, a run-time argument.
  RefValue apply(BinaryFn fn, RefValue a, RefValue b) {
    switch (fn) {
    case BinaryFn::Add:
      return add(a, b);
    case BinaryFn::Sub:
      return sub(a, b);
    case BinaryFn::Mul:
      return mul(a, b);
    case BinaryFn::Div:
      return divide(a, add(b, s->delta));
    case BinaryFn::Pow:
      return pow(a, b);
    case BinaryFn::Left:
      return a;
    }
    return a;
  }

private:
  /// A shared slot is updated by its first occurrence only; the others
  /// (same subtree, so same input) read the updated average.
  RefValue ema(const Expr &e, int slot) {
    RefValue x = eval(*e.lhs);
    if (emaDone[slot])
      return emaValue[slot];
    emaDone[slot] = 1;
    emaValue[slot] = average(*emaSlots[slot], scalar(e.param), x);
    return emaValue[slot];
  }

  const std::vector<int> &tags_;
  bool round_;
  size_t visit_ = 0;
};

/// A fold knows no run-time argument: each is NaN, so a result that reads
/// one (division's delta) is NaN and is not folded.
const StepScalars &unknownScalars() {
  static const StepScalars unknown = [] {
    const RefValue nan{std::nan(""), 0};
    StepScalars s;
    s.lr = s.eps = s.delta = s.anoiseStd = nan;
    for (int k = 0; k < 3; ++k)
      s.beta[k] = s.bc[k] = nan;
    return s;
  }();
  return unknown;
}

/// An evaluator of literals: no tree to walk, no rounding to f32.
Evaluator foldingEvaluator() {
  static const std::vector<int> noTags;
  Evaluator evaluator(noTags, false);
  evaluator.s = &unknownScalars();
  return evaluator;
}

} // namespace

double foldUnary(UnaryFn fn, double x, double param) {
  if (unaryInfo(fn).param == FnParam::Probability)
    return std::nan(""); // a random draw per element
  return foldingEvaluator().apply(fn, {x, 0}, param, /*tag=*/-1).value;
}

double foldBinary(BinaryFn fn, double x, double y) {
  return foldingEvaluator().apply(fn, {x, 0}, {y, 0}).value;
}

RuleLayout computeLayout(const Expr &rule) {
  LayoutBuilder b;
  b.visit(rule);
  b.finish();
  return b.layout;
}

Reference::Reference(ExprPtr rule) : rule_(std::move(rule)) {
  LayoutBuilder b;
  b.visit(*rule_);
  b.finish();
  layout_ = b.layout;
  tags_ = std::move(b.tags);
}

std::string Reference::check(const Hyper &hyper) const {
  if (layout_.schedules.empty() || hyper.totalSteps > 0)
    return "";
  return std::string("the rule uses the schedule '") +
         spelling(layout_.schedules[0].kind) +
         "', which needs the total number of steps, but Hyper::totalSteps "
         "is " +
         std::to_string(hyper.totalSteps);
}

bool Reference::step(double *w, const double *g, std::vector<double *> state,
                     int64_t n, int64_t rngBase, int64_t step,
                     const Hyper &hyper, std::vector<RefValue> *update) const {
  if (step < 1 || state.size() != layout_.stateSlots.size() ||
      !check(hyper).empty())
    return false;
  Evaluator ev(tags_, roundToFloat_);
  StepScalars s;
  s.lr = ev.scalar(hyper.lr);
  const double betas[3] = {hyper.beta1, hyper.beta2, hyper.beta3};
  for (int k = 0; k < 3; ++k) {
    s.beta[k] = ev.scalar(betas[k]);
    s.bc[k] = ev.scalar(biasCorrection(betas[k], step));
  }
  s.eps = ev.scalar(hyper.eps);
  s.delta = ev.scalar(hyper.delta);
  s.anoiseStd = ev.scalar(annealedNoiseStd(step));
  // KernelABI.h: g negated to maximize, w scaled by decoupled decay.
  const double gscale = hyper.maximize ? -1.0 : 1.0;
  const double wscale = ev.scalar(1.0 - hyper.lr * hyper.weightDecay).value;
  for (const ScheduleSpec &spec : layout_.schedules)
    s.sched.push_back(
        ev.scalar(scheduleValue(spec.kind, spec.n, step, hyper.totalSteps)));
  ev.s = &s;
  ev.seed = hyper.seed;
  ev.step = static_cast<uint32_t>(step);

  // Which of m, v, gamma the rule keeps, and where their arrays are.
  int stdSlot[3] = {-1, -1, -1};
  size_t numStd = 0;
  const char *names[3] = {"m", "v", "gamma"};
  for (; numStd < layout_.stateSlots.size(); ++numStd) {
    int k = 0;
    while (k < 3 && layout_.stateSlots[numStd] != names[k])
      ++k;
    if (k == 3)
      break;
    stdSlot[k] = static_cast<int>(numStd);
  }
  size_t numEma = layout_.emaNodes.size();
  ev.emaSlots.assign(numEma, nullptr);
  if (update)
    update->assign(static_cast<size_t>(n), RefValue{0, 0});

  for (int64_t i = 0; i < n; ++i) {
    ev.g = gscale * g[i];
    ev.w = w[i];
    ev.index = static_cast<uint64_t>(rngBase + i);
    RefValue gv{ev.g, 0};
    RefValue inputs[3] = {gv, ev.mul(gv, gv), ev.mul(ev.mul(gv, gv), gv)};
    for (int k = 0; k < 3; ++k) {
      if (stdSlot[k] < 0)
        continue;
      RefValue raw = ev.average(state[stdSlot[k]][i], s.beta[k], inputs[k]);
      ev.corrected[k] = ev.mul(raw, s.bc[k]);
    }
    for (size_t k = 0; k < numEma; ++k)
      ev.emaSlots[k] = &state[numStd + k][i];
    ev.emaDone.assign(numEma, 0);
    ev.emaValue.assign(numEma, RefValue{0, 0});
    ev.reset();
    RefValue u = ev.eval(*rule_);
    w[i] = ev.fin(wscale * w[i] - s.lr.value * u.value, 0).value;
    if (update)
      (*update)[static_cast<size_t>(i)] = u;
  }
  return true;
}

} // namespace nos
