//===- AST.cpp - Construction and naming of rule nodes --------------------===//
//
// The node constructors and the spellings shared by the parser, the printer
// and diagnostics. Constructors fill only the fields that matter for a node's
// kind so that structural comparison can ignore the rest.
//
//===----------------------------------------------------------------------===//

#include "nos/AST.h"

namespace nos {

static std::shared_ptr<Expr> makeNode(Expr::Kind kind, SourceLoc loc) {
  auto e = std::make_shared<Expr>();
  e->kind = kind;
  e->loc = loc;
  return e;
}

ExprPtr makeOperand(Operand op, SourceLoc loc) {
  auto e = makeNode(Expr::Kind::Operand, loc);
  e->operand = op;
  return e;
}

ExprPtr makeLiteral(double value, SourceLoc loc) {
  auto e = makeNode(Expr::Kind::Literal, loc);
  e->param = value;
  return e;
}

ExprPtr makeSchedule(Schedule s, double n, SourceLoc loc) {
  auto e = makeNode(Expr::Kind::Schedule, loc);
  e->schedule = s;
  // ld has no parameter; a stray n must not make two ld nodes differ.
  e->param = s == Schedule::LD ? 0.0 : n;
  return e;
}

ExprPtr makeUnary(UnaryFn fn, ExprPtr x, double param, SourceLoc loc) {
  auto e = makeNode(Expr::Kind::Unary, loc);
  e->unary = fn;
  e->param = unaryInfo(fn).param != FnParam::NoParam ? param : 0.0;
  e->lhs = std::move(x);
  return e;
}

ExprPtr makeBinary(BinaryFn fn, ExprPtr lhs, ExprPtr rhs, SourceLoc loc) {
  auto e = makeNode(Expr::Kind::Binary, loc);
  e->binary = fn;
  e->lhs = std::move(lhs);
  e->rhs = std::move(rhs);
  return e;
}

ExprPtr makeEma(ExprPtr x, double beta, SourceLoc loc) {
  auto e = makeNode(Expr::Kind::Ema, loc);
  e->param = beta;
  e->lhs = std::move(x);
  return e;
}

double defaultScheduleN(Schedule s) {
  switch (s) {
  case Schedule::LD:
    return 0.0;
  case Schedule::CD:
    return 0.5;
  case Schedule::RD:
    return 1.0;
  }
  return 0.0;
}

const char *spelling(Operand op) { return operandInfo(op).spelling; }

const char *spelling(UnaryFn fn) { return unaryInfo(fn).spelling; }

const char *spelling(BinaryFn fn) { return binaryInfo(fn).spelling; }

bool isStochastic(const Expr &e) {
  switch (e.kind) {
  case Expr::Kind::Operand:
    return e.operand == Operand::Noise || e.operand == Operand::ANoise;
  case Expr::Kind::Unary:
    return unaryInfo(e.unary).param == FnParam::Probability;
  default:
    return false;
  }
}

} // namespace nos
