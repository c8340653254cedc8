//===- GpuKernelTest.cpp - GPU kernels against the CPU JIT and reference --===//
//
// Needs a CUDA driver and device; elsewhere each case warns and passes (the
// PTX itself is validated with ptxas on every machine by PtxTest.cpp). On a
// GPU: every primitive and 1,000 random rules pass the same differential
// check as the CPU kernels, and one launch over hundreds of tensors of odd
// sizes gives the CPU JIT's numbers, random streams included.
//
//===----------------------------------------------------------------------===//
#include "RuleGen.h"
#include "TestSupport.h"

#include "nos/Args.h"
#include "nos/Check.h"
#include "nos/Compiler.h"
#include "nos/CpuExecutor.h"
#include "nos/CudaHostRun.h"
#include "nos/Parser.h"
#include "nos/Printer.h"

#include <catch2/catch.hpp>

#include <cmath>

using namespace nos;

namespace {
/// The process's executor, or null when nos::test::haveGpu() says skip.
CudaExecutor *gpuOrSkip() {
  if (!nos::test::haveGpu())
    return nullptr;
  static CudaExecutor gpu;
  return &gpu;
}

std::shared_ptr<const GpuKernel> loadGpu(CudaExecutor &gpu, const Expr &rule) {
  std::string error;
  auto kernel = nos::test::uncachedCompiler().compileGpu(rule, &error);
  INFO(error);
  REQUIRE(kernel);
  gpu.load(kernel->info.hash, kernel->ptx);
  return kernel;
}

CheckResult checkOnGpu(CudaExecutor &gpu, const Expr &rule,
                       CheckOptions options = {}) {
  auto kernel = loadGpu(gpu, rule);
  options.hyper.totalSteps = 50;
  options.hyper.seed = 12345;
  int slots = int(kernel->info.stateSlots.size());
  auto runner = [&](NosTensor *table, int64_t count, const NosArgs &args) {
    runOnHostArrays(gpu, kernel->info.hash, table, count, args, slots);
  };
  return checkKernel(kernel->info, runner, options);
}

void requireMatches(CudaExecutor &gpu, const Expr &rule,
                    const CheckOptions &options = {}) {
  CheckResult result = checkOnGpu(gpu, rule, options);
  INFO("rule: " << printRule(rule) << "\n"
                << result.error << result.firstMismatch);
  REQUIRE(result.error.empty());
  CHECK(result.compared > 0);
  CHECK(result.ok);
}

/// Host arrays for a table of tensors of the given sizes.
struct HostTable {
  std::vector<std::vector<float>> w, g;
  std::vector<std::vector<std::vector<float>>> state;
  std::vector<NosTensor> table;

  HostTable(const std::vector<int64_t> &sizes, int slots, uint64_t seed) {
    int64_t base = 0;
    for (size_t t = 0; t < sizes.size(); ++t) {
      w.push_back(specialInputs(sizes[t], seed + t));
      g.push_back(specialInputs(sizes[t], seed * 31 + t));
      for (float &x : w.back())
        x = std::isfinite(x) ? x : 0.0f;
      state.emplace_back(size_t(slots), std::vector<float>(sizes[t], 0.25f));
    }
    for (size_t t = 0; t < sizes.size(); ++t) {
      NosTensor entry{};
      entry.w = w[t].data();
      entry.g = g[t].data();
      for (int k = 0; k < slots; ++k)
        entry.state[k] = state[t][size_t(k)].data();
      entry.n = sizes[t];
      entry.rng_base = base;
      base += sizes[t];
      table.push_back(entry);
    }
  }
};

/// Same value, or both NaN, or within a few f32 ulps.
bool close(float a, float b) {
  if (std::isnan(a) || std::isnan(b))
    return std::isnan(a) && std::isnan(b);
  if (a == b)
    return true;
  return std::fabs(double(a) - double(b)) <=
         4e-7 * std::fmax(std::fabs(a), std::fabs(b)) + 1e-37;
}
} // namespace

