//===- MockCuda.cpp - A fake libcuda.so.1 for runtime tests -----*- C++ -*-===//
//
// Not a GPU: a host-memory emulation of the driver entry points that
// runtime/CudaDriver.h resolves, so that machines without one (CI) run the
// CUDA runtime's own code instead of skipping it. It tests the runtime's
// bookkeeping, never kernels: "device" memory is aligned host memory, the
// only stream is the default one, and work runs when it is enqueued, which
// one in-order stream cannot tell from running it later. It cannot execute
// PTX: it recognizes the empty kernel and the two hand-written kernels of
// test/unit/CudaTest.cpp and runs their C++ equivalents; launching anything
// else aborts. So does misuse that a real driver might survive or report as
// an error code (no current context, a pointer outside every allocation, a
// double free, bad launch dimensions, memory left when the context goes), so
// that a runtime bug fails loudly. It is built into a folder of its own that
// only the tests' LD_LIBRARY_PATH leads dlopen("libcuda.so.1") to.
//
//===----------------------------------------------------------------------===//
#include "MockCuda.h"

#include "nos/KernelABI.h"

#include <cuda.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cmath>
#include <cstdarg>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace {

/// Misuse is a bug in the caller, so it ends the process rather than
/// returning an error code that the caller might ignore.
[[noreturn]] __attribute__((format(printf, 1, 2))) void
misuse(const char *format, ...) {
  std::fprintf(stderr, "mock libcuda: misuse: ");
  va_list args;
  va_start(args, format);
  std::vfprintf(stderr, format, args);
  va_end(args);
  std::fputc('\n', stderr);
  std::abort();
}

/// What a launch of a module's nos_rule does; see the file comment.
enum class Kernel { Empty, Sgd, Probe, Unknown };

struct Module {
  bool hasEntry = false; // declares .entry nos_rule
  Kernel kernel = Kernel::Unknown;
  std::vector<size_t> paramSizes, paramOffsets;
};

struct Event {
  bool recorded = false;
  std::chrono::steady_clock::time_point when;
};

// One device. Two multiprocessors, so that run()'s cap on blocks (the
// kernel's occupancy per multiprocessor: 3 here, or $NOS_MOCK_OCCUPANCY) is
// reached by tests with only a few chunks.
constexpr int kMultiprocessors = 2;
constexpr size_t kDeviceBytes = size_t(4) << 30; // beyond it: out of memory
constexpr size_t kAlignment = 256;               // what cuMemAlloc promises

struct State {
  std::mutex mutex;
  bool initialized = false;
  NosMockCudaStats stats{};
  std::map<uintptr_t, size_t> allocations; // base -> bytes
  size_t allocatedBytes = 0;
  std::map<const void *, std::unique_ptr<Module>> modules;
  std::map<const void *, std::unique_ptr<Event>> events;
};

/// Never destroyed: the runtime may call the driver from static destructors.
State &state() {
  static State *s = new State;
  return *s;
}

char primaryContextTag;
CUcontext primaryContext() {
  return reinterpret_cast<CUcontext>(&primaryContextTag);
}
// As in the real driver, the current context is per thread.
thread_local CUcontext current = nullptr;

/// Serializes an entry point (the runtime calls from any thread) and checks
/// that cuInit came first.
struct Entry {
  std::lock_guard<std::mutex> lock{state().mutex};
  explicit Entry(const char *call) {
    if (!state().initialized)
      misuse("%s before cuInit", call);
  }
};

void requireContext(const char *call) {
  if (current != primaryContext())
    misuse("%s without a current context", call);
  if (state().stats.primaryContextRefs == 0)
    misuse("%s in the primary context after its last release", call);
}

/// Only the default stream exists: the mock exports no cuStreamCreate.
void requireStream(CUstream stream, const char *call) {
  if (stream && stream != CU_STREAM_LEGACY && stream != CU_STREAM_PER_THREAD)
    misuse("%s on stream %p; the mock has only the default stream", call,
           static_cast<void *>(stream));
}

