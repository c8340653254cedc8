//===- Folds.cpp - Constant folding and algebraic identities --------------===//
//
// One folder serves every op of Functions.def: it applies the op's
// identities, which hold for every f32 input including NaN and infinities
// (x * 1, x + 0, --x, sign(sign(x)), left(x, y), log|-x|), then evaluates a
// literal subexpression with the reference interpreter's own meaning
// (nos::foldUnary/foldBinary), in double precision. Identities that would
// change a NaN, such as x * 0, are deliberately absent; division is never
// folded (delta is a run-time argument) and drop only when p = 0.
//
//===----------------------------------------------------------------------===//
#include "nos/Dialect/NOSOps.h"

#include "nos/Reference.h"

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

OpFoldResult ConstantOp::fold(FoldAdaptor) { return getValueAttr(); }

/// log|-x| = log|x| and sqrt|-x| = sqrt|x|: drop the negation in place.
template <typename Op> static bool stripNegation(Op op) {
  auto neg = op.getX().template getDefiningOp<NegOp>();
  if (!neg)
    return false;
  op.getOperation()->setOperand(0, neg.getX());
  return true;
}

/// The identities of one op, if it has any: each holds for every f32 input,
/// NaN and infinities included.
template <typename Op>
static OpFoldResult identity(Op op, typename Op::FoldAdaptor adaptor) {
  if constexpr (std::is_same_v<Op, NegOp>) {
    if (auto inner = op.getX().template getDefiningOp<NegOp>())
      return inner.getX();
  } else if constexpr (std::is_same_v<Op, LogOp> ||
                       std::is_same_v<Op, SqrtOp>) {
    if (stripNegation(op))
      return op.getResult();
  } else if constexpr (std::is_same_v<Op, SignOp>) {
    if (op.getX().template getDefiningOp<SignOp>())
      return op.getX();
  } else if constexpr (std::is_same_v<Op, ClipOp>) {
    if (auto inner = op.getX().template getDefiningOp<ClipOp>())
      if (inner.getC().convertToDouble() <= op.getC().convertToDouble())
        return op.getX();
  } else if constexpr (std::is_same_v<Op, DropOp>) {
    // u >= 0 always holds, so p = 0 keeps every element.
    if (op.getP().convertToDouble() == 0)
      return op.getX();
  } else if constexpr (std::is_same_v<Op, AddOp> || std::is_same_v<Op, SubOp>) {
    if (isConstant(adaptor.getRhs(), 0))
      return op.getLhs();
  } else if constexpr (std::is_same_v<Op, MulOp>) {
    if (isConstant(adaptor.getRhs(), 1))
      return op.getLhs();
  } else if constexpr (std::is_same_v<Op, PowOp>) {
    if (isConstant(adaptor.getRhs(), 1))
      return op.getLhs();
    if (isConstant(adaptor.getRhs(), 0))
      return f64(op.getContext(), 1.0);
  } else if constexpr (std::is_same_v<Op, LeftOp>) {
    return op.getLhs();
  }
  return {};
}

template <typename Op>
OpFoldResult mlir::nos::foldFunction(Op op, typename Op::FoldAdaptor adaptor) {
  if (OpFoldResult same = identity(op, adaptor))
    return same;
  Operation *o = op.getOperation();
  if (std::optional<::nos::UnaryFn> fn = unaryFnOf(o)) {
    if (std::optional<double> x = constantOf(adaptor.getOperands()[0]))
      return f64(op.getContext(), ::nos::foldUnary(*fn, *x, unaryParamOf(o)));
    return {};
  }
  std::optional<double> x = constantOf(adaptor.getOperands()[0]);
  std::optional<double> y = constantOf(adaptor.getOperands()[1]);
  if (x && y)
    return f64(op.getContext(), ::nos::foldBinary(*binaryFnOf(o), *x, *y));
  return {};
}

// The folder of every op of Functions.def.
#define NOS_UNARY(Name, Mnemonic, Spelling, Param, TokenParams, Summary)       \
  template OpFoldResult mlir::nos::foldFunction<Name##Op>(                     \
      Name##Op, Name##Op::FoldAdaptor);
#define NOS_BINARY(Name, Mnemonic, Spelling, Syntax, Kind, Summary)            \
  NOS_UNARY(Name, Mnemonic, Spelling, , , Summary)
#include "nos/Functions.def"