TEST_CASE("every primitive matches the reference on the GPU", "[gpu]") {
  CudaExecutor *gpu = gpuOrSkip();
  if (!gpu)
    return;
  for (const char *rule : nos::test::primitiveRules())
    requireMatches(*gpu, *parseRule(rule).expr);
  for (const char *rule : nos::test::classicRules())
    requireMatches(*gpu, *parseRule(rule).expr);
}

TEST_CASE("1000 random rules match the reference on the GPU", "[gpu]") {
  CudaExecutor *gpu = gpuOrSkip();
  if (!gpu)
    return;
  std::mt19937_64 rng(2017);
  for (int i = 0; i < 1000; ++i) {
    ExprPtr rule = nos::test::randomTokenRule(rng, 1 + int(rng() % 4));
    REQUIRE(rule);
    CheckOptions options;
    options.n = 67 + i % 5;
    options.steps = 2;
    options.dataSeed = uint64_t(i) + 1;
    requireMatches(*gpu, *rule, options);
  }
}

TEST_CASE("one launch over many odd tensors equals the CPU JIT", "[gpu]") {
  CudaExecutor *gpu = gpuOrSkip();
  if (!gpu)
    return;
  std::vector<int64_t> sizes{0,     1, 7, 65535, 65536, 65537, 3 * 65536 + 5,
                             100003};
  std::mt19937_64 rng(7);
  for (int i = 0; i < 300; ++i)
    sizes.push_back(int64_t(rng() % 5000));
  CompileOptions wide;
  wide.diskCache = false;
  wide.gpuVectorWidth = 4;
  Compiler wideCompiler(wide);
  for (const char *source :
       {"adam", "exp(sign(g) * sign(m)) * g",
        "drop(g, 0.3) * exp(noise) + anoise * m + 1e-4 * w",
        "g / sqrt(ema(g2, 0.99)) + log(g) * cd"})
    for (unsigned width : {1u, 4u}) {
      INFO("rule: " << source << ", " << width << " elements per thread");
      ParseResult parsed = parseRule(source);
      REQUIRE(parsed);
      std::string error;
      auto gpuKernel =
          (width == 1 ? nos::test::uncachedCompiler() : wideCompiler)
              .compileGpu(*parsed.expr, &error);
      REQUIRE(gpuKernel);
      std::string key = gpuKernel->info.hash + ":w" + std::to_string(width);
      gpu->load(key, gpuKernel->ptx);
      auto cpuKernel =
          nos::test::uncachedCompiler().compileCpu(*parsed.expr, &error);
      REQUIRE(cpuKernel);
      int slots = int(cpuKernel->info.stateSlots.size());
      HostTable onCpu(sizes, slots, 3), onGpu(sizes, slots, 3);
      Hyper hyper;
      hyper.totalSteps = 100;
      hyper.seed = 99;
      CpuExecutor pool(2);
      for (int64_t step = 1; step <= 3; ++step) {
        NosArgs args = makeArgs(hyper, step, cpuKernel->info.schedules, &error);
        REQUIRE(error.empty());
        pool.run(cpuKernel->fn, onCpu.table.data(), int64_t(sizes.size()),
                 args);
        runOnHostArrays(*gpu, key, onGpu.table.data(), int64_t(sizes.size()),
                        args, slots);
      }
      int64_t differ = 0, compared = 0;
      for (size_t t = 0; t < sizes.size(); ++t)
        for (int64_t i = 0; i < sizes[t]; ++i) {
          compared += 1 + slots;
          differ += !close(onCpu.w[t][i], onGpu.w[t][i]);
          for (int k = 0; k < slots; ++k)
            differ += !close(onCpu.state[t][k][i], onGpu.state[t][k][i]);
        }
      CHECK(compared > 0);
      CHECK(differ == 0);
    }
}