/// The host address of device range [p, p + n), which must lie within one
/// allocation.
char *device(CUdeviceptr p, size_t n, const char *what) {
  const auto &allocations = state().allocations;
  auto it = allocations.upper_bound(uintptr_t(p));
  if (it != allocations.begin()) {
    --it;
    size_t offset = uintptr_t(p) - it->first;
    if (offset <= it->second && n <= it->second - offset)
      return reinterpret_cast<char *>(uintptr_t(p));
  }
  misuse("%s: device range %#llx + %zu bytes lies outside every allocation",
         what, static_cast<unsigned long long>(p), n);
}

/// Host memory passed as such must not be device memory: mock device memory
/// is host memory, so swapped arguments would otherwise go unnoticed.
void requireHost(const void *p, size_t n, const char *what) {
  const auto &allocations = state().allocations;
  auto it = allocations.lower_bound(uintptr_t(p) + n);
  if (it != allocations.begin() && (--it)->first + it->second > uintptr_t(p))
    misuse("%s: host pointer %p is device memory", what, p);
}

Module &module(const void *handle, const char *call) {
  auto it = state().modules.find(handle);
  if (it == state().modules.end())
    misuse("%s of %p, which is no loaded module (unloaded already?)", call,
           handle);
  return *it->second;
}

Event &event(CUevent handle, const char *call) {
  auto it = state().events.find(handle);
  if (it == state().events.end())
    misuse("%s of %p, which is no live event (destroyed already?)", call,
           static_cast<void *>(handle));
  return *it->second;
}

/// The size of a PTX parameter of `type` ("u64", "f32", ...), 0 if unknown.
size_t paramSize(const std::string &type) {
  if (type.size() != 3 || !std::strchr("usbf", type[0]))
    return 0;
  return type.compare(1, 2, "64") == 0   ? 8
         : type.compare(1, 2, "32") == 0 ? 4
                                         : 0;
}

/// Fills `m` from the PTX text; returns why it cannot, as ptxas would fail.
/// Only the entry's signature is parsed, which is all that the runtime's
/// parameter check and the launch need.
std::string parsePtx(const std::string &ptx, Module &m) {
  if (ptx.rfind(".version ", 0) != 0)
    return "line 1: a PTX module starts with .version";
  const std::string entry = ".entry nos_rule(";
  size_t open = ptx.find(entry);
  if (open == std::string::npos)
    return ""; // no nos_rule: cuModuleGetFunction will say so
  open += entry.size();
  size_t close = ptx.find(')', open);
  if (close == std::string::npos)
    return "nos_rule's parameter list is not closed";
  m.hasEntry = true;
  size_t offset = 0;
  for (size_t p = ptx.find(".param .", open); p < close;
       p = ptx.find(".param .", p + 1)) {
    size_t size = paramSize(ptx.substr(p + 8, 3));
    if (!size)
      return "unsupported parameter type in " + ptx.substr(p, 12);
    offset = (offset + size - 1) / size * size;
    m.paramSizes.push_back(size);
    m.paramOffsets.push_back(offset);
    offset += size;
  }
  // Each test kernel is known by an instruction the others lack.
  std::string body;
  for (char c : ptx.substr(close + 1))
    if (!std::isspace(static_cast<unsigned char>(c)))
      body += c;
  if (body == "{ret;}")
    m.kernel = Kernel::Empty;
  else if (ptx.find("fma.rn.f32", close) != std::string::npos)
    m.kernel = Kernel::Sgd;
  else if (ptx.find("st.global.u64 [%rd2+" +
                        std::to_string(sizeof(NosArgs) + 8) + "]",
                    close) != std::string::npos)
    m.kernel = Kernel::Probe;
  return "";
}

template <typename T> T param(void **params, int i) {
  T value;
  std::memcpy(&value, params[i], sizeof(T));
  return value;
}

