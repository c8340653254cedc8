//===- Frontend.h - Parse and print update rules ----------------*- C++ -*-===//
//
// Entry points of the frontend: the infix parser, the paper's token form and
// the canonical printer. Errors are values, not exceptions, so the same API
// serves -fno-exceptions compiler code and torch code alike.
//
//===----------------------------------------------------------------------===//
#ifndef NOS_FRONTEND_H
#define NOS_FRONTEND_H

#include "nos/AST.h"

#include <string>
#include <string_view>
#include <vector>

namespace nos {

/// Limits that turn hostile input into an error instead of a stack overflow.
/// Nesting (parentheses, calls, unary minus) is what a person writes deep;
/// a chain of one operator (g + m + ... ) is not nesting to its writer but
/// still makes a tree as tall as it is long, which every later walk (printer,
/// IR builder, raising, reference) recurses down, so it has a limit of its
/// own, far above the nesting one.
inline constexpr size_t kMaxRuleLength = 64 * 1024;
inline constexpr int kMaxNestingDepth = 200;
inline constexpr int kMaxTreeHeight = 1024;

struct Diagnostic {
  SourceLoc loc;
  std::string message; // e.g. "expected ')' after argument, found 'g'"
  /// "line:col: error: message".
  std::string str() const;
};

struct ParseResult {
  ExprPtr expr;     // null on error
  Diagnostic error; // meaningful only when expr is null
  explicit operator bool() const { return expr != nullptr; }
};

/// Parses the infix language (DSL §3-5).
ParseResult parseRule(std::string_view source);

/// Parses the paper's token form (DSL §8): units of 5 whitespace-separated
/// tokens `op1 op2 u1 u2 b`, optionally separated by ';'. Operand tokens:
/// g g2 g3 m v gamma sign(g) sign(m) 1 2 noise 1e-4w 1e-3w 1e-2w 1e-1w adam
/// rmsprop ld cd rd anoise, and oK for the output of the K-th unit (1-based,
/// K < current unit). Unary: x neg exp log sqrt clip1e-5 clip1e-4 clip1e-3
/// drop0.1 drop0.3 drop0.5 sign. Binary: add sub mul div pow left.
/// The last unit is the update. Example (PowerSign):
///   "sign(g) sign(m) x x mul ; o1 g exp x mul"
ParseResult parseTokens(std::string_view tokens);

/// The vocabulary of each position of a token-form unit, in a fixed order
/// (the search controller's softmax order): operands without the `oK`
/// outputs, unary functions with "x" first, binary functions. parseTokens
/// accepts exactly these, so a sampler that draws from them cannot produce
/// a rule the parser rejects.
const std::vector<std::string> &tokenOperands();
const std::vector<std::string> &tokenUnaries();
const std::vector<std::string> &tokenBinaries();

/// Prints a rule in the canonical infix form: minimal parentheses, literals
/// in shortest round-trip form; parseRule(printRule(e)) is structurally equal
/// to e.
std::string printRule(const Expr &e);

/// Structural equality (ignores source locations).
bool structurallyEqual(const Expr &a, const Expr &b);

/// Prints the tree one node per line with locations (nosc --emit=ast).
std::string dumpTree(const Expr &e);

} // namespace nos

#endif // NOS_FRONTEND_H
