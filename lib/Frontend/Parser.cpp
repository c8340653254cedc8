//===- Parser.cpp - Recursive-descent parser of the infix language --------===//
//
// Grammar (language.md §2-4), lowest precedence first:
//   expr    := term (('+' | '-') term)*
//   term    := unary (('*' | '/') unary)*
//   unary   := '-' unary | power
//   power   := primary ('^' unary)?          -- right-associative
//   primary := NUMBER | '(' expr ')' | operand | schedule ['(' literal ')']
//            | fn '(' expr ')' | fn2 '(' expr ',' (expr | literal) ')'
// A '-' directly followed by a number that is not the base of a '^' becomes
// a negative Literal, so that the printer's `-2` reads back as Literal(-2);
// `-(2)` stays Neg(Literal(2)). Errors are returned, never thrown, and both
// the recursion is capped by kMaxNestingDepth and the tree height (which long
// chains of one operator raise without recursion here) by kMaxTreeHeight, so
// hostile input cannot overflow the stack of this or any later tree walk.
//
//===----------------------------------------------------------------------===//

#include "nos/Parser.h"
#include "Lexer.h"

#include <algorithm>
#include <cmath>
#include <optional>

namespace nos {

std::string Diagnostic::str() const {
  return std::to_string(loc.line) + ":" + std::to_string(loc.column) +
         ": error: " + message;
}

namespace {

std::string locText(SourceLoc loc) {
  return std::to_string(loc.line) + ":" + std::to_string(loc.column);
}

const std::string &expectedNames() {
  static const std::string names = [] {
    std::string out;
    for (const OperandInfo &info : kOperands)
      out += std::string(info.spelling) + ", ";
    out += "ld, cd, rd or a function ";
    // Every function written as a call (Functions.def), then ema.
    for (const UnaryInfo &info : kUnaryFns)
      if (info.fn != UnaryFn::Neg)
        out += std::string(info.spelling) + ", ";
    for (const BinaryInfo &info : kBinaryFns)
      if (info.syntax == FnSyntax::Call)
        out += std::string(info.spelling) + ", ";
    return out + "ema";
  }();
  return names;
}

std::optional<Operand> operandNamed(std::string_view s) {
  for (const OperandInfo &info : kOperands)
    if (s == info.spelling)
      return info.op;
  return std::nullopt;
}

std::optional<Schedule> scheduleNamed(std::string_view s) {
  for (Schedule k : {Schedule::LD, Schedule::CD, Schedule::RD})
    if (s == spelling(k))
      return k;
  return std::nullopt;
}

/// A unary function written as a call (every row but the prefix minus).
std::optional<UnaryFn> unaryNamed(std::string_view s) {
  for (const UnaryInfo &info : kUnaryFns)
    if (info.fn != UnaryFn::Neg && s == info.spelling)
      return info.fn;
  return std::nullopt;
}

/// A parsed subtree and its height, which bounds later recursive walks.
struct Node {
  ExprPtr e;
  int depth = 0;
  explicit operator bool() const { return e != nullptr; }
};

class Parser {
public:
  explicit Parser(std::string_view src) : src_(src) {}

  ParseResult run() {
    ParseResult result;
    if (src_.size() > kMaxRuleLength) {
      result.error = {locationOf(src_, kMaxRuleLength),
                      "rule is " + std::to_string(src_.size()) +
                          " characters long; the limit is " +
                          std::to_string(kMaxRuleLength)};
      return result;
    }
    toks_ = lexRule(src_);
    Node root = parseExpr();
    if (root && tok().kind != TokKind::End)
      fail(tok(),
           "expected an operator or end of rule, found " + describe(tok()));
    if (failed_) {
      result.error = diag_;
      return result;
    }
    result.expr = root.e;
    return result;
  }

private:
  const Token &tok() const { return toks_[pos_]; }
  const Token &next() const {
    return toks_[std::min(pos_ + 1, toks_.size() - 1)];
  }
  void bump() {
    if (pos_ + 1 < toks_.size())
      ++pos_;
  }

  /// Records the first error only; a lexer error token explains itself.
  Node fail(const Token &at, std::string message) {
    if (at.kind == TokKind::Error)
      return fail(at.loc, at.message);
    return fail(at.loc, std::move(message));
  }
  Node fail(SourceLoc loc, std::string message) {
    if (!failed_) {
      failed_ = true;
      diag_ = {loc, std::move(message)};
    }
    return {};
  }

