//===- KernelTest.cpp - JIT kernels against the reference interpreter -----===//
//
// Differential tests of the whole CPU path: every primitive, the classic
// optimizers and 1,000 seeded random rules from the token form, each compiled
// and run on inputs with 0, subnormals, huge values and NaN, then compared
// with the reference at the tolerance the reference derives for the rule.
//
//===----------------------------------------------------------------------===//
#include "RuleGen.h"

#include "nos/Builtins.h"
#include "nos/Check.h"
#include "nos/Compiler.h"
#include "nos/KernelABI.h"
#include "nos/Parser.h"
#include "nos/Printer.h"
#include "nos/Reference.h"
#include "nos/Tokens.h"

#include <catch2/catch.hpp>

using namespace nos;
using nos::test::randomTokenString;

namespace {
Compiler &sharedCompiler() {
  static Compiler compiler([] {
    CompileOptions options;
    options.diskCache = false;
    options.optLevel = 2;
    return options;
  }());
  return compiler;
}

CheckResult compileAndCheck(const Expr &rule, CheckOptions options = {}) {
  std::string error;
  auto kernel = sharedCompiler().compileCpu(rule, &error);
  if (!kernel) {
    CheckResult failed;
    failed.error = error;
    return failed;
  }
  options.hyper.totalSteps = 50;
  options.hyper.seed = 12345;
  return checkKernel(*kernel, options);
}

void requireMatches(const std::string &source, CheckOptions options = {}) {
  ParseResult parsed = parseRule(source);
  INFO("rule: " << source);
  REQUIRE(parsed);
  CheckResult result = compileAndCheck(*parsed.expr, options);
  INFO(result.error << result.firstMismatch);
  REQUIRE(result.error.empty());
  CHECK(result.compared > 0);
  CHECK(result.ok);
}
} // namespace

TEST_CASE("every primitive matches the reference", "[kernel]") {
  for (const char *rule : nos::test::primitiveRules())
    requireMatches(rule);
}

// Each row of Operands.def must mean the same in every stage: the parser,
// the token form, canonical printing, the state the compiler allocates, its
// random streams, and (above) the kernel against the reference.
TEST_CASE("every operand of the table means the same in every stage",
          "[kernel][operands]") {
  for (const OperandInfo &row : kOperands) {
    INFO("operand " << row.spelling);
    ParseResult parsed = parseRule(row.spelling);
    REQUIRE(parsed);
    CHECK(parsed.expr->kind == Expr::Kind::Operand);
    CHECK(parsed.expr->operand == row.op);
    std::string unit = std::string(row.spelling) + " " + row.spelling;
    CHECK(static_cast<bool>(parseTokens(unit + " x x add")) == row.token);
    KernelInfo info;
    std::string error;
    REQUIRE(sharedCompiler().canonicalize(*parsed.expr, info, &error));
    CHECK(info.canonical == row.spelling);
    std::vector<std::string> slots;
    if (row.reads & ReadsM)
      slots.push_back("m");
    if (row.reads & ReadsV)
      slots.push_back("v");
    if (row.reads & ReadsGamma)
      slots.push_back("gamma");
    CHECK(info.stateSlots == slots);
    CHECK(info.usesRandom == row.random);
  }
}

// Each row of Functions.def likewise: the parser and printer agree on it,
// each of its token words parses to it, and its kernel matches the reference
// (so a new row is tested without a new test).
TEST_CASE("every function of the table means the same in every stage",
          "[kernel][functions]") {
  for (const UnaryInfo &row : kUnaryFns) {
    INFO("unary " << row.mnemonic);
    std::string rule = row.fn == UnaryFn::Neg ? "-g"
                       : row.param == FnParam::NoParam
                           ? std::string(row.spelling) + "(g)"
                           : std::string(row.spelling) + "(g, 0.25)";
    ParseResult parsed = parseRule(rule);
    REQUIRE(parsed);
    CHECK(parsed.expr->kind == Expr::Kind::Unary);
    CHECK(parsed.expr->unary == row.fn);
    CHECK(printRule(*parsed.expr) == rule);
    for (const std::string &word : tokenUnaries())
      if (word.rfind(row.mnemonic, 0) == 0) {
        ParseResult unit = parseTokens("g g " + word + " x add");
        REQUIRE(unit);
        CHECK(unit.expr->lhs->unary == row.fn);
      }
    requireMatches(rule.c_str());
  }
  for (const BinaryInfo &row : kBinaryFns) {
    INFO("binary " << row.mnemonic);
    std::string rule = row.syntax == FnSyntax::Call
                           ? std::string(row.spelling) + "(g, m)"
                           : std::string("g ") + row.spelling + " m";
    ParseResult parsed = parseRule(rule);
    REQUIRE(parsed);
    CHECK(parsed.expr->binary == row.fn);
    CHECK(printRule(*parsed.expr) == rule);
    ParseResult unit = parseTokens(std::string("g m x x ") + row.mnemonic);
    REQUIRE(unit);
    CHECK(unit.expr->binary == row.fn);
    requireMatches(rule.c_str());
  }
}

