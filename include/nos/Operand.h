//===- Operand.h - The operands of the rule language ------------*- C++ -*-===//
//
// nos::Operand and what each operand is, expanded from Operands.def. Header
// only, with no dependency, so the dialect, the runtime and torch-facing code
// can ask the same table the parser uses.
//
//===----------------------------------------------------------------------===//
#ifndef NOS_OPERAND_H
#define NOS_OPERAND_H

#include <cstddef>

namespace nos {

/// Per-element operands (language.md §2). Order is part of the canonical
/// ordering.
enum class Operand {
#define NOS_OPERAND(Name, Spelling, Kind, Reads, Token, Summary) Name,
#include "nos/Operands.def"
};

/// The running averages an operand reads (the Reads column).
enum OperandReads : unsigned {
  ReadsNone = 0,
  ReadsM = 1,
  ReadsV = 2,
  ReadsGamma = 4,
};

/// One row of Operands.def.
struct OperandInfo {
  Operand op;
  const char *spelling;
  bool random;
  unsigned reads;
  bool token;
  const char *summary;
};

namespace detail {
inline constexpr bool kLeaf = false;
inline constexpr bool kStochasticLeaf = true;
} // namespace detail

/// Every operand, in canonical order.
inline constexpr OperandInfo kOperands[] = {
#define NOS_OPERAND(Name, Spelling, Kind, Reads, Token, Summary)               \
  {Operand::Name, Spelling, detail::k##Kind, Reads, Token != 0, Summary},
#include "nos/Operands.def"
};
inline constexpr size_t kNumOperands = sizeof(kOperands) / sizeof(kOperands[0]);

/// The row of `op`.
constexpr const OperandInfo &operandInfo(Operand op) {
  return kOperands[static_cast<size_t>(op)];
}

} // namespace nos

#endif // NOS_OPERAND_H
