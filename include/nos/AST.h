//===- AST.h - Abstract syntax of the update-rule language ------*- C++ -*-===//
//
// The rule language of docs/language.md as a tree of immutable nodes. This is
// the one representation shared by the parser, the canonical printer, the
// paper's token form, the reference interpreter and the IR builder; it knows
// nothing of MLIR so that torch-facing code can include it.
//
//===----------------------------------------------------------------------===//
#ifndef NOS_AST_H
#define NOS_AST_H

#include "nos/Function.h"
#include "nos/Operand.h"
#include "nos/Schedule.h"

#include <memory>
#include <string>

namespace nos {

struct SourceLoc {
  int line = 1;
  int column = 1;
};

struct Expr;
using ExprPtr = std::shared_ptr<const Expr>;

/// One node. `param` holds the literal value (Literal), the schedule's n
/// (Schedule), clip's c / drop's p (Unary) or ema's beta (Ema).
struct Expr {
  enum class Kind { Operand, Literal, Schedule, Unary, Binary, Ema };
  Kind kind = Kind::Literal;
  Operand operand = Operand::G;
  Schedule schedule = Schedule::LD;
  UnaryFn unary = UnaryFn::Neg;
  BinaryFn binary = BinaryFn::Add;
  double param = 0.0;
  ExprPtr lhs; // Unary operand, Binary lhs, Ema operand.
  ExprPtr rhs; // Binary rhs.
  SourceLoc loc;
};

ExprPtr makeOperand(Operand op, SourceLoc loc = {});
ExprPtr makeLiteral(double value, SourceLoc loc = {});
ExprPtr makeSchedule(Schedule s, double n, SourceLoc loc = {});
ExprPtr makeUnary(UnaryFn fn, ExprPtr x, double param = 0, SourceLoc loc = {});
ExprPtr makeBinary(BinaryFn fn, ExprPtr lhs, ExprPtr rhs, SourceLoc loc = {});
ExprPtr makeEma(ExprPtr x, double beta, SourceLoc loc = {});

/// Default n of cd (0.5) and rd (1).
double defaultScheduleN(Schedule s);
/// Spelling of an operand / schedule / function in the infix language.
const char *spelling(Operand op);
const char *spelling(UnaryFn fn);
const char *spelling(BinaryFn fn);

/// True for noise, anoise and drop: nodes that draw random numbers.
bool isStochastic(const Expr &e);

} // namespace nos

#endif // NOS_AST_H
