//===- CudaBench.cpp - GPU benchmark of compiled update rules -------------===//
//
// The parameters are split into equal tensors, as a model's would be, and
// updated by one launch per step. Bandwidth counts the bytes the rule must
// move (w and g read, each state slot read and written, w written), so
// nos_gbps / copy_gbps is how close the kernel comes to the memory system's
// limit. Times are medians of CUDA-event measurements after a warm-up.
//
//===----------------------------------------------------------------------===//
#include "CudaBench.h"

#include "nos/Args.h"
#include "nos/Builtins.h"
#include "nos/Compiler.h"
#include "nos/CudaExecutor.h"
#include "nos/KernelABI.h"
#include "nos/Parser.h"
#include "nos/Statistics.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <functional>
#include <iostream>
#include <random>
#include <sstream>
#include <stdexcept>

namespace nos::bench {
namespace {

std::string dslOf(const std::string &name) {
  const char *rule = builtinRule(name);
  return rule ? rule : name;
}

/// A device array of n floats, filled with `init` or zeroed.
DeviceBuffer deviceArray(CudaExecutor &gpu, int64_t n,
                         const std::vector<float> *init) {
  DeviceBuffer buffer(gpu, size_t(n) * sizeof(float));
  if (init)
    gpu.copyToDevice(buffer.get(), init->data(), size_t(n) * sizeof(float));
  else
    gpu.memset(buffer.get(), 0, size_t(n) * sizeof(float));
  return buffer;
}

double medianMs(CudaExecutor &gpu, int reps, const std::function<void()> &f) {
  f(); // warm-up: module load, table upload, clocks
  std::vector<double> ms;
  for (int r = 0; r < reps; ++r)
    ms.push_back(gpu.timeMs(f));
  return median(ms);
}

nlohmann::ordered_json benchRule(CudaExecutor &gpu, Compiler &compiler,
                                 const std::string &name,
                                 const CudaBenchOptions &o,
                                 const std::vector<float> &init) {
  ParseResult parsed = parseRule(dslOf(name));
  if (!parsed)
    throw std::invalid_argument("bad rule '" + name +
                                "': " + parsed.error.str());
  std::string error;
  auto kernel = compiler.compileGpu(*parsed.expr, &error);
  if (!kernel)
    throw std::runtime_error(error);
  gpu.load(kernel->info.hash, kernel->ptx);
  const int slots = int(kernel->info.stateSlots.size());
  DeviceBuffer w = deviceArray(gpu, o.n, &init),
               g = deviceArray(gpu, o.n, &init);
  std::vector<DeviceBuffer> state;
  for (int k = 0; k < slots; ++k)
    state.push_back(deviceArray(gpu, o.n, nullptr));
  std::vector<NosTensor> table;
  const int64_t per = (o.n + o.tensors - 1) / o.tensors;
  for (int64_t begin = 0; begin < o.n; begin += per) {
    NosTensor t{};
    t.n = std::min(per, o.n - begin);
    t.w = w.floats() + begin;
    t.g = g.floats() + begin;
    for (int k = 0; k < slots; ++k)
      t.state[k] = state[k].floats() + begin;
    t.rng_base = begin;
    table.push_back(t);
  }
  Hyper hyper;
  hyper.lr = 1e-6; // keep w finite over the timed steps
  hyper.totalSteps = 1000;
  NosArgs args = makeArgs(hyper, 1, kernel->info.schedules, &error);
  if (!error.empty())
    throw std::invalid_argument(error);
  double nosMs = medianMs(gpu, o.reps, [&] {
    gpu.run(kernel->info.hash, table.data(), int64_t(table.size()), args);
  });
  DeviceBuffer copy = deviceArray(gpu, o.n, nullptr);
  const size_t bytes = size_t(o.n) * sizeof(float);
  double copyMs = medianMs(
      gpu, o.reps, [&] { gpu.copyDeviceToDevice(copy.get(), g.get(), bytes); });
  // A copy reads and writes each byte once; the update moves the bytes of
  // every array it reads or writes (KernelABI.h).
  double moved = double(o.n) * double(NOS_BYTES_PER_ELEMENT(slots)),
         copied = 2.0 * double(bytes);
  nlohmann::ordered_json out;
  out["rule"] = name;
  out["canonical"] = kernel->info.canonical;
  out["device"] = gpu.deviceName();
  out["n"] = o.n;
  out["tensors"] = table.size();
  out["nos_ms"] = nosMs;
  out["nos_gbps"] = moved / nosMs / 1e6;
  out["copy_gbps"] = copied / copyMs / 1e6;
  out["copy_ratio"] = (moved / nosMs) / (copied / copyMs);
  out["bytes_per_elem"] = NOS_BYTES_PER_ELEMENT(slots);
  out["vector_width"] = o.vectorWidth;
  out["compile_ms"] = kernel->compileMs;
  return out;
}
} // namespace

void runCudaBench(const CudaBenchOptions &o) {
  CudaExecutor gpu(o.device);
  CompileOptions copts;
  copts.diskCache = false;
  copts.gpuVectorWidth = o.vectorWidth;
  Compiler compiler(copts);
  std::vector<float> init(size_t(o.n));
  std::mt19937 rng(1);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  for (float &x : init)
    x = dist(rng);
  std::stringstream names(o.rule);
  for (std::string name; std::getline(names, name, ',');)
    std::cout << benchRule(gpu, compiler, name, o, init).dump() << std::endl;
}

} // namespace nos::bench
