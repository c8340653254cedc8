//===- FrontendTest.cpp - Parser, printer and tree utilities --------------===//
//
// Checks the infix grammar (precedence, associativity, literals, schedules),
// every parser diagnostic with its exact position, the limits that protect
// against hostile input, and that the canonical printer round-trips on
// hand-written and thousands of generated rules.
//
//===----------------------------------------------------------------------===//

#include "RuleGen.h"
#include "TestSupport.h"

#include "nos/Parser.h"
#include "nos/Printer.h"
#include "nos/Tokens.h"

#include <catch2/catch.hpp>

#include <cmath>

using namespace nos;

namespace {

using nos::test::parse;

std::string canonical(const std::string &s) { return printRule(*parse(s)); }

std::string errorOf(const std::string &s) {
  ParseResult r = parseRule(s);
  INFO(s);
  REQUIRE_FALSE(r);
  return r.error.str();
}

/// parse(print(e)) == e, and printing is idempotent.
void checkRoundTrip(const Expr &e) {
  std::string text = printRule(e);
  ParseResult r = parseRule(text);
  INFO(text << " -> " << r.error.str() << "\n" << dumpTree(e));
  REQUIRE(r);
  CHECK(structurallyEqual(e, *r.expr));
  CHECK(printRule(*r.expr) == text);
}

} // namespace

TEST_CASE("paper rules print canonically", "[frontend]") {
  CHECK(canonical("exp(sign(g)*sign(m))*g") == "exp(sign(g) * sign(m)) * g");
  CHECK(canonical("(1+sign(g)*sign(m))*g") == "(1 + sign(g) * sign(m)) * g");
  CHECK(canonical("exp(ld * sign(g) * sign(m)) * g") ==
        "exp(ld * sign(g) * sign(m)) * g");
  CHECK(canonical(" (\n1 +\tcd*sign(g)*sign(m)) * g ") ==
        "(1 + cd * sign(g) * sign(m)) * g");
}

TEST_CASE("precedence and associativity", "[frontend]") {
  ExprPtr e = parse("-g^2");
  REQUIRE(e->kind == Expr::Kind::Unary);
  CHECK(e->unary == UnaryFn::Neg);
  CHECK(e->lhs->binary == BinaryFn::Pow);

  e = parse("2^-1");
  REQUIRE(e->kind == Expr::Kind::Binary);
  CHECK(e->binary == BinaryFn::Pow);
  CHECK(e->rhs->kind == Expr::Kind::Literal);
  CHECK(e->rhs->param == -1.0);

  e = parse("g ^ m ^ v");
  CHECK(e->rhs->kind == Expr::Kind::Binary);
  e = parse("g - m - v");
  CHECK(e->lhs->kind == Expr::Kind::Binary);
  e = parse("g + m * v");
  CHECK(e->binary == BinaryFn::Add);
  e = parse("-g * m");
  CHECK(e->binary == BinaryFn::Mul);
  CHECK(e->lhs->unary == UnaryFn::Neg);

  CHECK(canonical("g - (m - v)") == "g - (m - v)");
  CHECK(canonical("(g - m) - v") == "g - m - v");
  CHECK(canonical("g + (m + v)") == "g + (m + v)");
  CHECK(canonical("g / (m * v)") == "g / (m * v)");
  CHECK(canonical("(g ^ m) ^ v") == "(g ^ m) ^ v");
  CHECK(canonical("g ^ (m ^ v)") == "g ^ m ^ v");
  CHECK(canonical("-(g ^ 2)") == "-g ^ 2");
  CHECK(canonical("(-g) ^ 2") == "(-g) ^ 2");
  CHECK(canonical("-(g + m)") == "-(g + m)");
  CHECK(canonical("g * -m") == "g * -m");
  CHECK(canonical("--g") == "--g");
  CHECK(canonical("((g))") == "g");
}

