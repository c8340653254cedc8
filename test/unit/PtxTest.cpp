//===- PtxTest.cpp - GPU kernels assemble with ptxas ----------------------===//
//
// Runs on every machine, GPU or not: the PTX of every primitive, the classic
// rules and seeded random token-form rules must be accepted by the CUDA
// toolkit's ptxas for sm_90 and must not call into libdevice, whose
// functions the driver could not resolve. GPU kernels share the disk cache
// with CPU ones under their own target key.
//
//===----------------------------------------------------------------------===//
#include "RuleGen.h"
#include "TestSupport.h"

#include "nos/Compiler.h"
#include "nos/Parser.h"
#include "nos/Printer.h"

#include <catch2/catch.hpp>

#include <cstdio>
#include <filesystem>
#include <fstream>

using namespace nos;

namespace {
/// ptxas's verdict on `ptx`: empty when it assembles, else its messages.
std::string assemble(const std::string &ptx) {
  namespace fs = std::filesystem;
  fs::path file = fs::temp_directory_path() / "nos-ptx-test.ptx";
  std::ofstream(file) << ptx;
  std::string command = std::string(NOS_PTXAS_PATH) + " -arch=sm_90 " +
                        file.string() + " -o /dev/null 2>&1";
  std::string output;
  FILE *pipe = popen(command.c_str(), "r");
  if (!pipe)
    return "cannot run ptxas";
  char buffer[512];
  while (size_t n = fread(buffer, 1, sizeof buffer, pipe))
    output.append(buffer, n);
  int status = pclose(pipe);
  return status == 0 ? "" : "ptxas failed: " + output;
}

void requireAssembles(const Expr &rule) {
  std::string error;
  auto kernel = nos::test::uncachedCompiler().compileGpu(rule, &error);
  INFO("rule: " << printRule(rule) << "\n" << error);
  REQUIRE(kernel);
  CHECK(kernel->ptx.find(".visible .entry nos_rule(") != std::string::npos);
  CHECK(kernel->ptx.find("__nv_") == std::string::npos);
  CHECK(kernel->ptx.back() != '\0');
  if (std::string(NOS_PTXAS_PATH).empty())
    return; // no toolkit here: emission is still checked above
  INFO(kernel->ptx.substr(0, 4000));
  CHECK(assemble(kernel->ptx).empty());
}

void requireAssembles(const char *source) {
  ParseResult parsed = parseRule(source);
  INFO("rule: " << source);
  REQUIRE(parsed);
  requireAssembles(*parsed.expr);
}
} // namespace

TEST_CASE("every primitive's PTX assembles", "[ptx]") {
  for (const char *rule : nos::test::primitiveRules())
    requireAssembles(rule);
  for (const char *rule : nos::test::classicRules())
    requireAssembles(rule);
}

TEST_CASE("random rules' PTX assembles", "[ptx]") {
  std::mt19937_64 rng(90);
  for (int i = 0; i < 150; ++i) {
    ExprPtr rule = nos::test::randomTokenRule(rng, 1 + int(rng() % 4));
    REQUIRE(rule);
    requireAssembles(*rule);
  }
}

TEST_CASE("PTX with 2 and 4 elements per thread assembles", "[ptx]") {
  for (unsigned width : {2u, 4u}) {
    CompileOptions options;
    options.diskCache = false;
    options.gpuVectorWidth = width;
    Compiler compiler(options);
    std::vector<std::string> rules;
    for (const char *rule : nos::test::primitiveRules())
      rules.push_back(rule);
    for (const char *rule : nos::test::classicRules())
      rules.push_back(rule);
    for (const std::string &source : rules) {
      INFO("width " << width << ", rule: " << source);
      std::string error;
      auto kernel = compiler.compileGpu(*parseRule(source).expr, &error);
      INFO(error);
      REQUIRE(kernel);
      CHECK(kernel->ptx.find("__nv_") == std::string::npos);
      if (!std::string(NOS_PTXAS_PATH).empty())
        CHECK(assemble(kernel->ptx).empty());
    }
  }
}

TEST_CASE("the kernel takes every NosArgs field by value", "[ptx]") {
  std::string error;
  auto kernel =
      nos::test::uncachedCompiler().compileGpu(*parseRule("g").expr, &error);
  REQUIRE(kernel);
  size_t params = 0;
  for (size_t at = kernel->ptx.find(".param ."); at != std::string::npos;
       at = kernel->ptx.find(".param .", at + 1))
    ++params;
  CHECK(params == NOS_GPU_PARAMS);
}

TEST_CASE("GPU kernels are cached on disk under their own key", "[ptx]") {
  namespace fs = std::filesystem;
  fs::path dir = fs::temp_directory_path() / "nos-ptx-cache-test";
  fs::remove_all(dir);
  CompileOptions options;
  options.cacheDir = dir.string();
  Expr rule = *parseRule("exp(sign(g) * sign(m)) * g").expr;
  std::string error, ptx;
  {
    Compiler first(options);
    auto kernel = first.compileGpu(rule, &error);
    REQUIRE(kernel);
    CHECK(kernel->origin == "compiled");
    ptx = kernel->ptx;
    auto cpu = first.compileCpu(rule, &error);
    REQUIRE(cpu);
    CHECK(cpu->origin == "compiled"); // a different target, a different entry
  }
  Compiler second(options);
  auto again = second.compileGpu(rule, &error);
  REQUIRE(again);
  CHECK(again->origin == "disk");
  CHECK(again->ptx == ptx);
  CHECK(second.gpuTargetId() == "nvptx64-nvidia-cuda:sm_90:+ptx80:w1");
  fs::remove_all(dir);
}
