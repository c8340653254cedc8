//===- Tokens.h - The paper's token form of a rule --------------*- C++ -*-===//
//
// Parsing the five-token units the search controller writes, and the
// vocabulary of each position (lib/Frontend/Tokens.cpp).
//
//===----------------------------------------------------------------------===//
#ifndef NOS_TOKENS_H
#define NOS_TOKENS_H

#include "nos/Parser.h"

#include <string>
#include <string_view>
#include <vector>

namespace nos {

/// Parses the paper's token form (language.md §5): units of 5
/// whitespace-separated tokens `op1 op2 u1 u2 b`, optionally separated by ';'.
/// Operand tokens: g g2 g3 m v gamma sign(g) sign(m) 1 2 noise 1e-4w 1e-3w
/// 1e-2w 1e-1w adam rmsprop ld cd rd anoise, and oK for the output of the K-th
/// unit (1-based, K < current unit). Unary: x, then the words of
/// Functions.def (neg exp log sqrt sign clip1e-5 clip1e-4 clip1e-3 drop0.1
/// drop0.3 drop0.5). Binary: add sub mul div pow left. The last unit is the
/// update. Example (PowerSign):
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

} // namespace nos

#endif // NOS_TOKENS_H