/// CudaTest.cpp's sgd kernel: w = fma(-lr, g, w) over every chunk.
void runSgd(const NosTensor *table, const NosChunk *chunks, int64_t nchunks,
            float lr) {
  for (int64_t c = 0; c < nchunks; ++c) {
    const NosChunk &k = chunks[c];
    const NosTensor &t = table[k.tensor];
    size_t bytes = size_t(k.end - k.begin) * sizeof(float);
    auto *w = reinterpret_cast<float *>(
        device(CUdeviceptr(uintptr_t(t.w + k.begin)), bytes, "sgd's w"));
    auto *g = reinterpret_cast<const float *>(
        device(CUdeviceptr(uintptr_t(t.g + k.begin)), bytes, "sgd's g"));
    for (int64_t i = 0; i < k.end - k.begin; ++i)
      w[i] = std::fma(-lr, g[i], w[i]);
  }
}

/// CudaTest.cpp's probe kernel: writes its parameters into table[0].w at
/// their NosArgs offsets, then nchunks and chunks[0].end after them.
void runProbe(const NosTensor *table, const NosChunk *chunks, void **params) {
  static_assert(offsetof(NosArgs, sched) == NOS_ARGS_SCALARS * 4,
                "the floats of NosArgs are packed from its start");
  char *out = device(CUdeviceptr(uintptr_t(table[0].w)), sizeof(NosArgs) + 16,
                     "probe's output");
  int i = 3;
  for (; i < 3 + NOS_ARGS_SCALARS + NOS_MAX_SCHEDULES; ++i)
    std::memcpy(out + 4 * (i - 3), params[i], 4);
  for (size_t offset : {offsetof(NosArgs, step), offsetof(NosArgs, total_steps),
                        offsetof(NosArgs, seed)})
    std::memcpy(out + offset, params[i++], 8);
  std::memcpy(out + sizeof(NosArgs), params[2], 8);
  std::memcpy(out + sizeof(NosArgs) + 8, &chunks[0].end, 8);
}

struct ErrorText {
  CUresult code;
  const char *name, *text;
};

// Every code the mock returns, worded as the real driver words it.
constexpr ErrorText kErrors[] = {
    {CUDA_SUCCESS, "CUDA_SUCCESS", "no error"},
    {CUDA_ERROR_INVALID_VALUE, "CUDA_ERROR_INVALID_VALUE", "invalid argument"},
    {CUDA_ERROR_OUT_OF_MEMORY, "CUDA_ERROR_OUT_OF_MEMORY", "out of memory"},
    {CUDA_ERROR_INVALID_DEVICE, "CUDA_ERROR_INVALID_DEVICE",
     "invalid device ordinal"},
    {CUDA_ERROR_INVALID_PTX, "CUDA_ERROR_INVALID_PTX",
     "a PTX JIT compilation failed"},
    {CUDA_ERROR_INVALID_HANDLE, "CUDA_ERROR_INVALID_HANDLE",
     "invalid resource handle"},
    {CUDA_ERROR_NOT_FOUND, "CUDA_ERROR_NOT_FOUND", "named symbol not found"},
};

const ErrorText *errorText(CUresult r) {
  for (const ErrorText &e : kErrors)
    if (e.code == r)
      return &e;
  return nullptr;
}

} // namespace

