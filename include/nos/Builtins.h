//===- Builtins.h - Named rules ---------------------------------*- C++ -*-===//
//
// The built-in optimizers as rule strings in the language, so that a name is
// only a spelling: sgd, momentum and friends compile through the same path as
// any searched rule and are checked against torch::optim by the tests.
//
//===----------------------------------------------------------------------===//
#ifndef NOS_BUILTINS_H
#define NOS_BUILTINS_H

#include "nos/Parser.h"

#include <string>
#include <string_view>
#include <vector>

namespace nos {

/// The rule text of a built-in name, or nullptr.
const char *builtinRule(std::string_view name);

/// Every built-in name, in a stable order.
std::vector<std::string> builtinNames();

/// The optimizers the paper compares against, by built-in name: sgd,
/// momentum, adam, rmsprop, powersign, addsign. The search scores them as
/// references, the studies re-train them, nos-bench measures them.
const std::vector<std::string> &referenceNames();

/// A built-in name or a rule string; an unknown name that does not parse as
/// a rule gets the parser's error.
ParseResult parseRuleOrBuiltin(std::string_view nameOrRule);

} // namespace nos

#endif // NOS_BUILTINS_H
