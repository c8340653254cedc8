//===- Printer.cpp - Canonical infix form, equality and tree dumps --------===//
//
// The canonical printer is the inverse of parseRule: it inserts exactly the
// parentheses that precedence and associativity require, so parsing the text
// rebuilds the same tree. Negative numbers are the delicate case. The parser
// reads `-2` (a '-' directly before a number that is not a '^' base) as
// Literal(-2), so a negative Literal prints as `-2`, at unary-minus
// precedence: `g * -2`, `g ^ -2`, `(-2) ^ g`. Negation of a non-negative
// literal prints as `-(2)`, which the parser keeps as Neg(Literal(2)).
// Literals use the shortest decimal that reads back as the same double.
// Non-finite literals (only constructible in code) print as inf/nan and do
// not parse back.
//
//===----------------------------------------------------------------------===//

#include "nos/Printer.h"
#include "Lexer.h"
#include "nos/Parser.h"

#include <cmath>

namespace nos {

namespace {

enum Prec {
  PrecAdd = 1,
  PrecMul = 2,
  PrecUnary = 3,
  PrecPow = 4,
  PrecAtom = 5
};

bool isNegativeLiteral(const Expr &e) {
  return e.kind == Expr::Kind::Literal && std::signbit(e.param);
}

int precedence(const Expr &e) {
  switch (e.kind) {
  case Expr::Kind::Literal:
    return isNegativeLiteral(e) ? PrecUnary : PrecAtom;
  case Expr::Kind::Unary:
    return e.unary == UnaryFn::Neg ? PrecUnary : PrecAtom;
  case Expr::Kind::Binary:
    switch (binaryInfo(e.binary).syntax) {
    case FnSyntax::Additive:
      return PrecAdd;
    case FnSyntax::Multiplicative:
      return PrecMul;
    case FnSyntax::Power:
      return PrecPow;
    case FnSyntax::Call:
      return PrecAtom;
    }
    return PrecAtom;
  default:
    return PrecAtom;
  }
}

std::string number(double v) {
  return std::signbit(v) ? "-" + formatNumber(-v) : formatNumber(v);
}

class Printer {
public:
  std::string out;

  void print(const Expr &e) {
    switch (e.kind) {
    case Expr::Kind::Operand:
      out += spelling(e.operand);
      return;
    case Expr::Kind::Literal:
      out += number(e.param);
      return;
    case Expr::Kind::Schedule:
      printSchedule(e);
      return;
    case Expr::Kind::Unary:
      printUnary(e);
      return;
    case Expr::Kind::Binary:
      printBinary(e);
      return;
    case Expr::Kind::Ema:
      call("ema", *e.lhs, number(e.param));
      return;
    }
  }

private:
  void child(const Expr &e, int minPrec, bool forceParens = false) {
    bool parens = forceParens || precedence(e) < minPrec;
    if (parens)
      out += '(';
    print(e);
    if (parens)
      out += ')';
  }

  void call(const char *name, const Expr &x, const std::string &param) {
    out += name;
    out += '(';
    print(x);
    out += ", ";
    out += param;
    out += ')';
  }

  void printSchedule(const Expr &e) {
    out += spelling(e.schedule);
    if (e.schedule != Schedule::LD && e.param != defaultScheduleN(e.schedule))
      out += "(" + number(e.param) + ")";
  }

  void printUnary(const Expr &e) {
    if (e.unary == UnaryFn::Neg) { // the prefix minus
      out += '-';
      bool plainNumber =
          e.lhs->kind == Expr::Kind::Literal && !isNegativeLiteral(*e.lhs);
      child(*e.lhs, PrecUnary, plainNumber);
      return;
    }
    if (unaryInfo(e.unary).param != FnParam::NoParam) {
      call(spelling(e.unary), *e.lhs, number(e.param));
      return;
    }
    out += spelling(e.unary);
    out += '(';
    print(*e.lhs);
    out += ')';
  }

  void printBinary(const Expr &e) {
    if (binaryInfo(e.binary).syntax == FnSyntax::Call) {
      out += spelling(e.binary);
      out += '(';
      print(*e.lhs);
      out += ", ";
      print(*e.rhs);
      out += ')';
      return;
    }
    int prec = precedence(e);
    // Left-associative operators need a tighter right operand; '^' is
    // right-associative and accepts a unary minus as its exponent.
    bool isPow = e.binary == BinaryFn::Pow;
    child(*e.lhs, isPow ? PrecAtom : prec);
    out += ' ';
    out += spelling(e.binary);
    out += ' ';
    child(*e.rhs, isPow ? PrecUnary : prec + 1);
  }
};

bool sameNumber(double a, double b) {
  if (std::isnan(a) || std::isnan(b))
    return std::isnan(a) && std::isnan(b);
  return a == b && std::signbit(a) == std::signbit(b);
}

std::string describeNode(const Expr &e) {
  switch (e.kind) {
  case Expr::Kind::Operand:
    return std::string("Operand ") + spelling(e.operand);
  case Expr::Kind::Literal:
    return "Literal " + number(e.param);
  case Expr::Kind::Schedule:
    return std::string("Schedule ") + spelling(e.schedule) +
           (e.schedule == Schedule::LD ? "" : " n=" + number(e.param));
  case Expr::Kind::Unary: {
    std::string s = std::string("Unary ") + spelling(e.unary);
    FnParam param = unaryInfo(e.unary).param;
    if (param != FnParam::NoParam)
      s += (param == FnParam::Bound ? " c=" : " p=") + number(e.param);
    return s;
  }
  case Expr::Kind::Binary:
    return std::string("Binary ") + spelling(e.binary);
  case Expr::Kind::Ema:
    return "Ema beta=" + number(e.param);
  }
  return "?";
}

void dump(const Expr &e, int indent, std::string &out) {
  out.append(2 * indent, ' ');
  out += describeNode(e) + " " + std::to_string(e.loc.line) + ":" +
         std::to_string(e.loc.column) + "\n";
  if (e.lhs)
    dump(*e.lhs, indent + 1, out);
  if (e.rhs)
    dump(*e.rhs, indent + 1, out);
}

} // namespace

std::string printRule(const Expr &e) {
  Printer p;
  p.print(e);
  return p.out;
}

bool structurallyEqual(const Expr &a, const Expr &b) {
  if (&a == &b)
    return true;
  if (a.kind != b.kind)
    return false;
  switch (a.kind) {
  case Expr::Kind::Operand:
    return a.operand == b.operand;
  case Expr::Kind::Literal:
    return sameNumber(a.param, b.param);
  case Expr::Kind::Schedule:
    return a.schedule == b.schedule &&
           (a.schedule == Schedule::LD || sameNumber(a.param, b.param));
  case Expr::Kind::Unary: {
    bool hasParam = unaryInfo(a.unary).param != FnParam::NoParam;
    return a.unary == b.unary && (!hasParam || sameNumber(a.param, b.param)) &&
           structurallyEqual(*a.lhs, *b.lhs);
  }
  case Expr::Kind::Binary:
    return a.binary == b.binary && structurallyEqual(*a.lhs, *b.lhs) &&
           structurallyEqual(*a.rhs, *b.rhs);
  case Expr::Kind::Ema:
    return sameNumber(a.param, b.param) && structurallyEqual(*a.lhs, *b.lhs);
  }
  return false;
}

std::string dumpTree(const Expr &e) {
  std::string out;
  dump(e, 0, out);
  return out;
}

} // namespace nos
