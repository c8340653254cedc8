//===- Builtins.cpp - Named rules: classic optimizers and the paper's -----===//
//
// Each entry is exact, not an approximation, for the defaults stated beside
// it: PyTorch's momentum buffer b <- mu b + g is 10 * ema(g, 0.9) (an ema is
// (1 - mu) b), its Nesterov update g + mu b is g + 9 * ema(g, 0.9), and its
// RMSprop (alpha 0.99, eps outside the root, no bias correction) is written
// out with ema, its eps being the protected division's delta (1e-8). PowerSign
// and AddSign follow TensorFlow's contrib optimizers (base e, alpha 1, momentum
// updated before its sign; bias correction cannot change a sign). Lion-like:
// sign of the interpolated momentum, beta 0.9. dropsign-cd is the best rule
// the search has found (docs/search.md, the no-optimizers run's final
// table): the sign of momentum, each step kept with probability 1/2, scaled
// by the square root of cosine decay; it needs totalSteps. dropsign-gm
// (a second no-optimizers seed's table): the sign of the gradient, kept with
// probability 0.9, plus twice the sign of momentum, kept with probability
// 0.7. signsgd-sqrt-ld is the best on the character LSTM (a search with the
// text task in its L3): signSGD on the square root of linear decay; it needs
// totalSteps. agreesign-cd (Lion-style evolution without the optimizer
// operands) steps by the sign of the gradient only where gradient and
// momentum agree, on the square root of cosine decay; it needs totalSteps.
// coinsign-cd (the same search, another seed): each element steps by the sign
// of the gradient or of momentum, a coin toss apiece (|m| < 1 leaves
// sign(g) in charge whenever it is kept), and only half the time, by cosine
// decay; it needs totalSteps. agreesign-ld (the same search, a third seed):
// agreesign's step, 2 sign(g) where gradient and momentum agree and 0 where
// they do not, on linear decay; it needs totalSteps.
//
//===----------------------------------------------------------------------===//
#include "nos/Builtins.h"

#include <utility>

namespace nos {

static const std::pair<const char *, const char *> kBuiltins[] = {
    {"sgd", "g"},
    {"momentum", "10 * ema(g, 0.9)"},
    {"nesterov", "g + 9 * ema(g, 0.9)"},
    {"adam", "adam"},
    {"rmsprop", "g / sqrt(ema(g2, 0.99))"},
    {"powersign", "exp(sign(g) * sign(m)) * g"},
    {"powersign-ld", "exp(ld * sign(g) * sign(m)) * g"},
    {"powersign-cd", "exp(cd * sign(g) * sign(m)) * g"},
    {"powersign-rd", "exp(rd * sign(g) * sign(m)) * g"},
    {"addsign", "(1 + sign(g) * sign(m)) * g"},
    {"addsign-ld", "(1 + ld * sign(g) * sign(m)) * g"},
    {"addsign-cd", "(1 + cd * sign(g) * sign(m)) * g"},
    {"addsign-rd", "(1 + rd * sign(g) * sign(m)) * g"},
    {"lion", "sign(ema(g, 0.9))"},
    {"dropsign-cd", "drop(sign(m), 0.5) * sqrt(cd)"},
    {"dropsign-gm", "drop(sign(g), 0.1) + drop(sign(m) + sign(m), 0.3)"},
    {"signsgd-sqrt-ld", "sign(g) * sqrt(ld)"},
    {"agreesign-cd", "sign(sign(g) + sign(m)) * sqrt(cd)"},
    {"coinsign-cd", "drop(cd, 0.5) * sign(drop(sign(g), 0.5) + m)"},
    {"agreesign-ld", "(sign(g) + sign(m)) * ld"},
};

const char *builtinRule(std::string_view name) {
  for (const auto &[builtin, rule] : kBuiltins)
    if (name == builtin)
      return rule;
  return nullptr;
}

std::vector<std::string> builtinNames() {
  std::vector<std::string> names;
  for (const auto &entry : kBuiltins)
    names.push_back(entry.first);
  return names;
}

const std::vector<std::string> &referenceNames() {
  static const std::vector<std::string> names = {
      "sgd", "momentum", "adam", "rmsprop", "powersign", "addsign"};
  return names;
}

ParseResult parseRuleOrBuiltin(std::string_view nameOrRule) {
  if (const char *rule = builtinRule(nameOrRule))
    return parseRule(rule);
  return parseRule(nameOrRule);
}

} // namespace nos
