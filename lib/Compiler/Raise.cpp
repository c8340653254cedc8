//===- Raise.cpp - A canonical nos.rule back to the rule AST --------------===//
//
// The canonical text of a rule is the AST printer applied to the raised IR,
// so the printer stays the single definition of the surface syntax.
//
//===----------------------------------------------------------------------===//
#include "Bridge.h"

#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
namespace ops = mlir::nos;

namespace nos {
namespace {
class Raiser {
public:
  ExprPtr raise(Value value) {
    auto it = memo.find(value);
    if (it != memo.end())
      return it->second;
    ExprPtr e = raiseOp(value.getDefiningOp());
    memo[value] = e;
    return e;
  }

private:
  ExprPtr raiseOp(Operation *op) {
    if (std::optional<Operand> operand = ops::operandOf(op))
      return makeOperand(*operand);
    return llvm::TypeSwitch<Operation *, ExprPtr>(op)
        .Case([&](ops::ConstantOp c) {
          return makeLiteral(c.getValue().convertToDouble());
        })
        .Case([&](ops::LDOp) {
          return makeSchedule(Schedule::LD, defaultScheduleN(Schedule::LD));
        })
        .Case([&](ops::CDOp c) {
          return makeSchedule(Schedule::CD, c.getN().convertToDouble());
        })
        .Case([&](ops::RDOp r) {
          return makeSchedule(Schedule::RD, r.getN().convertToDouble());
        })
        .Case([&](ops::EmaOp e) {
          return makeEma(raise(e.getX()), e.getBeta().convertToDouble());
        })
        .Default([&](Operation *op) { return raiseFunction(op); });
  }

  ExprPtr raiseFunction(Operation *op) {
    if (std::optional<UnaryFn> fn = ops::unaryFnOf(op))
      return makeUnary(*fn, raise(op->getOperand(0)), ops::unaryParamOf(op));
    std::optional<BinaryFn> fn = ops::binaryFnOf(op);
    assert(fn && "not an op of the rule language");
    ExprPtr lhs = raise(op->getOperand(0));
    return makeBinary(*fn, lhs, raise(op->getOperand(1)));
  }

  DenseMap<Value, ExprPtr> memo;
};
} // namespace

ExprPtr raiseRule(ops::RuleOp rule) { return Raiser().raise(rule.getUpdate()); }

} // namespace nos
