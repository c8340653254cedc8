//===- ConcurrencyTest.cpp - One compiler, many threads -------------------===//
//
// The search canonicalizes its next proposals on one thread while workers
// compile on others, all in one MLIR context. MLIR allows that only once
// every dialect is loaded: a pass manager that loaded one on its first run
// crashed a search that read the dialects at the same moment. These tests
// pin that invariant, and then run the search's pattern of use.
//
//===----------------------------------------------------------------------===//
#include "Bridge.h"
#include "Pipeline.h"
#include "RuleGen.h"

#include "nos/Check.h"
#include "nos/Compiler.h"
#include "nos/Parser.h"

#include "mlir/IR/MLIRContext.h"

#include <catch2/catch.hpp>

#include <atomic>
#include <random>
#include <string>
#include <thread>
#include <vector>

using namespace nos;

TEST_CASE("no stage loads a dialect after the context is made", "[threads]") {
  std::unique_ptr<mlir::MLIRContext> ctx = createContext();
  size_t loaded = ctx->getLoadedDialects().size();
  ParseResult parsed = parseRule("exp(sign(g) * sign(m)) * g");
  REQUIRE(parsed);

  auto cpu = buildModule(*ctx, *parsed.expr, "cpu_rule");
  REQUIRE(mlir::succeeded(canonicalizeModule(*cpu)));
  REQUIRE(mlir::succeeded(lowerToKernel(*cpu, 4)));
  REQUIRE(mlir::succeeded(lowerToLLVMDialect(*cpu)));

  auto gpu = buildModule(*ctx, *parsed.expr, "gpu_rule");
  REQUIRE(mlir::succeeded(canonicalizeModule(*gpu)));
  GpuTarget target;
  REQUIRE(mlir::succeeded(lowerToGpuKernel(*gpu, target)));
  REQUIRE(mlir::succeeded(lowerToNVVM(*gpu, target)));

  CHECK(ctx->getLoadedDialects().size() == loaded);
}

TEST_CASE("threads canonicalize while others compile, on one compiler",
          "[threads]") {
  CompileOptions options;
  options.diskCache = false;
  Compiler compiler(options); // fresh: its first compile runs every stage
  std::mt19937_64 rng(21);
  std::vector<ExprPtr> rules;
  for (int i = 0; i < 48; ++i)
    rules.push_back(nos::test::randomTokenRule(rng, 2));

  std::atomic<int> failures{0}, compiled{0};
  auto compileEvery = [&](size_t first) {
    for (size_t i = first; i < rules.size(); i += 2) {
      std::string error;
      auto kernel = compiler.compileCpu(*rules[i], &error);
      if (!kernel) {
        ++failures;
        continue;
      }
      CheckOptions check;
      check.n = 33, check.steps = 2, check.threads = 1;
      check.hyper.totalSteps = 50; // schedules need a horizon
      failures += !checkKernel(*kernel, check).ok;
      ++compiled;
    }
  };
  std::thread a(compileEvery, 0), b(compileEvery, 1);
  int canonicalized = 0;
  for (int round = 0; round < 3; ++round)
    for (const ExprPtr &rule : rules) {
      KernelInfo info;
      std::string error;
      canonicalized += compiler.canonicalize(*rule, info, &error);
    }
  a.join();
  b.join();
  CHECK(failures == 0);
  CHECK(compiled == int(rules.size()));
  CHECK(canonicalized == 3 * int(rules.size()));
}