TEST_CASE("negative literals", "[frontend]") {
  ExprPtr e = parse("-2");
  REQUIRE(e->kind == Expr::Kind::Literal);
  CHECK(e->param == -2.0);
  CHECK(e->loc.column == 1);

  e = parse("-(2)");
  REQUIRE(e->kind == Expr::Kind::Unary);
  CHECK(e->lhs->param == 2.0);

  e = parse("-2 ^ g"); // '^' binds tighter: -(2 ^ g)
  REQUIRE(e->kind == Expr::Kind::Unary);
  CHECK(e->lhs->kind == Expr::Kind::Binary);

  CHECK(canonical("(-2) ^ g") == "(-2) ^ g");
  CHECK(canonical("g ^ -2") == "g ^ -2");
  CHECK(canonical("g - -2") == "g - -2");
  CHECK(canonical("-(2)") == "-(2)");
  CHECK(canonical("--2") == "--2");
  CHECK(std::signbit(parse("-0")->param));
  CHECK_FALSE(structurallyEqual(*parse("-0"), *parse("0")));

  for (double v : {-2.0, -0.5, -1e-4, -0.0, 3.0})
    for (const char *shape : {"lit", "neg", "powbase", "powexp", "mulrhs"}) {
      ExprPtr lit = makeLiteral(v), g = makeOperand(Operand::G);
      std::string s = shape;
      ExprPtr e = s == "lit"       ? lit
                  : s == "neg"     ? makeUnary(UnaryFn::Neg, lit)
                  : s == "powbase" ? makeBinary(BinaryFn::Pow, lit, g)
                  : s == "powexp"  ? makeBinary(BinaryFn::Pow, g, lit)
                                   : makeBinary(BinaryFn::Mul, g, lit);
      checkRoundTrip(*e);
    }
}

TEST_CASE("numeric literals", "[frontend]") {
  CHECK(parse("1")->param == 1.0);
  CHECK(parse("0.5")->param == 0.5);
  CHECK(parse(".5")->param == 0.5);
  CHECK(parse("2.")->param == 2.0);
  CHECK(parse("1e-4")->param == 1e-4);
  CHECK(parse("1E+3")->param == 1000.0);
  CHECK(canonical("1e-4 * w") == "0.0001 * w");
  CHECK(canonical("1e-5") == "1e-5");
  CHECK(canonical("1e20") == "1e20");
  CHECK(canonical("0.1") == "0.1");
  CHECK(canonical("1000") == "1000");
  CHECK(canonical("0.30000000000000004") == "0.30000000000000004");
}

TEST_CASE("schedules and functions", "[frontend]") {
  CHECK(canonical("cd(2) + cd(0.5) + rd(1) + rd(3) + ld") ==
        "cd(2) + cd + rd + rd(3) + ld");
  ExprPtr e = parse("cd");
  CHECK(e->kind == Expr::Kind::Schedule);
  CHECK(e->param == 0.5);
  CHECK(parse("rd")->param == 1.0);
  CHECK(canonical("clip(g,1e-3)+drop(m,0.3)+left(g,v)+ema(g2,0.99)") ==
        "clip(g, 0.001) + drop(m, 0.3) + left(g, v) + ema(g2, 0.99)");
  CHECK(canonical("log(g)/sqrt(v)") == "log(g) / sqrt(v)");
  CHECK(canonical("g3 - gamma + noise * anoise - adam * rmsprop") ==
        "g3 - gamma + noise * anoise - adam * rmsprop");
  e = parse("ema(g, 0)");
  CHECK(e->kind == Expr::Kind::Ema);
  CHECK(e->param == 0.0);
  CHECK(parse("drop(g, 0)")->param == 0.0);
}

