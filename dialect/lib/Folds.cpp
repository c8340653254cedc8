//===- Folds.cpp - Constant folding and algebraic identities --------------===//
//
// Folders evaluate literal subexpressions in double precision, exactly as the
// reference interpreter would, and apply identities that hold for every f32
// input including NaN and infinities (x * 1, x + 0, --x, sign(sign(x)),
// left(x, y), log|-x|). Identities that would change a NaN, such as x * 0,
// are deliberately absent. Division is never folded: delta is a run-time
// argument.
//
//===----------------------------------------------------------------------===//
#include "nos/Dialect/NOSOps.h"

#include "mlir/IR/Matchers.h"

#include <cmath>
#include <optional>

using namespace mlir;
using namespace mlir::nos;

static std::optional<double> constantOf(Attribute attr) {
  if (auto f = dyn_cast_or_null<FloatAttr>(attr))
    return f.getValueAsDouble();
  return std::nullopt;
}

static bool isConstant(Attribute attr, double value) {
  std::optional<double> c = constantOf(attr);
  return c && *c == value;
}

/// A folded literal must print as rule text that parses back, so results
/// that are NaN or infinite stay unfolded (the kernel computes them).
static Attribute f64(MLIRContext *ctx, double value) {
  if (!std::isfinite(value))
    return {};
  return FloatAttr::get(Float64Type::get(ctx), value);
}

/// Folds a unary op on a literal with `fn`.
template <typename Fn>
static OpFoldResult foldUnary(Operation *op, Attribute x, Fn fn) {
  if (std::optional<double> c = constantOf(x))
    return f64(op->getContext(), fn(*c));
  return {};
}

template <typename Fn>
static OpFoldResult foldBinary(Operation *op, Attribute a, Attribute b, Fn fn) {
  std::optional<double> x = constantOf(a), y = constantOf(b);
  if (x && y)
    return f64(op->getContext(), fn(*x, *y));
  return {};
}

static double signOf(double x) {
  if (std::isnan(x))
    return x;
  return x > 0 ? 1.0 : x < 0 ? -1.0 : 0.0;
}

OpFoldResult ConstantOp::fold(FoldAdaptor) { return getValueAttr(); }

OpFoldResult NegOp::fold(FoldAdaptor adaptor) {
  if (auto inner = getX().getDefiningOp<NegOp>())
    return inner.getX();
  return foldUnary(*this, adaptor.getX(), [](double x) { return -x; });
}

OpFoldResult ExpOp::fold(FoldAdaptor adaptor) {
  return foldUnary(*this, adaptor.getX(), [](double x) { return std::exp(x); });
}

/// log|-x| = log|x| and sqrt|-x| = sqrt|x|: drop the negation in place.
template <typename Op> static bool stripNegation(Op op) {
  auto neg = op.getX().template getDefiningOp<NegOp>();
  if (!neg)
    return false;
  op.getOperation()->setOperand(0, neg.getX());
  return true;
}

OpFoldResult LogOp::fold(FoldAdaptor adaptor) {
  if (stripNegation(*this))
    return getResult();
  return foldUnary(*this, adaptor.getX(),
                   [](double x) { return std::log(std::fabs(x)); });
}

OpFoldResult SqrtOp::fold(FoldAdaptor adaptor) {
  if (stripNegation(*this))
    return getResult();
  return foldUnary(*this, adaptor.getX(),
                   [](double x) { return std::sqrt(std::fabs(x)); });
}

OpFoldResult SignOp::fold(FoldAdaptor adaptor) {
  if (getX().getDefiningOp<SignOp>())
    return getX();
  return foldUnary(*this, adaptor.getX(), signOf);
}

OpFoldResult ClipOp::fold(FoldAdaptor adaptor) {
  double c = getC().convertToDouble();
  if (auto inner = getX().getDefiningOp<ClipOp>())
    if (inner.getC().convertToDouble() <= c)
      return getX();
  return foldUnary(*this, adaptor.getX(), [c](double x) {
    return std::isnan(x) ? x : std::fmin(std::fmax(x, -c), c);
  });
}

OpFoldResult DropOp::fold(FoldAdaptor) {
  // u >= 0 always holds, so p = 0 keeps every element.
  if (getP().convertToDouble() == 0)
    return getX();
  return {};
}

OpFoldResult AddOp::fold(FoldAdaptor adaptor) {
  if (isConstant(adaptor.getRhs(), 0))
    return getLhs();
  return foldBinary(*this, adaptor.getLhs(), adaptor.getRhs(),
                    [](double x, double y) { return x + y; });
}

OpFoldResult SubOp::fold(FoldAdaptor adaptor) {
  if (isConstant(adaptor.getRhs(), 0))
    return getLhs();
  return foldBinary(*this, adaptor.getLhs(), adaptor.getRhs(),
                    [](double x, double y) { return x - y; });
}

OpFoldResult MulOp::fold(FoldAdaptor adaptor) {
  if (isConstant(adaptor.getRhs(), 1))
    return getLhs();
  return foldBinary(*this, adaptor.getLhs(), adaptor.getRhs(),
                    [](double x, double y) { return x * y; });
}

OpFoldResult DivOp::fold(FoldAdaptor) { return {}; }

OpFoldResult PowOp::fold(FoldAdaptor adaptor) {
  if (isConstant(adaptor.getRhs(), 1))
    return getLhs();
  if (isConstant(adaptor.getRhs(), 0))
    return f64(getContext(), 1.0);
  return foldBinary(*this, adaptor.getLhs(), adaptor.getRhs(),
                    [](double x, double y) { return std::pow(x, y); });
}

OpFoldResult LeftOp::fold(FoldAdaptor) { return getLhs(); }
