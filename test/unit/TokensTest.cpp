//===- TokensTest.cpp - The paper's token form ----------------------------===//
//
// Checks that token-form rules build the same trees as their infix
// spellings, every operand and function token, the diagnostics with their
// positions, and the limits that keep a token rule printable and re-parsable.
//
//===----------------------------------------------------------------------===//

#include "nos/Tokens.h"
#include "RuleGen.h"
#include "nos/Parser.h"
#include "nos/Printer.h"

#include <catch2/catch.hpp>

using namespace nos;

namespace {

std::string infixOf(const std::string &tokens) {
  ParseResult r = parseTokens(tokens);
  INFO(tokens << " -> " << r.error.str());
  REQUIRE(r);
  return printRule(*r.expr);
}

/// The token rule and the infix rule are the same tree.
void checkSame(const std::string &tokens, const std::string &infix) {
  ParseResult t = parseTokens(tokens), i = parseRule(infix);
  INFO(tokens << " vs " << infix);
  REQUIRE(t);
  REQUIRE(i);
  CHECK(structurallyEqual(*t.expr, *i.expr));
}

std::string errorOf(const std::string &tokens) {
  ParseResult r = parseTokens(tokens);
  INFO(tokens);
  REQUIRE_FALSE(r);
  return r.error.str();
}

} // namespace

TEST_CASE("paper rules in token form", "[tokens]") {
  checkSame("sign(g) sign(m) x x mul ; o1 g exp x mul",
            "exp(sign(g) * sign(m)) * g");
  checkSame("sign(g) sign(m) x x mul ; 1 o1 x x add ; o2 g x x mul",
            "(1 + sign(g) * sign(m)) * g");
  // ';' is optional between complete units.
  checkSame("sign(g) sign(m) x x mul 1 o1 x x add o2 g x x mul",
            "(1 + sign(g) * sign(m)) * g");
  checkSame("g m x x add;g v x x sub", "g - v");
  checkSame("g m x x add ;", "g + m");
  CHECK(infixOf("ld sign(g) x x mul ; o1 sign(m) x x mul ; o2 g exp x mul") ==
        "exp(ld * sign(g) * sign(m)) * g");
}

TEST_CASE("every token", "[tokens]") {
  checkSame("g 1e-4w x x add", "g + 0.0001 * w");
  CHECK(infixOf("g 1e-4w x x add") == "g + 0.0001 * w");
  checkSame("1e-3w 1e-2w x x add ; 1e-1w o1 x x sub",
            "0.1 * w - (0.001 * w + 0.01 * w)");
  checkSame("g m clip1e-5 drop0.3 left", "left(clip(g, 1e-5), drop(m, 0.3))");
  checkSame("g m clip1e-4 clip1e-3 div", "clip(g, 1e-4) / clip(m, 1e-3)");
  checkSame("g m drop0.1 drop0.5 pow", "drop(g, 0.1) ^ drop(m, 0.5)");
  checkSame("g2 g3 exp log mul", "exp(g2) * log(g3)");
  checkSame("gamma v sqrt sign add", "sqrt(gamma) + sign(v)");
  checkSame("noise anoise neg x sub", "-noise - anoise");
  checkSame("adam rmsprop x x mul", "adam * rmsprop");
  checkSame("ld cd x x add ; rd o1 x x add", "rd + (ld + cd)");
  checkSame("2 1 x x sub", "2 - 1");
  checkSame("sign(g) sign(m) x x div", "sign(g) / sign(m)");
  // neg of a literal is Neg(Literal), which prints as -(1) to stay that way.
  ParseResult r = parseTokens("1 g neg x add");
  REQUIRE(r);
  CHECK(r.expr->lhs->kind == Expr::Kind::Unary);
  CHECK(printRule(*r.expr) == "-(1) + g");
  CHECK(structurallyEqual(*parseRule(printRule(*r.expr)).expr, *r.expr));
}

TEST_CASE("unit outputs are shared subtrees", "[tokens]") {
  ParseResult r = parseTokens("g m x x add ; o1 o1 x x mul");
  REQUIRE(r);
  CHECK(r.expr->lhs == r.expr->rhs);
  CHECK(printRule(*r.expr) == "(g + m) * (g + m)");
}

TEST_CASE("token locations", "[tokens]") {
  ParseResult r = parseTokens("g m x x add ;\n  o1 g exp x mul");
  REQUIRE(r);
  CHECK(r.expr->loc.line == 2);
  CHECK(r.expr->loc.column == 14);
  CHECK(r.expr->lhs->loc.column == 8); // exp
  CHECK(r.expr->rhs->loc.column == 6); // g
}