TEST_CASE("parser diagnostics", "[frontend][errors]") {
  const std::string known =
      "g, g2, g3, m, v, gamma, w, noise, anoise, adam, rmsprop, ld, cd, rd "
      "or a function exp, log, sqrt, sign, clip, drop, left, ema";
  CHECK(errorOf("g*(g+m") ==
        "1:7: error: expected ')' to close '(' at 1:3, found end of rule");
  CHECK(errorOf("q") ==
        "1:1: error: unknown operand 'q'; expected one of " + known);
  CHECK(errorOf("g +\n  foo") ==
        "2:3: error: unknown operand 'foo'; expected one of " + known);
  CHECK(errorOf("") == "1:1: error: expected an expression, found end of rule");
  CHECK(errorOf("g +") ==
        "1:4: error: expected an expression, found end of rule");
  CHECK(errorOf("g + )") == "1:5: error: expected an expression, found ')'");
  CHECK(errorOf("))") == "1:1: error: expected an expression, found ')'");
  CHECK(errorOf("g @ m") == "1:3: error: unexpected character '@'");
  CHECK(errorOf("g + # + q") == "1:5: error: unexpected character '#'");
  CHECK(errorOf("1e + g") ==
        "1:1: error: malformed number '1e': expected digits in the exponent");
  CHECK(errorOf("1e999") ==
        "1:1: error: malformed number '1e999': it is too large for a double");
  CHECK(errorOf("exp g") == "1:5: error: expected '(' after 'exp', found 'g'");
  CHECK(errorOf("exp(g") ==
        "1:6: error: expected ')' to close 'exp(' at 1:1, found end of rule");
  CHECK(errorOf("g m") ==
        "1:3: error: expected an operator or end of rule, found 'm'");
  CHECK(errorOf("2g") ==
        "1:2: error: expected an operator or end of rule, found 'g'");
  CHECK(errorOf("g(2)") ==
        "1:2: error: 'g' is an operand, not a function; found '('");
  CHECK(errorOf("ld(2)") == "1:3: error: 'ld' takes no argument; found '('");
  CHECK(errorOf("cd(0)") == "1:4: error: schedule 'cd' needs n > 0, found 0");
  CHECK(errorOf("rd(-1)") == "1:4: error: schedule 'rd' needs n > 0, found -1");
  CHECK(errorOf("cd(g)") == "1:4: error: expected a numeric literal for the "
                            "parameter n of 'cd', found 'g'");
  CHECK(errorOf("cd(2") ==
        "1:5: error: expected ')' to close 'cd(' at 1:1, found end of rule");
  CHECK(errorOf("clip(g)") == "1:7: error: expected ',' after the first "
                              "argument of 'clip', found ')'");
  CHECK(errorOf("clip(g, 0)") ==
        "1:9: error: clip bound c must be > 0, found 0");
  CHECK(errorOf("clip(g, -1e-3)") ==
        "1:9: error: clip bound c must be > 0, found -0.001");
  CHECK(errorOf("clip(g, m)") == "1:9: error: expected a numeric literal for "
                                 "the bound c of 'clip', found 'm'");
  CHECK(errorOf("clip(g, 1e-3 * 2)") ==
        "1:14: error: expected ')' to close 'clip(' at 1:1, found '*'");
  CHECK(errorOf("drop(g, 1)") ==
        "1:9: error: drop probability p must satisfy 0 <= p < 1, found 1");
  CHECK(errorOf("drop(g, g)") == "1:9: error: expected a numeric literal for "
                                 "the probability p of 'drop', found 'g'");
  CHECK(errorOf("ema(g, 1)") ==
        "1:8: error: ema beta must satisfy 0 <= beta < 1, found 1");
  CHECK(errorOf("ema(g,  -0.1)") ==
        "1:9: error: ema beta must satisfy 0 <= beta < 1, found -0.1");
  CHECK(errorOf("ema(g, 0.9") ==
        "1:11: error: expected ')' to close 'ema(' at 1:1, found end of rule");
  CHECK(errorOf("left(g)") == "1:7: error: expected ',' after the first "
                              "argument of 'left', found ')'");
  CHECK(errorOf("left(g, m, v)") ==
        "1:10: error: expected ')' to close 'left(' at 1:1, found ','");
}

TEST_CASE("limits turn hostile input into errors", "[frontend][errors]") {
  const std::string deep = "rule nests deeper than 200 levels";
  auto tooLong = [](size_t n) {
    return "rule is " + std::to_string(n) +
           " characters long; the limit is 65536";
  };
  for (const std::string unit : {"(", "-", "exp("}) {
    std::string s;
    for (int i = 0; i < 100000; ++i)
      s += unit;
    ParseResult r = parseRule(s);
    REQUIRE_FALSE(r);
    CHECK(r.error.message == tooLong(s.size()));
    CHECK(r.error.loc.column == 65537);

    // Within the length limit, the nesting limit answers.
    std::string nested;
    for (int i = 0; i < 1000; ++i)
      nested += unit;
    r = parseRule(nested + "g");
    REQUIRE_FALSE(r);
    CHECK(r.error.message == deep);
  }
  // Depth 200 is fine, 201 is not.
  std::string ok(199, '-'), bad(200, '-');
  CHECK(parseRule(ok + "g"));
  CHECK_FALSE(parseRule(bad + "g"));

  // A chain of one operator is not nesting: 1024 terms (a tree 1024 tall)
  // parse, one more is refused at the operator that crosses the limit.
  std::string chain = "g";
  for (int i = 1; i < kMaxTreeHeight; ++i)
    chain += i % 2 ? "+m" : "-g";
  ParseResult r = parseRule(chain);
  REQUIRE(r);
  ParseResult longer = parseRule(chain + "-v");
  REQUIRE_FALSE(longer);
  CHECK(longer.error.message == "rule is more than 1024 operations deep (each "
                                "operator of a chain counts one)");
  CHECK(longer.error.loc.column == int(chain.size()) + 1);
}

