//===- Parser.h - Parse update rules ----------------------------*- C++ -*-===//
//
// The infix parser (lib/Frontend/Parser.cpp) and its limits. Errors are
// values, not exceptions, so the same API serves -fno-exceptions compiler
// code and torch code alike.
//
//===----------------------------------------------------------------------===//
#ifndef NOS_PARSER_H
#define NOS_PARSER_H

#include "nos/AST.h"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

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

/// Rules parsed by this process so far (parseRule and parseTokens, every
/// call): how often a rule is re-read on its way down the layers.
uint64_t parseCount();

/// Parses the infix language (language.md §2-4).
ParseResult parseRule(std::string_view source);

} // namespace nos

#endif // NOS_PARSER_H
