//===- IRBuilder.cpp - Rule AST to the nos dialect ------------------------===//
//
// A direct walk of the tree: one op per node, source locations carried as
// FileLineColLoc("rule", line, col) so verifier errors point into the rule.
//
//===----------------------------------------------------------------------===//
#include "Bridge.h"

#include "mlir/IR/Builders.h"

using namespace mlir;

namespace nos {
namespace {
class RuleBuilder {
public:
  RuleBuilder(MLIRContext &ctx, OpBuilder &b) : ctx(ctx), b(b) {}

  Value build(const Expr &e) {
    Location loc = locOf(e);
    switch (e.kind) {
    case Expr::Kind::Operand:
      return operand(e.operand, loc);
    case Expr::Kind::Literal:
      return b.create<mlir::nos::ConstantOp>(loc, b.getF64FloatAttr(e.param));
    case Expr::Kind::Schedule:
      return schedule(e, loc);
    case Expr::Kind::Unary:
      return unary(e, build(*e.lhs), loc);
    case Expr::Kind::Binary:
      return chain(e);
    case Expr::Kind::Ema:
      return b.create<mlir::nos::EmaOp>(loc, build(*e.lhs),
                                        b.getF64FloatAttr(e.param));
    }
    llvm_unreachable("unknown expression kind");
  }

private:
  Location locOf(const Expr &e) {
    return FileLineColLoc::get(&ctx, "rule", e.loc.line, e.loc.column);
  }

  /// A chain g + m + v + ... is a tree as tall as it is long, leaning left:
  /// its spine is walked in a loop, so recursion stays as deep as the
  /// rule's nesting. Ops come out in the same order as plain recursion.
  Value chain(const Expr &top) {
    std::vector<const Expr *> spine;
    const Expr *x = &top;
    for (; x->kind == Expr::Kind::Binary; x = x->lhs.get())
      spine.push_back(x);
    Value acc = build(*x);
    for (auto it = spine.rbegin(); it != spine.rend(); ++it)
      acc = binary((*it)->binary, acc, build(*(*it)->rhs), locOf(**it));
    return acc;
  }

  Value operand(Operand op, Location loc) {
    uint32_t stream = operandInfo(op).random ? nextStream++ : 0;
    return mlir::nos::createOperandOp(b, loc, op, stream)->getResult(0);
  }

  Value schedule(const Expr &e, Location loc) {
    switch (e.schedule) {
    case Schedule::LD:
      return b.create<mlir::nos::LDOp>(loc);
    case Schedule::CD:
      return b.create<mlir::nos::CDOp>(loc, e.param);
    case Schedule::RD:
      return b.create<mlir::nos::RDOp>(loc, e.param);
    }
    llvm_unreachable("unknown schedule");
  }

  Value unary(const Expr &e, Value x, Location loc) {
    uint32_t stream = isStochastic(e) ? nextStream++ : 0;
    return mlir::nos::createUnaryOp(b, loc, e.unary, x, e.param, stream)
        ->getResult(0);
  }

  Value binary(BinaryFn fn, Value lhs, Value rhs, Location loc) {
    return mlir::nos::createBinaryOp(b, loc, fn, lhs, rhs)->getResult(0);
  }

  MLIRContext &ctx;
  OpBuilder &b;
  uint32_t nextStream = 0;
};
} // namespace

OwningOpRef<ModuleOp> buildModule(MLIRContext &ctx, const Expr &rule,
                                  llvm::StringRef name) {
  Location loc = FileLineColLoc::get(&ctx, "rule", 1, 1);
  OwningOpRef<ModuleOp> module = ModuleOp::create(loc);
  OpBuilder b(module->getBodyRegion());
  auto ruleOp = b.create<mlir::nos::RuleOp>(loc, name);
  b.setInsertionPointToStart(&ruleOp.getBody().emplaceBlock());
  Value update = RuleBuilder(ctx, b).build(rule);
  b.create<mlir::nos::YieldOp>(loc, update);
  return module;
}

} // namespace nos
