//===- Tokens.cpp - The paper's token form (language.md §5) --------------===//
//
// The search controller samples rules as units `op1 op2 u1 u2 b` that compute
// b(u1(op1), u2(op2)). This converts them to the same AST the infix parser
// builds, so everything downstream sees one representation. A unit's output
// used twice is one shared subtree; printed, it is written out twice, and each
// copy of a stochastic node draws its own numbers. Token rules are rejected
// when their infix form would break parseRule's limits, which keeps
// parseRule(printRule(parseTokens(s))) working for every accepted s.
//
//===----------------------------------------------------------------------===//

#include "nos/Tokens.h"
#include "Lexer.h"
#include "nos/Parser.h"
#include "nos/Printer.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <optional>
#include <sstream>

namespace nos {

namespace {

struct Word {
  std::string_view text;
  SourceLoc loc;
  int index = 0; // 1-based among non-';' tokens.
};

/// A subtree with the height and expanded size that decide the limits.
struct Part {
  ExprPtr e;
  int depth = 0;
  size_t size = 0;
};

std::string operandList() {
  std::string out;
  for (const std::string &name : tokenOperands())
    out += (out.empty() ? "" : ", ") + name;
  return out + " or oK (the output of an earlier unit K)";
}

/// "a, b, c": the words a position accepts, for its error message.
std::string listOf(const std::vector<std::string> &words) {
  std::string out;
  for (const std::string &word : words)
    out += (out.empty() ? "" : ", ") + word;
  return out;
}

std::optional<Part> leafOperand(std::string_view t, SourceLoc loc) {
  auto leaf = [](ExprPtr e) { return Part{std::move(e), 1, 1}; };
  for (const OperandInfo &info : kOperands)
    if (info.token && t == info.spelling)
      return leaf(makeOperand(info.op, loc));
  if (t == "sign(g)" || t == "sign(m)") {
    auto x = makeOperand(t == "sign(g)" ? Operand::G : Operand::M, loc);
    return Part{makeUnary(UnaryFn::Sign, x, 0.0, loc), 2, 2};
  }
  if (t == "1" || t == "2")
    return leaf(makeLiteral(t == "1" ? 1.0 : 2.0, loc));
  static const std::pair<const char *, double> decay[] = {
      {"1e-4w", 1e-4}, {"1e-3w", 1e-3}, {"1e-2w", 1e-2}, {"1e-1w", 1e-1}};
  for (auto &[name, scale] : decay)
    if (t == name)
      return Part{makeBinary(BinaryFn::Mul, makeLiteral(scale, loc),
                             makeOperand(Operand::W, loc), loc),
                  2, 3};
  for (Schedule s : {Schedule::LD, Schedule::CD, Schedule::RD})
    if (t == spelling(s))
      return leaf(makeSchedule(s, defaultScheduleN(s), loc));
  return std::nullopt;
}

struct UnaryToken {
  std::string name;
  UnaryFn fn;
  double param;
};

/// The unary words of Functions.def, in its order: the mnemonic, or the
/// mnemonic with each token literal (clip1e-5, ...).
const std::vector<UnaryToken> &unaryTokens() {
  static const std::vector<UnaryToken> tokens = [] {
    std::vector<UnaryToken> out;
    for (const UnaryInfo &info : kUnaryFns) {
      std::istringstream literals(info.tokenParams);
      std::string literal;
      if (info.param == FnParam::NoParam)
        out.push_back({info.mnemonic, info.fn, 0.0});
      while (literals >> literal)
        out.push_back({info.mnemonic + literal, info.fn,
                       std::strtod(literal.c_str(), nullptr)});
    }
    return out;
  }();
  return tokens;
}

class TokenParser {
public:
  explicit TokenParser(std::string_view src) : src_(src) {}

  ParseResult run() {
    if (src_.size() > kMaxRuleLength)
      return error(locationOf(src_, kMaxRuleLength),
                   "token rule is " + std::to_string(src_.size()) +
                       " characters long; the limit is " +
                       std::to_string(kMaxRuleLength));
    std::vector<Word> unit;
    size_t pos = 0;
    for (;;) {
      while (pos < src_.size() &&
             std::isspace(static_cast<unsigned char>(src_[pos])))
        ++pos;
      if (pos == src_.size())
        break;
      if (src_[pos] == ';') {
        if (!unit.empty() || outputs_.empty() || lastWasSemicolon_)
          return incomplete(unit.size(), locAt(pos));
        lastWasSemicolon_ = true;
        ++pos;
        continue;
      }
      size_t start = pos;
      while (pos < src_.size() && src_[pos] != ';' &&
             !std::isspace(static_cast<unsigned char>(src_[pos])))
        ++pos;
      lastWasSemicolon_ = false;
      unit.push_back(
          {src_.substr(start, pos - start), locAt(start), ++wordCount_});
      if (unit.size() == 5) {
        if (!addUnit(unit))
          return failure_;
        unit.clear();
      }
    }
    if (!unit.empty())
      return incomplete(unit.size(), locAt(src_.size()));
    if (outputs_.empty())
      return error({1, 1}, "empty token rule; expected units of 5 tokens "
                           "op1 op2 u1 u2 b");
    return finish();
  }

private:
  /// Location of a byte at or after the previous query; incremental so that
  /// a long rule costs linear time.
  SourceLoc locAt(size_t pos) {
    for (; scanned_ < pos; ++scanned_) {
      if (src_[scanned_] == '\n') {
        ++scanLoc_.line;
        scanLoc_.column = 1;
      } else {
        ++scanLoc_.column;
      }
    }
    return scanLoc_;
  }