TEST_CASE("token diagnostics", "[tokens][errors]") {
  const std::string operands =
      "g, g2, g3, m, v, gamma, sign(g), sign(m), 1, 2, noise, 1e-4w, 1e-3w, "
      "1e-2w, 1e-1w, adam, rmsprop, ld, cd, rd, anoise or oK (the output of "
      "an earlier unit K)";
  CHECK(errorOf("foo m x x add") ==
        "1:1: error: token 1 'foo' is not an operand; expected one of " +
            operands);
  CHECK(errorOf("g bar x x add") ==
        "1:3: error: token 2 'bar' is not an operand; expected one of " +
            operands);
  CHECK(errorOf("g m y x add") ==
        "1:5: error: token 3 'y' is not a unary function; expected one of x, "
        "neg, exp, log, sqrt, sign, clip1e-5, clip1e-4, clip1e-3, drop0.1, "
        "drop0.3, drop0.5");
  CHECK(errorOf("g m x -x add").substr(0, 45) ==
        "1:7: error: token 4 '-x' is not a unary funct");
  CHECK(errorOf("g m x x plus") ==
        "1:9: error: token 5 'plus' is not a binary function; expected one "
        "of add, sub, mul, div, pow, left");
  CHECK(errorOf("o1 g x x add") ==
        "1:1: error: token 1 'o1' in unit 1 does not name an earlier unit's "
        "output (unit 1 has none)");
  CHECK(errorOf("g m x x add ; o2 g x x add") ==
        "1:15: error: token 6 'o2' in unit 2 does not name an earlier unit's "
        "output (o1 to o1)");
  CHECK(errorOf("g m x x add ; g m x x add ; g o0 x x add") ==
        "1:31: error: token 12 'o0' in unit 3 does not name an earlier "
        "unit's output (o1 to o2)");
  CHECK(errorOf("g m x x add ; o99999999999 g x x add").substr(0, 39) ==
        "1:15: error: token 6 'o99999999999' in ");
  CHECK(errorOf("g m x x") ==
        "1:8: error: unit 1 has 4 tokens; expected 5 (op1 op2 u1 u2 b)");
  CHECK(errorOf("g m x x add ; g m x x ; g m x x add") ==
        "1:23: error: unit 2 has 4 tokens; expected 5 (op1 op2 u1 u2 b)");
  CHECK(errorOf("; g m x x add") ==
        "1:1: error: unit 1 has 0 tokens; expected 5 (op1 op2 u1 u2 b)");
  CHECK(errorOf("g m x x add ;; g m x x add") ==
        "1:14: error: unit 2 has 0 tokens; expected 5 (op1 op2 u1 u2 b)");
  CHECK(errorOf("  \n ") == "1:1: error: empty token rule; expected units "
                            "of 5 tokens op1 op2 u1 u2 b");
  CHECK(errorOf("g m x x add\ng m x x add\nq m x x add") ==
        "3:1: error: token 11 'q' is not an operand; expected one of " +
            operands);
}

TEST_CASE("token rules that would break parseRule's limits", "[tokens]") {
  std::string chain = "g m x x add";
  for (int k = 2; k <= 300; ++k)
    chain += " ; o" + std::to_string(k - 1) + " g x x add";
  ParseResult r = parseTokens(chain);
  REQUIRE_FALSE(r);
  CHECK(r.error.message ==
        "token 995 'add' makes the rule nest deeper than 200 levels");

  std::string doubling = "g m x x add";
  for (int k = 2; k <= 30; ++k)
    doubling += " ; o" + std::to_string(k - 1) + " o" + std::to_string(k - 1) +
                " x x add";
  r = parseTokens(doubling);
  REQUIRE_FALSE(r);
  CHECK(r.error.message ==
        "token 80 'add' makes the rule expand to more than 65536 nodes");

  // Few nodes, but each leaf prints long: the printed length is checked.
  std::string wide = "1e-4w 1e-4w x x add";
  for (int k = 2; k <= 13; ++k)
    wide += " ; o" + std::to_string(k - 1) + " o" + std::to_string(k - 1) +
            " x x add";
  r = parseTokens(wide);
  REQUIRE_FALSE(r);
  CHECK(r.error.message.find("token rule prints as ") == 0);

  std::string huge(70000, ' ');
  r = parseTokens(huge);
  REQUIRE_FALSE(r);
  CHECK(r.error.message == "token rule is 70000 characters long; the limit "
                           "is 65536");
}

TEST_CASE("generated token rules parse and re-parse", "[tokens]") {
  std::mt19937_64 rng(99);
  for (int i = 0; i < 2000; ++i) {
    std::string s = test::randomTokenString(rng, 1 + i % 8);
    ParseResult r = parseTokens(s);
    INFO(s << " -> " << r.error.str());
    REQUIRE(r);
    ParseResult again = parseRule(printRule(*r.expr));
    REQUIRE(again);
    CHECK(structurallyEqual(*again.expr, *r.expr));
  }
  // The generator is deterministic for a seed.
  std::mt19937_64 a(5), b(5);
  CHECK(test::randomTokenString(a, 4) == test::randomTokenString(b, 4));
  std::mt19937_64 c(5);
  CHECK(test::randomTokenRule(c, 4) != nullptr);
}
