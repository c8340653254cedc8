//===- CudaDriver.cpp - Loading the CUDA driver at run time -----*- C++ -*-===//
//
// Opens libcuda.so.1 once per process, resolves every entry point nos uses and
// calls cuInit. A failure at any step is kept as a sentence and reported by
// every later use instead of being retried, so cudaAvailable() and a failing
// CudaExecutor always give the same reason. The library is never closed:
// drivers do not support being unloaded while contexts may exist.
//
//===----------------------------------------------------------------------===//
#include "CudaDriver.h"

#include "nos/CudaExecutor.h"

#if NOS_HAVE_CUDA_H
#include <dlfcn.h>

namespace nos::cuda {

namespace {

struct Loaded {
  Driver api;
  std::string problem;
};

/// Resolves the first of `names` the library exports into `fn`.
template <typename Fn>
bool resolve(void *lib, Fn &fn, std::initializer_list<const char *> names) {
  for (const char *name : names)
    if (void *sym = dlsym(lib, name)) {
      fn = reinterpret_cast<Fn>(sym);
      return true;
    }
  return false;
}

/// Fills `api` from the library, or returns why it cannot.
std::string resolveAll(void *lib, Driver &api) {
#define NOS_CUDA_RESOLVE(name)                                                 \
  if (!resolve(lib, api.name, {#name}))                                        \
    return "the CUDA driver lacks " #name " (driver too old?)";
  NOS_CUDA_ENTRY_POINTS(NOS_CUDA_RESOLVE)
#undef NOS_CUDA_RESOLVE
  resolve(lib, api.eventElapsedTime,
          {"cuEventElapsedTime_v2", "cuEventElapsedTime"});
  resolve(lib, api.cuFuncGetParamInfo, {"cuFuncGetParamInfo"});
  return "";
}

std::string describeWith(const Driver &d, CUresult r) {
  const char *name = nullptr, *text = nullptr;
  d.cuGetErrorName(r, &name);
  d.cuGetErrorString(r, &text);
  std::string s = name ? name : "CUresult " + std::to_string(int(r));
  return s + " (" + (text ? text : "unknown error") + ")";
}

Loaded load() {
  Loaded l;
  // RTLD_LOCAL keeps the driver's symbols from resolving anyone else's
  // references (torch may load its own copy through the CUDA runtime).
  void *lib = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
  if (!lib) {
    const char *err = dlerror();
    l.problem = std::string("no CUDA driver: ") + (err ? err : "libcuda.so.1");
    return l;
  }
  l.problem = resolveAll(lib, l.api);
  if (!l.problem.empty())
    return l;
  if (CUresult r = l.api.cuInit(0); r != CUDA_SUCCESS)
    l.problem = "cuInit failed: " + describeWith(l.api, r);
  return l;
}

const Loaded &loaded() {
  static const Loaded l = load();
  return l;
}

} // namespace

const Driver &driver() {
  const Loaded &l = loaded();
  if (!l.problem.empty())
    throw CudaError(l.problem);
  return l.api;
}

const std::string &driverProblem() { return loaded().problem; }

std::string describe(CUresult r) { return describeWith(driver(), r); }

void check(CUresult r, const char *call) {
  if (r != CUDA_SUCCESS)
    throw CudaError(std::string(call) + " failed: " + describe(r));
}

} // namespace nos::cuda

namespace nos {

bool cudaAvailable(std::string *why) {
  std::string reason = cuda::driverProblem();
  if (reason.empty()) {
    int count = 0;
    CUresult r = cuda::driver().cuDeviceGetCount(&count);
    if (r != CUDA_SUCCESS)
      reason = "cuDeviceGetCount failed: " + cuda::describe(r);
    else if (count == 0)
      reason = "no CUDA device";
  }
  if (why)
    *why = reason;
  return reason.empty();
}

} // namespace nos

#else // !NOS_HAVE_CUDA_H

namespace nos {

bool cudaAvailable(std::string *why) {
  if (why)
    *why = cuda::kNoCudaHeaders;
  return false;
}

} // namespace nos

#endif // NOS_HAVE_CUDA_H