  ParseResult error(SourceLoc loc, std::string message) {
    ParseResult r;
    r.error = {loc, std::move(message)};
    return r;
  }

  ParseResult incomplete(size_t count, SourceLoc loc) {
    return error(loc, "unit " + std::to_string(outputs_.size() + 1) + " has " +
                          std::to_string(count) +
                          " tokens; expected 5 (op1 op2 u1 u2 b)");
  }

  std::string name(const Word &w) const {
    return "token " + std::to_string(w.index) + " '" + std::string(w.text) +
           "'";
  }

  bool fail(const Word &w, std::string message) {
    failure_ = error(w.loc, name(w) + " " + message);
    return false;
  }

  bool operand(const Word &w, Part &out) {
    if (auto p = leafOperand(w.text, w.loc)) {
      out = *p;
      return true;
    }
    if (w.text.size() >= 2 && w.text[0] == 'o' &&
        std::all_of(w.text.begin() + 1, w.text.end(),
                    [](char c) { return std::isdigit((unsigned char)c); }))
      return unitOutput(w, out);
    return fail(w, "is not an operand; expected one of " + operandList());
  }

  bool unitOutput(const Word &w, Part &out) {
    size_t current = outputs_.size() + 1;
    std::string digits(w.text.substr(1));
    size_t k = digits.size() > 9 ? 0 : std::stoul(digits);
    if (k >= 1 && k < current) {
      out = outputs_[k - 1];
      return true;
    }
    std::string allowed = current == 1
                              ? "unit 1 has none"
                              : "o1 to o" + std::to_string(current - 1);
    return fail(w, "in unit " + std::to_string(current) +
                       " does not name an earlier unit's output (" + allowed +
                       ")");
  }

  bool unary(const Word &w, Part &x) {
    if (w.text == "x")
      return true;
    for (const UnaryToken &u : unaryTokens())
      if (w.text == u.name) {
        x = {makeUnary(u.fn, x.e, u.param, w.loc), x.depth + 1, x.size + 1};
        return true;
      }
    return fail(w, "is not a unary function; expected one of " +
                       listOf(tokenUnaries()));
  }

  bool binary(const Word &w, const Part &a, const Part &b, Part &out) {
    for (const BinaryInfo &info : kBinaryFns)
      if (w.text == info.mnemonic) {
        out = {makeBinary(info.fn, a.e, b.e, w.loc),
               std::max(a.depth, b.depth) + 1, a.size + b.size + 1};
        return true;
      }
    return fail(w, "is not a binary function; expected one of " +
                       listOf(tokenBinaries()));
  }

  bool addUnit(const std::vector<Word> &u) {
    Part a, b, out;
    if (!operand(u[0], a) || !operand(u[1], b) || !unary(u[2], a) ||
        !unary(u[3], b) || !binary(u[4], a, b, out))
      return false;
    // One level of slack: parentheses in the printed form add a level of
    // parser recursion over the tree's height.
    if (out.depth >= kMaxNestingDepth)
      return fail(u[4], "makes the rule nest deeper than " +
                            std::to_string(kMaxNestingDepth) + " levels");
    if (out.size > kMaxRuleLength)
      return fail(u[4], "makes the rule expand to more than " +
                            std::to_string(kMaxRuleLength) + " nodes");
    outputs_.push_back(out);
    return true;
  }

  ParseResult finish() {
    ParseResult r;
    r.expr = outputs_.back().e;
    size_t printed = printRule(*r.expr).size();
    if (printed > kMaxRuleLength)
      return error({1, 1}, "token rule prints as " + std::to_string(printed) +
                               " characters of infix; the limit is " +
                               std::to_string(kMaxRuleLength));
    return r;
  }

  std::string_view src_;
  std::vector<Part> outputs_;
  int wordCount_ = 0;
  size_t scanned_ = 0;
  SourceLoc scanLoc_;
  bool lastWasSemicolon_ = false;
  ParseResult failure_;
};

} // namespace

ParseResult parseTokens(std::string_view tokens) {
  parses().fetch_add(1, std::memory_order_relaxed);
  return TokenParser(tokens).run();
}

// The paper's order, which fixes what a search's seed samples; an operand
// added to Operands.def as a token joins at the end.
const std::vector<std::string> &tokenOperands() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> out;
    for (const char *name :
         {"g",       "g2",   "g3",      "m",     "v",     "gamma", "sign(g)",
          "sign(m)", "1",    "2",       "noise", "1e-4w", "1e-3w", "1e-2w",
          "1e-1w",   "adam", "rmsprop", "ld",    "cd",    "rd",    "anoise"})
      if (leafOperand(name, {})) // the parser's own table decides
        out.push_back(name);
    for (const OperandInfo &info : kOperands)
      if (info.token &&
          std::find(out.begin(), out.end(), info.spelling) == out.end())
        out.push_back(info.spelling);
    return out;
  }();
  return names;
}

const std::vector<std::string> &tokenUnaries() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> out{"x"};
    for (const UnaryToken &u : unaryTokens())
      out.push_back(u.name);
    return out;
  }();
  return names;
}

const std::vector<std::string> &tokenBinaries() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> out;
    for (const BinaryInfo &info : kBinaryFns)
      out.push_back(info.mnemonic);
    return out;
  }();
  return names;
}

} // namespace nos