TEST_CASE("classic optimizers and the paper's rules match", "[kernel]") {
  for (const char *rule : nos::test::classicRules())
    requireMatches(rule);
}

// Decoupled weight decay scales w in the kernel (the check undoes it with
// the same f32 factor) and maximize negates g before every read of it.
TEST_CASE("weight decay and maximize match the reference", "[kernel]") {
  for (bool maximize : {false, true}) {
    CheckOptions options;
    options.hyper.weightDecay = 0.25;
    options.hyper.maximize = maximize;
    INFO("maximize " << maximize);
    for (const char *rule : nos::test::classicRules())
      requireMatches(rule, options);
    for (const char *rule : {"w", "g * w", "m", "sign(g) * g"})
      requireMatches(rule, options);
  }
}

// A tensor shorter than one vector, and ones ending one short of, at and one
// past a chunk boundary, go through the stack buffers of the last chunk:
// state must come back, random draws keep their element's index.
TEST_CASE("partial last chunks match at every length", "[kernel]") {
  for (int64_t n : {1, 3, 7, 15, 16, 17, 31, 33, 63, 65}) {
    CheckOptions options;
    options.n = n;
    options.threads = 1;
    INFO("n " << n);
    for (const char *rule : {"exp(sign(g) * sign(m)) * g", "adam",
                             "drop(m, 0.3) + noise * ema(g3, 0.5)"})
      requireMatches(rule, options);
  }
}

TEST_CASE("1000 random token-form rules match", "[kernel][random]") {
  std::mt19937_64 rng(2017);
  int compared = 0;
  for (int i = 0; i < 1000; ++i) {
    std::string tokens = randomTokenString(rng, 1 + int(rng() % 4));
    ParseResult parsed = parseTokens(tokens);
    INFO("tokens: " << tokens);
    REQUIRE(parsed);
    CheckOptions options;
    options.n = 67;
    options.steps = 2;
    options.threads = 1;
    options.dataSeed = uint64_t(i) + 1;
    CheckResult result = compileAndCheck(*parsed.expr, options);
    INFO("rule: " << printRule(*parsed.expr) << "\n"
                  << result.error << result.firstMismatch);
    REQUIRE(result.error.empty());
    REQUIRE(result.ok);
    compared += result.compared > 0;
  }
  CHECK(compared == 1000);
}

TEST_CASE("spellings of one rule share one kernel", "[kernel][cache]") {
  Compiler compiler([] {
    CompileOptions options;
    options.diskCache = false;
    return options;
  }());
  std::string error;
  auto a =
      compiler.compileCpu(*parseRule("sign(m) * sign(g) * g * 1").expr, &error);
  auto b =
      compiler.compileCpu(*parseRule("g * sign(g) * sign(m)").expr, &error);
  REQUIRE(a);
  REQUIRE(b);
  CHECK(a == b);
  CHECK(a->info.hash == b->info.hash);
  CHECK(compiler.stats().compiled == 1);
  CHECK(compiler.stats().memoryHits == 1);
}

TEST_CASE("the compiler's layout equals the reference's", "[kernel]") {
  std::mt19937_64 rng(7);
  for (int i = 0; i < 300; ++i) {
    ParseResult parsed = parseTokens(randomTokenString(rng, 3));
    REQUIRE(parsed);
    KernelInfo info;
    std::string error;
    REQUIRE(sharedCompiler().canonicalize(*parsed.expr, info, &error));
    ParseResult canonical = parseRule(info.canonical);
    REQUIRE(canonical);
    RuleLayout layout = computeLayout(*canonical.expr);
    INFO(info.canonical);
    CHECK(layout.stateSlots == info.stateSlots);
    REQUIRE(layout.schedules.size() == info.schedules.size());
    CHECK(layout.usesRandom == info.usesRandom);
  }
}

TEST_CASE("verifier errors name the rule position", "[kernel]") {
  // Nine ema buffers exceed NOS_MAX_STATE; the parser accepts the rule. The
  // error points at the ninth, in canonical order (the largest beta).
  std::string rule = "ema(g,0.1)";
  for (int i = 2; i <= 9; ++i)
    rule += " + ema(g, 0." + std::to_string(i) + ")";
  ParseResult parsed = parseRule(rule);
  REQUIRE(parsed);
  std::string error;
  CHECK_FALSE(sharedCompiler().compileCpu(*parsed.expr, &error));
  std::string ninth = std::to_string(rule.find("ema(g, 0.9)") + 1);
  CHECK(error.rfind("1:" + ninth +
                        ": error: 'nos.ema' op would be state "
                        "buffer 9 of 9",
                    0) == 0);
}

