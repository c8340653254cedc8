//===- JitMemoryBench.cpp - Memory of a long search's compiled kernels ----===//
//
// A search compiles a kernel for every rule it trains, and a rule once
// trained is never asked for again, so what the JIT keeps decides whether a
// run of 100,000 candidates fits in memory. This compiles N distinct rules
// one after another, dropping each at once as the search does, and prints
// the resident memory it adds per kernel with the memory cache bounded
// (the default) and unbounded, side by side in one process each.
//
//===----------------------------------------------------------------------===//
#include "JitMemoryBench.h"

#include "nos/Compiler.h"
#include "nos/Parser.h"

#include <fmt/core.h>

#include <fstream>
#include <stdexcept>
#include <unistd.h>

namespace nos::bench {

namespace {
double residentMiB() {
  std::ifstream statm("/proc/self/statm");
  long pages = 0, resident = 0;
  statm >> pages >> resident;
  return double(resident) * double(sysconf(_SC_PAGESIZE)) / (1 << 20);
}
} // namespace

void runJitMemoryBench(const JitMemoryOptions &o) {
  CompileOptions options;
  options.diskCache = false;
  if (o.cacheKernels >= 0)
    options.memoryCacheKernels = size_t(o.cacheKernels);
  Compiler compiler(options);
  std::string error;
  double start = residentMiB();
  fmt::print("kernels  rss_mib  loaded  (memory cache limit {})\n",
             options.memoryCacheKernels);
  for (int k = 1; k <= o.kernels; ++k) {
    std::string rule = fmt::format("exp(sign(g) * sign(m)) * g * {}", k);
    if (!compiler.compileCpu(*parseRule(rule).expr, &error))
      throw std::runtime_error(error);
    if (k % std::max(1, o.kernels / 5) == 0)
      fmt::print("{:>7}  {:>7.1f}  {:>6}\n", k, residentMiB(),
                 compiler.stats().loadedCpuKernels);
  }
  double grown = residentMiB() - start;
  fmt::print("{{\"kernels\": {}, \"cache_limit\": {}, \"rss_growth_mib\": "
             "{:.1f}, \"kib_per_kernel\": {:.2f}}}\n",
             o.kernels, options.memoryCacheKernels, grown,
             1024 * grown / o.kernels);
}

} // namespace nos::bench
