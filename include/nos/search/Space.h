//===- Space.h - The token space the search samples rules from --*- C++ -*-===//
//
// A rule of the search is a fixed number of units `op1 op2 u1 u2 b` in the
// paper's token form (docs/language.md §5). The space names every position's
// valid tokens, so each strategy (the controller's masked softmax, random
// sampling, mutation) draws only sequences parseTokens accepts. Tokens are
// ids into one vocabulary: the operands, o1..o(K-1), the unary and the
// binary functions.
//
//===----------------------------------------------------------------------===//
#ifndef NOS_SEARCH_SPACE_H
#define NOS_SEARCH_SPACE_H

#include <string>
#include <vector>

namespace nos::search {

/// A sampled rule: one vocabulary id per position.
using Actions = std::vector<int>;

/// The named operand sets of Space, the paper's first.
const std::vector<std::string> &spaceNames();

class Space {
public:
  static constexpr int kMinUnits = 1, kMaxUnits = 3, kUnitLength = 5;

  /// Throws std::invalid_argument unless units is in [1, 3] and `name` is
  /// one of spaceNames(): "paper", every operand of the paper's space, or
  /// "no-optimizers", without the adam and rmsprop operands, which hand a
  /// strategy a known optimizer whole (a rule must then be built from g,
  /// its powers, running averages and signs).
  explicit Space(int units, const std::string &name = "paper");

  int units() const { return units_; }
  int length() const { return units_ * kUnitLength; }
  const std::vector<std::string> &vocabulary() const { return vocabulary_; }
  /// Vocabulary ids valid at position `pos` (0-based, < length()).
  const std::vector<int> &valid(int pos) const { return valid_[pos]; }
  /// valid(pos) as a 0/1 mask over the vocabulary.
  std::vector<bool> mask(int pos) const;

  /// True when `actions` has length() ids, each valid at its position.
  bool contains(const Actions &actions) const;
  /// The token-form text, units separated by " ; ".
  std::string tokens(const Actions &actions) const;
  /// The ids of a token-form text; empty when it is not in this space.
  Actions parse(const std::string &tokens) const;

private:
  int units_;
  std::vector<std::string> vocabulary_;
  std::vector<std::vector<int>> valid_;
};

} // namespace nos::search

#endif // NOS_SEARCH_SPACE_H