  Node tooDeep(SourceLoc loc) {
    return fail(loc, "rule nests deeper than " +
                         std::to_string(kMaxNestingDepth) + " levels");
  }
  Node tooTall(SourceLoc loc) {
    return fail(loc, "rule is more than " + std::to_string(kMaxTreeHeight) +
                         " operations deep (each operator of a chain counts "
                         "one)");
  }

  Node leaf(ExprPtr e) { return {std::move(e), 1}; }
  Node unary(UnaryFn fn, Node x, double param, SourceLoc loc) {
    if (x.depth + 1 > kMaxTreeHeight)
      return tooTall(loc);
    return {makeUnary(fn, x.e, param, loc), x.depth + 1};
  }
  Node binary(BinaryFn fn, Node a, Node b, SourceLoc loc) {
    int depth = std::max(a.depth, b.depth) + 1;
    if (depth > kMaxTreeHeight)
      return tooTall(loc);
    return {makeBinary(fn, a.e, b.e, loc), depth};
  }
  Node ema(Node x, double beta, SourceLoc loc) {
    if (x.depth + 1 > kMaxTreeHeight)
      return tooTall(loc);
    return {makeEma(x.e, beta, loc), x.depth + 1};
  }

  bool expect(TokKind kind, const std::string &message) {
    if (tok().kind == kind) {
      bump();
      return true;
    }
    fail(tok(), message + ", found " + describe(tok()));
    return false;
  }

  Node parseExpr() {
    Node lhs = parseTerm();
    while (lhs &&
           (tok().kind == TokKind::Plus || tok().kind == TokKind::Minus)) {
      Token op = tok();
      bump();
      Node rhs = parseTerm();
      if (!rhs)
        return {};
      auto fn = op.kind == TokKind::Plus ? BinaryFn::Add : BinaryFn::Sub;
      lhs = binary(fn, lhs, rhs, op.loc);
    }
    return lhs;
  }

  Node parseTerm() {
    Node lhs = parseUnary();
    while (lhs &&
           (tok().kind == TokKind::Star || tok().kind == TokKind::Slash)) {
      Token op = tok();
      bump();
      Node rhs = parseUnary();
      if (!rhs)
        return {};
      auto fn = op.kind == TokKind::Star ? BinaryFn::Mul : BinaryFn::Div;
      lhs = binary(fn, lhs, rhs, op.loc);
    }
    return lhs;
  }

  /// Every cycle of the grammar passes through here, so this is where the
  /// recursion depth is counted.
  Node parseUnary() {
    if (nesting_ >= kMaxNestingDepth)
      return tooDeep(tok().loc);
    ++nesting_;
    Node result = parseUnaryBody();
    --nesting_;
    return result;
  }

  Node parseUnaryBody() {
    if (tok().kind != TokKind::Minus)
      return parsePower();
    Token minus = tok();
    bump();
    if (tok().kind == TokKind::Number && next().kind != TokKind::Caret) {
      double value = -tok().value;
      bump();
      return leaf(makeLiteral(value, minus.loc));
    }
    Node x = parseUnary();
    if (!x)
      return {};
    return unary(UnaryFn::Neg, x, 0.0, minus.loc);
  }

  Node parsePower() {
    Node base = parsePrimary();
    if (!base || tok().kind != TokKind::Caret)
      return base;
    Token op = tok();
    bump();
    Node exponent = parseUnary();
    if (!exponent)
      return {};
    return binary(BinaryFn::Pow, base, exponent, op.loc);
  }

  Node parsePrimary() {
    Token t = tok();
    switch (t.kind) {
    case TokKind::Number:
      bump();
      return leaf(makeLiteral(t.value, t.loc));
    case TokKind::LParen: {
      bump();
      Node inner = parseExpr();
      if (!inner || !expect(TokKind::RParen,
                            "expected ')' to close '(' at " + locText(t.loc)))
        return {};
      return inner;
    }
    case TokKind::Ident:
      bump();
      return parseName(t);
    default:
      return fail(t, "expected an expression, found " + describe(t));
    }
  }

  Node parseName(const Token &name) {
    if (auto op = operandNamed(name.text)) {
      if (tok().kind == TokKind::LParen)
        return fail(tok(), "'" + std::string(name.text) +
                               "' is an operand, not a function; found '('");
      return leaf(makeOperand(*op, name.loc));
    }
    if (auto s = scheduleNamed(name.text))
      return parseSchedule(*s, name);
    if (auto fn = unaryNamed(name.text))
      return parseUnaryCall(*fn, name);
    if (name.text == "left")
      return parseLeft(name);
    if (name.text == "ema")
      return parseEma(name);
    return fail(name, "unknown operand " + describe(name) +
                          "; expected one of " + expectedNames());
  }

