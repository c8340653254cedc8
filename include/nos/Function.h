//===- Function.h - The functions of the rule language ----------*- C++ -*-===//
//
// nos::UnaryFn, nos::BinaryFn and what each function is, expanded from
// Functions.def. Header only, with no dependency, so the parser, the
// printer, the token form, the dialect and the IR builder ask one table.
//
//===----------------------------------------------------------------------===//
#ifndef NOS_FUNCTION_H
#define NOS_FUNCTION_H

#include <cstddef>

namespace nos {

/// Unary functions (language.md §3), in the table's order.
enum class UnaryFn {
#define NOS_UNARY(Name, Mnemonic, Spelling, Param, TokenParams, Summary) Name,
#define NOS_BINARY(Name, Mnemonic, Spelling, Syntax, Kind, Summary)
#include "nos/Functions.def"
};

/// Binary functions (language.md §3), in the table's order.
enum class BinaryFn {
#define NOS_UNARY(Name, Mnemonic, Spelling, Param, TokenParams, Summary)
#define NOS_BINARY(Name, Mnemonic, Spelling, Syntax, Kind, Summary) Name,
#include "nos/Functions.def"
};

/// The literal parameter of a unary function (the Param column).
enum class FnParam { NoParam, Bound, Probability };
/// How a binary function is written (the Syntax column).
enum class FnSyntax { Additive, Multiplicative, Power, Call };

/// One unary row of Functions.def.
struct UnaryInfo {
  UnaryFn fn;
  const char *mnemonic;
  const char *spelling;
  FnParam param;
  const char *tokenParams;
  const char *summary;
};

/// One binary row of Functions.def.
struct BinaryInfo {
  BinaryFn fn;
  const char *mnemonic;
  const char *spelling;
  FnSyntax syntax;
  bool chain;
  const char *summary;
};

inline constexpr UnaryInfo kUnaryFns[] = {
#define NOS_UNARY(Name, Mnemonic, Spelling, Param, TokenParams, Summary)       \
  {UnaryFn::Name, Mnemonic, Spelling, FnParam::Param, TokenParams, Summary},
#define NOS_BINARY(Name, Mnemonic, Spelling, Syntax, Kind, Summary)
#include "nos/Functions.def"
};
inline constexpr size_t kNumUnaryFns = sizeof(kUnaryFns) / sizeof(kUnaryFns[0]);

namespace detail {
inline constexpr bool kPlain = false;
inline constexpr bool kChain = true;
} // namespace detail

inline constexpr BinaryInfo kBinaryFns[] = {
#define NOS_UNARY(Name, Mnemonic, Spelling, Param, TokenParams, Summary)
#define NOS_BINARY(Name, Mnemonic, Spelling, Syntax, Kind, Summary)            \
  {BinaryFn::Name,   Mnemonic,        Spelling,                                \
   FnSyntax::Syntax, detail::k##Kind, Summary},
#include "nos/Functions.def"
};
inline constexpr size_t kNumBinaryFns =
    sizeof(kBinaryFns) / sizeof(kBinaryFns[0]);

/// The row of `fn`.
constexpr const UnaryInfo &unaryInfo(UnaryFn fn) {
  return kUnaryFns[static_cast<size_t>(fn)];
}
constexpr const BinaryInfo &binaryInfo(BinaryFn fn) {
  return kBinaryFns[static_cast<size_t>(fn)];
}

} // namespace nos

#endif // NOS_FUNCTION_H