TEST_CASE("locations and dumpTree", "[frontend]") {
  ExprPtr e = parse("exp(sign(g) * sign(m)) * g");
  CHECK(dumpTree(*e) == "Binary * 1:24\n"
                        "  Unary exp 1:1\n"
                        "    Binary * 1:13\n"
                        "      Unary sign 1:5\n"
                        "        Operand g 1:10\n"
                        "      Unary sign 1:15\n"
                        "        Operand m 1:20\n"
                        "  Operand g 1:26\n");
  e = parse("clip(g, 1e-3) +\n  ema(cd(2), 0.9) - drop(-1, 0.5) + ld");
  CHECK(dumpTree(*e) == "Binary + 2:35\n"
                        "  Binary - 2:19\n"
                        "    Binary + 1:15\n"
                        "      Unary clip c=0.001 1:1\n"
                        "        Operand g 1:6\n"
                        "      Ema beta=0.9 2:3\n"
                        "        Schedule cd n=2 2:7\n"
                        "    Unary drop p=0.5 2:21\n"
                        "      Literal -1 2:26\n"
                        "  Schedule ld 2:37\n");
}

TEST_CASE("structural equality", "[frontend]") {
  CHECK(structurallyEqual(*parse("g + m"), *parse("(g)+\n(m)")));
  CHECK_FALSE(structurallyEqual(*parse("g + m"), *parse("m + g")));
  CHECK_FALSE(structurallyEqual(*parse("g + m"), *parse("g - m")));
  CHECK_FALSE(
      structurallyEqual(*parse("clip(g, 1e-3)"), *parse("clip(g, 1e-4)")));
  CHECK_FALSE(structurallyEqual(*parse("ema(g, 0.9)"), *parse("ema(g, 0.8)")));
  CHECK_FALSE(structurallyEqual(*parse("cd"), *parse("cd(2)")));
  CHECK_FALSE(structurallyEqual(*parse("cd"), *parse("rd")));
  CHECK_FALSE(structurallyEqual(*parse("2"), *parse("-(2)")));
  CHECK(structurallyEqual(*parse("cd(0.5)"), *parse("cd")));
  CHECK(structurallyEqual(*makeSchedule(Schedule::LD, 3),
                          *makeSchedule(Schedule::LD, 0)));
  CHECK(structurallyEqual(*makeUnary(UnaryFn::Exp, makeLiteral(1), 7),
                          *makeUnary(UnaryFn::Exp, makeLiteral(1), 0)));
}

TEST_CASE("AST helpers", "[frontend]") {
  CHECK(std::string(spelling(Operand::RMSProp)) == "rmsprop");
  CHECK(std::string(spelling(Operand::Gamma)) == "gamma");
  CHECK(std::string(spelling(Schedule::RD)) == "rd");
  CHECK(std::string(spelling(UnaryFn::Neg)) == "-");
  CHECK(std::string(spelling(BinaryFn::Pow)) == "^");
  CHECK(defaultScheduleN(Schedule::CD) == 0.5);
  CHECK(defaultScheduleN(Schedule::RD) == 1.0);
  CHECK(isStochastic(*parse("noise")));
  CHECK(isStochastic(*parse("anoise")));
  CHECK(isStochastic(*parse("drop(g, 0.1)")));
  CHECK_FALSE(isStochastic(*parse("g")));
  CHECK_FALSE(isStochastic(*parse("exp(noise)")));
  CHECK_FALSE(isStochastic(*parse("clip(g, 1)")));
}

TEST_CASE("hand-written rules round-trip", "[frontend][roundtrip]") {
  for (const char *s :
       {"exp(sign(g) * sign(m)) * g", "(1 + sign(g) * sign(m)) * g",
        "10 * ema(g, 0.9)", "g / (sqrt(ema(g2, 0.99)) + 1e-8)",
        "sign(ema(g, 0.9))", "-g ^ 2 ^ -3", "((g ^ m) ^ v) ^ -(2)",
        "g - -0.5 * --m", "left(drop(g, 0.3), clip(noise, 1e-5)) / rd(2)",
        "log(g) - -(1e-300) + 7e-310 + 1e20", "adam + rmsprop * anoise",
        "0.0001 * w + cd(0.25) * gamma - g3 / v"})
    checkRoundTrip(*parse(s));
}

TEST_CASE("generated token rules round-trip", "[frontend][roundtrip]") {
  std::mt19937_64 rng(20240601);
  int checked = 0;
  for (int i = 0; i < 5000; ++i) {
    std::string tokens = test::randomTokenString(rng, 1 + i % 6);
    ParseResult r = parseTokens(tokens);
    INFO(tokens << " -> " << r.error.str());
    REQUIRE(r);
    checkRoundTrip(*r.expr);
    ++checked;
  }
  CHECK(checked == 5000);
}

TEST_CASE("generated infix trees round-trip", "[frontend][roundtrip]") {
  std::mt19937_64 rng(7);
  for (int i = 0; i < 5000; ++i)
    checkRoundTrip(*test::randomInfixRule(rng, 1 + i % 7));
}