extern "C" {

NosMockCudaStats nosMockCudaStats() {
  std::lock_guard<std::mutex> lock(state().mutex);
  NosMockCudaStats s = state().stats;
  s.liveAllocations = int64_t(state().allocations.size());
  s.liveModules = int64_t(state().modules.size());
  s.liveEvents = int64_t(state().events.size());
  return s;
}

CUresult CUDAAPI cuInit(unsigned int flags) {
  std::lock_guard<std::mutex> lock(state().mutex);
  if (flags != 0)
    return CUDA_ERROR_INVALID_VALUE;
  state().initialized = true;
  return CUDA_SUCCESS;
}

// As in the real driver, these two work before cuInit and set *s to nullptr
// for a code they do not know.
CUresult CUDAAPI cuGetErrorName(CUresult r, const char **s) {
  const ErrorText *e = errorText(r);
  *s = e ? e->name : nullptr;
  return e ? CUDA_SUCCESS : CUDA_ERROR_INVALID_VALUE;
}

CUresult CUDAAPI cuGetErrorString(CUresult r, const char **s) {
  const ErrorText *e = errorText(r);
  *s = e ? e->text : nullptr;
  return e ? CUDA_SUCCESS : CUDA_ERROR_INVALID_VALUE;
}

CUresult CUDAAPI cuDeviceGetCount(int *count) {
  Entry entry("cuDeviceGetCount");
  *count = 1;
  return CUDA_SUCCESS;
}

CUresult CUDAAPI cuDeviceGet(CUdevice *dev, int ordinal) {
  Entry entry("cuDeviceGet");
  if (ordinal != 0)
    return CUDA_ERROR_INVALID_DEVICE;
  *dev = 0;
  return CUDA_SUCCESS;
}

CUresult CUDAAPI cuDeviceGetAttribute(int *value, CUdevice_attribute a,
                                      CUdevice dev) {
  Entry entry("cuDeviceGetAttribute");
  if (dev != 0)
    return CUDA_ERROR_INVALID_DEVICE;
  switch (a) {
  case CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT:
    *value = kMultiprocessors;
    break;
  case CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR:
    *value = 9;
    break;
  case CU_DEVICE_ATTRIBUTE_MAX_THREADS_PER_BLOCK:
    *value = 1024;
    break;
  default: // the runtime asks for no other
    *value = 0;
  }
  return CUDA_SUCCESS;
}

CUresult CUDAAPI cuDeviceGetName(char *name, int len, CUdevice dev) {
  Entry entry("cuDeviceGetName");
  if (dev != 0)
    return CUDA_ERROR_INVALID_DEVICE;
  if (len <= 0)
    return CUDA_ERROR_INVALID_VALUE;
  std::snprintf(name, size_t(len), "nos mock GPU (host memory)");
  return CUDA_SUCCESS;
}

CUresult CUDAAPI cuDevicePrimaryCtxRetain(CUcontext *ctx, CUdevice dev) {
  Entry entry("cuDevicePrimaryCtxRetain");
  if (dev != 0)
    return CUDA_ERROR_INVALID_DEVICE;
  ++state().stats.primaryContextRefs;
  *ctx = primaryContext();
  return CUDA_SUCCESS;
}

CUresult CUDAAPI cuDevicePrimaryCtxRelease_v2(CUdevice dev) {
  Entry entry("cuDevicePrimaryCtxRelease");
  if (dev != 0)
    return CUDA_ERROR_INVALID_DEVICE;
  State &s = state();
  if (s.stats.primaryContextRefs == 0)
    misuse("the primary context was released more often than retained");
  // The last release destroys the context. The real driver frees what is
  // left, but here it would be memory the runtime forgot.
  if (--s.stats.primaryContextRefs == 0 &&
      (!s.allocations.empty() || !s.modules.empty() || !s.events.empty()))
    misuse("the primary context was destroyed with %zu allocations, %zu "
           "modules and %zu events still live",
           s.allocations.size(), s.modules.size(), s.events.size());
  return CUDA_SUCCESS;
}

CUresult CUDAAPI cuCtxSetCurrent(CUcontext ctx) {
  Entry entry("cuCtxSetCurrent");
  if (ctx && ctx != primaryContext())
    misuse("cuCtxSetCurrent of %p, which is no context",
           static_cast<void *>(ctx));
  if (ctx && state().stats.primaryContextRefs == 0)
    misuse("cuCtxSetCurrent of the primary context, which is not retained");
  current = ctx;
  return CUDA_SUCCESS;
}

CUresult CUDAAPI cuCtxSynchronize() {
  Entry entry("cuCtxSynchronize");
  requireContext("cuCtxSynchronize");
  return CUDA_SUCCESS; // work ran when it was enqueued
}

CUresult CUDAAPI cuStreamSynchronize(CUstream stream) {
  Entry entry("cuStreamSynchronize");
  requireContext("cuStreamSynchronize");
  requireStream(stream, "cuStreamSynchronize");
  return CUDA_SUCCESS;
}

CUresult CUDAAPI cuMemAlloc_v2(CUdeviceptr *p, size_t bytes) {
  Entry entry("cuMemAlloc");
  requireContext("cuMemAlloc");
  State &s = state();
  if (bytes == 0)
    return CUDA_ERROR_INVALID_VALUE;
  if (bytes > kDeviceBytes - s.allocatedBytes)
    return CUDA_ERROR_OUT_OF_MEMORY;
  void *m = std::aligned_alloc(kAlignment, (bytes + kAlignment - 1) /
                                               kAlignment * kAlignment);
  if (!m)
    return CUDA_ERROR_OUT_OF_MEMORY;
  // Not zeros, so that reading memory nobody wrote shows in results.
  std::memset(m, 0xcd, bytes);
  *p = CUdeviceptr(uintptr_t(m));
  s.allocations[uintptr_t(m)] = bytes;
  s.allocatedBytes += bytes;
  ++s.stats.allocations;
  return CUDA_SUCCESS;
}

CUresult CUDAAPI cuMemFree_v2(CUdeviceptr p) {
  Entry entry("cuMemFree");
  requireContext("cuMemFree");
  State &s = state();
  auto it = s.allocations.find(uintptr_t(p));
  if (it == s.allocations.end())
    misuse("cuMemFree of %#llx, which is no live allocation (double free?)",
           static_cast<unsigned long long>(p));
  s.allocatedBytes -= it->second;
  s.allocations.erase(it);
  std::free(reinterpret_cast<void *>(uintptr_t(p)));
  return CUDA_SUCCESS;
}

CUresult CUDAAPI cuMemcpyHtoD_v2(CUdeviceptr dst, const void *src,
                                 size_t bytes) {
  Entry entry("cuMemcpyHtoD");
  requireContext("cuMemcpyHtoD");
  if (bytes) {
    requireHost(src, bytes, "cuMemcpyHtoD");
    std::memcpy(device(dst, bytes, "cuMemcpyHtoD"), src, bytes);
  }
  return CUDA_SUCCESS;
}

CUresult CUDAAPI cuMemcpyDtoH_v2(void *dst, CUdeviceptr src, size_t bytes) {
  Entry entry("cuMemcpyDtoH");
  requireContext("cuMemcpyDtoH");
  if (bytes) {
    requireHost(dst, bytes, "cuMemcpyDtoH");
    std::memcpy(dst, device(src, bytes, "cuMemcpyDtoH"), bytes);
  }
  return CUDA_SUCCESS;
}

CUresult CUDAAPI cuMemcpyHtoDAsync_v2(CUdeviceptr dst, const void *src,
                                      size_t bytes, CUstream stream) {
  Entry entry("cuMemcpyHtoDAsync");
  requireContext("cuMemcpyHtoDAsync");
  requireStream(stream, "cuMemcpyHtoDAsync");
  ++state().stats.asyncUploads;
  if (bytes) {
    requireHost(src, bytes, "cuMemcpyHtoDAsync");
    std::memcpy(device(dst, bytes, "cuMemcpyHtoDAsync"), src, bytes);
  }
  return CUDA_SUCCESS;
}

CUresult CUDAAPI cuMemcpyDtoDAsync_v2(CUdeviceptr dst, CUdeviceptr src,
                                      size_t bytes, CUstream stream) {
  Entry entry("cuMemcpyDtoDAsync");
  requireContext("cuMemcpyDtoDAsync");
  requireStream(stream, "cuMemcpyDtoDAsync");
  if (bytes)
    std::memmove(device(dst, bytes, "cuMemcpyDtoDAsync's destination"),
                 device(src, bytes, "cuMemcpyDtoDAsync's source"), bytes);
  return CUDA_SUCCESS;
}

CUresult CUDAAPI cuMemsetD8_v2(CUdeviceptr dst, unsigned char value,
                               size_t count) {
  Entry entry("cuMemsetD8");
  requireContext("cuMemsetD8");
  if (count)
    std::memset(device(dst, count, "cuMemsetD8"), value, count);
  return CUDA_SUCCESS;
}

CUresult CUDAAPI cuModuleLoadDataEx(CUmodule *handle, const void *image,
                                    unsigned int numOptions,
                                    CUjit_option *options, void **values) {
  Entry entry("cuModuleLoadDataEx");
  requireContext("cuModuleLoadDataEx");
  if (!image)
    return CUDA_ERROR_INVALID_VALUE;
  auto m = std::make_unique<Module>();
  std::string why = parsePtx(static_cast<const char *>(image), *m);
  if (!why.empty()) {
    char *log = nullptr;
    size_t capacity = 0;
    for (unsigned i = 0; i < numOptions; ++i)
      if (options[i] == CU_JIT_ERROR_LOG_BUFFER)
        log = static_cast<char *>(values[i]);
      else if (options[i] == CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES)
        capacity = size_t(uintptr_t(values[i]));
    if (log && capacity)
      std::snprintf(log, capacity, "mock libcuda (no ptxas): %s", why.c_str());
    return CUDA_ERROR_INVALID_PTX;
  }
  *handle = reinterpret_cast<CUmodule>(m.get());
  state().modules[m.get()] = std::move(m);
  return CUDA_SUCCESS;
}

CUresult CUDAAPI cuModuleUnload(CUmodule handle) {
  Entry entry("cuModuleUnload");
  requireContext("cuModuleUnload");
  module(handle, "cuModuleUnload");
  state().modules.erase(handle);
  return CUDA_SUCCESS;
}

CUresult CUDAAPI cuOccupancyMaxActiveBlocksPerMultiprocessor(
    int *blocks, CUfunction fn, int blockSize, size_t dynamicSmem) {
  Entry entry("cuOccupancyMaxActiveBlocksPerMultiprocessor");
  module(fn, "cuOccupancyMaxActiveBlocksPerMultiprocessor");
  if (blockSize < 1 || blockSize > 1024 || dynamicSmem)
    misuse("cuOccupancyMaxActiveBlocksPerMultiprocessor of block %d, %zu "
           "bytes shared",
           blockSize, dynamicSmem);
  const char *forced = std::getenv("NOS_MOCK_OCCUPANCY");
  *blocks = forced ? std::atoi(forced) : 3;
  return CUDA_SUCCESS;
}

// A module's only function is its nos_rule, so the handles are the same.
CUresult CUDAAPI cuModuleGetFunction(CUfunction *fn, CUmodule handle,
                                     const char *name) {
  Entry entry("cuModuleGetFunction");
  requireContext("cuModuleGetFunction");
  const Module &m = module(handle, "cuModuleGetFunction");
  if (!m.hasEntry || std::strcmp(name, "nos_rule") != 0)
    return CUDA_ERROR_NOT_FOUND;
  *fn = reinterpret_cast<CUfunction>(handle);
  return CUDA_SUCCESS;
}

CUresult CUDAAPI cuFuncGetParamInfo(CUfunction fn, size_t index, size_t *offset,
                                    size_t *size) {
  Entry entry("cuFuncGetParamInfo");
  const Module &m = module(fn, "cuFuncGetParamInfo");
  if (index >= m.paramSizes.size())
    return CUDA_ERROR_INVALID_VALUE;
  *offset = m.paramOffsets[index];
  if (size)
    *size = m.paramSizes[index];
  return CUDA_SUCCESS;
}

CUresult CUDAAPI cuLaunchKernel(CUfunction fn, unsigned gridX, unsigned gridY,
                                unsigned gridZ, unsigned blockX,
                                unsigned blockY, unsigned blockZ,
                                unsigned sharedBytes, CUstream stream,
                                void **params, void **extra) {
  Entry entry("cuLaunchKernel");
  requireContext("cuLaunchKernel");
  requireStream(stream, "cuLaunchKernel");
  const Module &m = module(fn, "cuLaunchKernel");
  // The kernel ABI is one-dimensional and uses no shared memory.
  if (gridX == 0 || gridY != 1 || gridZ != 1 || blockX == 0 || blockX > 1024 ||
      blockY != 1 || blockZ != 1 || sharedBytes || extra || !params)
    misuse("cuLaunchKernel of grid %ux%ux%u, block %ux%ux%u, %u bytes shared, "
           "params %p, extra %p",
           gridX, gridY, gridZ, blockX, blockY, blockZ, sharedBytes,
           static_cast<void *>(params), static_cast<void *>(extra));
  if (m.paramSizes.size() != NOS_GPU_PARAMS)
    misuse("cuLaunchKernel of a kernel with %zu parameters, not the ABI's %d",
           m.paramSizes.size(), NOS_GPU_PARAMS);

  auto tablePtr = param<CUdeviceptr>(params, 0);
  auto chunksPtr = param<CUdeviceptr>(params, 1);
  auto nchunks = param<int64_t>(params, 2);
  // run() launches only with chunks to do, and no block without one.
  if (nchunks <= 0 || int64_t(gridX) > nchunks)
    misuse("cuLaunchKernel of %u blocks for %lld chunks", gridX,
           static_cast<long long>(nchunks));
  auto *chunks = reinterpret_cast<const NosChunk *>(
      device(chunksPtr, size_t(nchunks) * sizeof(NosChunk), "the chunk list"));
  int64_t tensors = 0;
  for (int64_t c = 0; c < nchunks; ++c) {
    const NosChunk &k = chunks[c];
    if (k.tensor < 0 || k.begin < 0 || k.end <= k.begin)
      misuse("chunk %lld is {%lld, %lld, %lld}", static_cast<long long>(c),
             static_cast<long long>(k.tensor), static_cast<long long>(k.begin),
             static_cast<long long>(k.end));
    tensors = std::max(tensors, k.tensor + 1);
  }
  auto *table = reinterpret_cast<const NosTensor *>(
      device(tablePtr, size_t(tensors) * sizeof(NosTensor), "the table"));
  for (int64_t c = 0; c < nchunks; ++c)
    if (chunks[c].end > table[chunks[c].tensor].n)
      misuse("chunk %lld ends past its tensor", static_cast<long long>(c));

  ++state().stats.launches;
  state().stats.lastGrid = gridX;
  state().stats.lastBlock = blockX;
  switch (m.kernel) {
  case Kernel::Empty:
    break;
  case Kernel::Sgd:
    runSgd(table, chunks, nchunks, param<float>(params, 3));
    break;
  case Kernel::Probe:
    runProbe(table, chunks, params);
    break;
  case Kernel::Unknown:
    misuse("cuLaunchKernel of a kernel the mock cannot run: it runs only the "
           "empty kernel and those of test/unit/CudaTest.cpp");
  }
  return CUDA_SUCCESS;
}

CUresult CUDAAPI cuEventCreate(CUevent *handle, unsigned int) {
  Entry entry("cuEventCreate");
  requireContext("cuEventCreate");
  auto e = std::make_unique<Event>();
  *handle = reinterpret_cast<CUevent>(e.get());
  state().events[e.get()] = std::move(e);
  return CUDA_SUCCESS;
}

CUresult CUDAAPI cuEventDestroy_v2(CUevent handle) {
  Entry entry("cuEventDestroy");
  event(handle, "cuEventDestroy");
  state().events.erase(handle);
  return CUDA_SUCCESS;
}

CUresult CUDAAPI cuEventRecord(CUevent handle, CUstream stream) {
  Entry entry("cuEventRecord");
  requireContext("cuEventRecord");
  requireStream(stream, "cuEventRecord");
  Event &e = event(handle, "cuEventRecord");
  e.recorded = true;
  e.when = std::chrono::steady_clock::now();
  return CUDA_SUCCESS;
}

CUresult CUDAAPI cuEventSynchronize(CUevent handle) {
  Entry entry("cuEventSynchronize");
  event(handle, "cuEventSynchronize");
  return CUDA_SUCCESS;
}

// Work runs when it is enqueued, so host time between the records is the
// time of the work between them.
CUresult CUDAAPI cuEventElapsedTime_v2(float *ms, CUevent start, CUevent end) {
  Entry entry("cuEventElapsedTime");
  const Event &a = event(start, "cuEventElapsedTime");
  const Event &b = event(end, "cuEventElapsedTime");
  if (!a.recorded || !b.recorded)
    return CUDA_ERROR_INVALID_HANDLE;
  *ms = std::chrono::duration<float, std::milli>(b.when - a.when).count();
  return CUDA_SUCCESS;
}

} // extern "C"
