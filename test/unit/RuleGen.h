//===- RuleGen.h - Seeded random rules for tests ----------------*- C++ -*-===//
//
// Generators shared by the unit and differential tests: random rules in the
// paper's token form (what the search controller samples, parsed with
// parseTokens) and random infix trees that also cover what the token form
// cannot express (ema, cd(n), negative literals, arbitrary nesting). Only
// the raw engine output is used, never std::*_distribution, so a seed gives
// the same rules with every standard library.
//
//===----------------------------------------------------------------------===//
#ifndef NOS_TEST_UNIT_RULEGEN_H
#define NOS_TEST_UNIT_RULEGEN_H

#include "nos/AST.h"
#include "nos/Tokens.h"

#include <cstdint>
#include <random>
#include <string>
#include <vector>

namespace nos::test {

inline size_t pick(std::mt19937_64 &rng, size_t n) {
  return static_cast<size_t>(rng() % n);
}

/// One rule per operand (every row of Operands.def), function and operator
/// of the language.
inline std::vector<const char *> primitiveRules() {
  std::vector<const char *> rules;
  for (const OperandInfo &info : kOperands)
    rules.push_back(info.spelling);
  for (const char *rule : {"ld",
                           "cd",
                           "rd",
                           "cd(3)",
                           "rd(2)",
                           "2.5",
                           "-g",
                           "exp(g)",
                           "log(g)",
                           "sqrt(g)",
                           "sign(g)",
                           "clip(g, 1e-3)",
                           "drop(g, 0.3)",
                           "g + m",
                           "g - m",
                           "g * m",
                           "g / m",
                           "g ^ m",
                           "m ^ 2",
                           "(-2) ^ g",
                           "g ^ 0.5",
                           "left(g, m)",
                           "ema(g, 0.9)",
                           "sign(ema(g2, 0.5))",
                           "exp(sign(g) * sign(m)) * g",
                           "(1 + sign(g) * sign(m)) * g",
                           "1e-4 * w + g"})
    rules.push_back(rule);
  return rules;
}

/// The classic optimizers and the paper's rules, as strings.
inline std::vector<const char *> classicRules() {
  return {"10 * ema(g, 0.9)",
          "g / (sqrt(ema(g2, 0.99)) + 1e-8)",
          "exp(ld * sign(g) * sign(m)) * g",
          "(1 + cd * sign(g) * sign(m)) * g",
          "sign(ema(g, 0.99)) + 0.001 * w",
          "drop(g, 0.5) * exp(noise)",
          "anoise * drop(m, 0.1) + noise"};
}

/// A random token-form rule of `units` (>= 1) units; unit k may use the
/// outputs o1 .. o(k-1).
inline std::string randomTokenString(std::mt19937_64 &rng, int units) {
  static const char *const operands[] = {
      "g",       "g2",   "g3",      "m",     "v",     "gamma", "sign(g)",
      "sign(m)", "1",    "2",       "noise", "1e-4w", "1e-3w", "1e-2w",
      "1e-1w",   "adam", "rmsprop", "ld",    "cd",    "rd",    "anoise"};
  static const char *const unaries[] = {
      "x",        "neg",      "exp",     "log",     "sqrt",    "clip1e-5",
      "clip1e-4", "clip1e-3", "drop0.1", "drop0.3", "drop0.5", "sign"};
  static const char *const binaries[] = {"add", "sub", "mul",
                                         "div", "pow", "left"};
  std::string out;
  for (int k = 1; k <= units; ++k) {
    if (k > 1)
      out += pick(rng, 2) ? " ; " : " ";
    for (int i = 0; i < 2; ++i) {
      // Prefer earlier outputs so that rules actually compose.
      if (k > 1 && pick(rng, 2))
        out += "o" + std::to_string(1 + pick(rng, k - 1));
      else
        out += operands[pick(rng, std::size(operands))];
      out += ' ';
    }
    for (int i = 0; i < 2; ++i) {
      out += unaries[pick(rng, std::size(unaries))];
      out += ' ';
    }
    out += binaries[pick(rng, std::size(binaries))];
  }
  return out;
}

/// parseTokens(randomTokenString(rng, units)); never null for units <= 8.
inline ExprPtr randomTokenRule(std::mt19937_64 &rng, int units) {
  return parseTokens(randomTokenString(rng, units)).expr;
}

/// A random literal: small integers, decimal fractions, tiny and huge
/// magnitudes, and sometimes negative (which the printer must handle).
inline double randomLiteral(std::mt19937_64 &rng) {
  static const double values[] = {0,    1,       2,      0.5,      3,
                                  1e-4, 1e-8,    0.1,    0.3,      0.999,
                                  1e20, 123.456, 7e-310, 1.0 / 3.0};
  double v = values[pick(rng, std::size(values))];
  return pick(rng, 4) == 0 ? -v : v;
}

/// A random infix tree of height at most `depth` over the whole language.
inline ExprPtr randomInfixRule(std::mt19937_64 &rng, int depth) {
  auto sub = [&] { return randomInfixRule(rng, depth - 1); };
  size_t choice = depth <= 1 ? pick(rng, 3) : pick(rng, 7);
  switch (choice) {
  case 0:
    return makeOperand(static_cast<Operand>(pick(rng, 11)));
  case 1:
    return makeLiteral(randomLiteral(rng));
  case 2: {
    auto s = static_cast<Schedule>(pick(rng, 3));
    double n = pick(rng, 2) ? defaultScheduleN(s) : 0.25 * (1 + pick(rng, 8));
    return makeSchedule(s, n);
  }
  case 3: {
    // Every row of Functions.def, with a literal of its Param's range.
    auto fn = static_cast<UnaryFn>(pick(rng, kNumUnaryFns));
    FnParam kind = unaryInfo(fn).param;
    double param = kind == FnParam::Bound         ? 1e-3 * (1 + pick(rng, 5))
                   : kind == FnParam::Probability ? 0.1 * pick(rng, 10)
                                                  : 0.0;
    return makeUnary(fn, sub(), param);
  }
  case 4:
  case 5: {
    auto fn = static_cast<BinaryFn>(pick(rng, kNumBinaryFns));
    return makeBinary(fn, sub(), sub());
  }
  default:
    return makeEma(sub(), 0.1 * pick(rng, 10));
  }
}

} // namespace nos::test

#endif // NOS_TEST_UNIT_RULEGEN_H