// [deep]: out of the ASan run, whose frames are about ten times larger; a
// Release build walks this tree in well under 1 MiB of stack.
TEST_CASE("a chain of a thousand terms compiles and matches",
          "[kernel][deep]") {
  // As tall a tree as the parser takes: every later walk (IR builder,
  // canonicalizer, raising, printer, reference) must get down it.
  const char *terms[] = {"g", "m", "v", "sign(g)", "w"};
  for (const char *op : {" + ", " * "}) {
    std::string rule = "g";
    for (int i = 1; i < kMaxTreeHeight; ++i)
      rule += op + std::string(terms[i % 5]);
    requireMatches(rule);
  }
}

TEST_CASE("a canonical form longer than the rule limit is refused",
          "[kernel]") {
  // 500 terms of 10 factors fit in 64 KiB as written (11 characters a
  // factor) but not as canonical text ("clip(g, 0.1) * ", 15 a factor).
  std::string term = "clip(g,.1)";
  for (int k = 1; k < 10; ++k)
    term += std::string("*clip(") + "gmvw"[k % 4] + ",.1)";
  std::string rule = term;
  for (int i = 1; i < 500; ++i)
    rule += "+" + term;
  ParseResult parsed = parseRule(rule);
  REQUIRE(parsed);
  KernelInfo info;
  std::string error;
  CHECK_FALSE(sharedCompiler().canonicalize(*parsed.expr, info, &error));
  CHECK(error.rfind("the rule's canonical form does not parse back: 1:65537: "
                    "error: rule is ",
                    0) == 0);
  CHECK(error.find(" characters long; the limit is 65536") !=
        std::string::npos);
}

TEST_CASE("the check catches a kernel that disagrees", "[kernel]") {
  std::string error;
  auto sgd = sharedCompiler().compileCpu(*parseRule("g").expr, &error);
  REQUIRE(sgd);
  CpuKernel wrong = *sgd;
  wrong.info.canonical = "g * 1.001"; // the kernel computes g
  wrong.info.tree = parseRule(wrong.info.canonical).expr;
  CheckResult result = checkKernel(wrong, CheckOptions{});
  CHECK(result.error.empty());
  CHECK_FALSE(result.ok);
  CHECK(result.mismatches > 0);
  CHECK(result.firstMismatch.find("step 1") != std::string::npos);
}

TEST_CASE("the memory cache is bounded and unloads what nobody holds",
          "[kernel]") {
  CompileOptions options;
  options.diskCache = false;
  options.memoryCacheKernels = 8;
  Compiler compiler(options);
  std::string error;
  auto compile = [&](const std::string &source) {
    auto kernel = compiler.compileCpu(*parseRule(source).expr, &error);
    INFO(error);
    REQUIRE(kernel);
    return kernel;
  };
  auto held = compile("g * 1000"); // kept by the test while others come
  for (int k = 1; k <= 40; ++k)
    compile("g * " + std::to_string(k));
  Compiler::Stats s = compiler.stats();
  CHECK(s.compiled == 41);
  CHECK(s.evicted == 33);
  // The 8 cached ones plus the held one, long evicted, stay loaded.
  CHECK(s.loadedCpuKernels == 9);
  CheckResult result = checkKernel(*held, CheckOptions());
  CHECK(result.ok); // still callable after eviction
  held.reset();
  CHECK(compiler.stats().loadedCpuKernels == 8);
  // An evicted rule is compiled again, and works.
  auto again = compile("g * 1");
  CHECK(compiler.stats().compiled == 42);
  CHECK(checkKernel(*again, CheckOptions()).ok);
  // A cached one is found by another spelling without compiling.
  compile("40 * g");
  CHECK(compiler.stats().compiled == 42);
}

TEST_CASE("a kernel's traffic counts w, g and each state array", "[kernel]") {
  // What the benches' bandwidth divides by: read w, g and each slot, write
  // w and each slot, 4 bytes each.
  for (auto [name, slots] :
       {std::pair{"sgd", 0}, std::pair{"powersign", 1}, std::pair{"adam", 2}}) {
    ParseResult parsed = parseRuleOrBuiltin(name);
    REQUIRE(parsed);
    std::string error;
    auto kernel = sharedCompiler().compileCpu(*parsed.expr, &error);
    REQUIRE(kernel);
    INFO(name);
    CHECK(int(kernel->info.stateSlots.size()) == slots);
    CHECK(NOS_BYTES_PER_ELEMENT(kernel->info.stateSlots.size()) ==
          4 * (3 + 2 * slots));
  }
  CHECK(NOS_BYTES_PER_ELEMENT(2) == 28); // Adam: 7 arrays, not 6
}
