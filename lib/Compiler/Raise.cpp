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
        .Case([&](ops::ClipOp c) {
          return makeUnary(UnaryFn::Clip, raise(c.getX()),
                           c.getC().convertToDouble());
        })
        .Case([&](ops::DropOp d) {
          return makeUnary(UnaryFn::Drop, raise(d.getX()),
                           d.getP().convertToDouble());
        })
        .Default([&](Operation *op) { return raiseFunction(op); });
  }

  ExprPtr raiseFunction(Operation *op) {
    if (op->getNumOperands() == 1) {
      UnaryFn fn = llvm::TypeSwitch<Operation *, UnaryFn>(op)
                       .Case([](ops::NegOp) { return UnaryFn::Neg; })
                       .Case([](ops::ExpOp) { return UnaryFn::Exp; })
                       .Case([](ops::LogOp) { return UnaryFn::Log; })
                       .Case([](ops::SqrtOp) { return UnaryFn::Sqrt; })
                       .Default([](Operation *) { return UnaryFn::Sign; });
      return makeUnary(fn, raise(op->getOperand(0)));
    }
    BinaryFn fn = llvm::TypeSwitch<Operation *, BinaryFn>(op)
                      .Case([](ops::AddOp) { return BinaryFn::Add; })
                      .Case([](ops::SubOp) { return BinaryFn::Sub; })
                      .Case([](ops::MulOp) { return BinaryFn::Mul; })
                      .Case([](ops::DivOp) { return BinaryFn::Div; })
                      .Case([](ops::PowOp) { return BinaryFn::Pow; })
                      .Default([](Operation *) { return BinaryFn::Left; });
    ExprPtr lhs = raise(op->getOperand(0));
    return makeBinary(fn, lhs, raise(op->getOperand(1)));
  }

  DenseMap<Value, ExprPtr> memo;
};
} // namespace

ExprPtr raiseRule(ops::RuleOp rule) { return Raiser().raise(rule.getUpdate()); }

} // namespace nos
