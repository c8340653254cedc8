//===- Lexer.h - Tokens of the infix rule language --------------*- C++ -*-===//
//
// Private to the frontend. The lexer turns a rule into a token vector up
// front (rules are at most kMaxRuleLength characters), keeping malformed
// input as Error tokens so that the parser reports the leftmost problem.
//
//===----------------------------------------------------------------------===//
#ifndef NOS_LIB_FRONTEND_LEXER_H
#define NOS_LIB_FRONTEND_LEXER_H

#include "nos/AST.h"

#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace nos {

/// parseCount()'s counter, shared by the two parsers.
std::atomic<uint64_t> &parses();

enum class TokKind {
  End,
  Ident,
  Number,
  LParen,
  RParen,
  Comma,
  Plus,
  Minus,
  Star,
  Slash,
  Caret,
  Error
};

struct Token {
  TokKind kind = TokKind::End;
  std::string_view text;
  SourceLoc loc;
  double value = 0.0;  // Number only.
  std::string message; // Error only: what is wrong with the text.
};

/// Splits `source` into tokens; the last one is always End.
std::vector<Token> lexRule(std::string_view source);

/// 1-based line and column of byte `offset` in `source`.
SourceLoc locationOf(std::string_view source, size_t offset);

/// How a diagnostic names a token: "end of rule" or the quoted text.
std::string describe(const Token &t);

/// Shortest decimal text that reads back as exactly `v`.
std::string formatNumber(double v);

} // namespace nos

#endif // NOS_LIB_FRONTEND_LEXER_H