  Node parseSchedule(Schedule s, const Token &name) {
    double n = defaultScheduleN(s);
    if (tok().kind == TokKind::LParen) {
      if (s == Schedule::LD)
        return fail(tok(), "'ld' takes no argument; found '('");
      bump();
      Token at = tok();
      std::string what = "the parameter n of '" + std::string(name.text) + "'";
      if (!parseLiteralParam(what, n))
        return {};
      if (!(n > 0))
        return fail(at.loc, "schedule '" + std::string(name.text) +
                                "' needs n > 0, found " + formatNumber(n));
      if (!closeCall(name))
        return {};
    }
    return leaf(makeSchedule(s, n, name.loc));
  }

  /// A literal parameter: an optionally negated number, nothing else, so
  /// that it can be baked into a kernel.
  bool parseLiteralParam(const std::string &what, double &value) {
    bool negative = tok().kind == TokKind::Minus;
    if (negative)
      bump();
    if (tok().kind != TokKind::Number) {
      fail(tok(), "expected a numeric literal for " + what + ", found " +
                      describe(tok()));
      return false;
    }
    value = negative ? -tok().value : tok().value;
    bump();
    return true;
  }

  bool openCall(const Token &name) {
    return expect(TokKind::LParen,
                  "expected '(' after '" + std::string(name.text) + "'");
  }
  bool comma(const Token &name) {
    return expect(TokKind::Comma, "expected ',' after the first argument of '" +
                                      std::string(name.text) + "'");
  }
  bool closeCall(const Token &name) {
    return expect(TokKind::RParen, "expected ')' to close '" +
                                       std::string(name.text) + "(' at " +
                                       locText(name.loc));
  }

  Node parseUnaryCall(UnaryFn fn, const Token &name) {
    if (!openCall(name))
      return {};
    Node x = parseExpr();
    if (!x)
      return {};
    double param = 0.0;
    FnParam kind = unaryInfo(fn).param;
    if (kind != FnParam::NoParam) {
      if (!comma(name))
        return {};
      Token at = tok();
      bool bound = kind == FnParam::Bound;
      std::string fnName = spelling(fn);
      if (!parseLiteralParam(bound ? "the bound c of '" + fnName + "'"
                                   : "the probability p of '" + fnName + "'",
                             param))
        return {};
      if (bound && !(param > 0))
        return fail(at.loc, fnName + " bound c must be > 0, found " +
                                formatNumber(param));
      if (!bound && !(param >= 0 && param < 1))
        return fail(at.loc, fnName +
                                " probability p must satisfy 0 <= p < 1, "
                                "found " +
                                formatNumber(param));
    }
    if (!closeCall(name))
      return {};
    return unary(fn, x, param, name.loc);
  }

  Node parseLeft(const Token &name) {
    if (!openCall(name))
      return {};
    Node x = parseExpr();
    if (!x || !comma(name))
      return {};
    Node y = parseExpr();
    if (!y || !closeCall(name))
      return {};
    return binary(BinaryFn::Left, x, y, name.loc);
  }

  Node parseEma(const Token &name) {
    if (!openCall(name))
      return {};
    Node x = parseExpr();
    if (!x || !comma(name))
      return {};
    Token at = tok();
    double beta = 0.0;
    if (!parseLiteralParam("the beta of 'ema'", beta))
      return {};
    if (!(beta >= 0 && beta < 1))
      return fail(at.loc, "ema beta must satisfy 0 <= beta < 1, found " +
                              formatNumber(beta));
    if (!closeCall(name))
      return {};
    return ema(x, beta, name.loc);
  }

  std::string_view src_;
  std::vector<Token> toks_;
  size_t pos_ = 0;
  int nesting_ = 0;
  bool failed_ = false;
  Diagnostic diag_;
};

} // namespace

std::atomic<uint64_t> &parses() {
  static std::atomic<uint64_t> count{0};
  return count;
}

uint64_t parseCount() { return parses().load(std::memory_order_relaxed); }

ParseResult parseRule(std::string_view source) {
  parses().fetch_add(1, std::memory_order_relaxed);
  return Parser(source).run();
}

} // namespace nos
