//===- CudaExecutor.cpp - Launching compiled kernels on a GPU ---*- C++ -*-===//
//
// A step is one launch: the kernel walks a chunk list (makeChunks) as
// PyTorch's multi_tensor_apply does, so the host's per-step work is finding
// the table in a small cache and calling cuLaunchKernel with NosArgs by value.
// A table and its chunks share one device buffer, uploaded on the launch's
// own stream so the upload is ordered before the kernel without a host wait;
// that ordering is also why cached tables are per stream.
//
//===----------------------------------------------------------------------===//
#include "CudaDriver.h"

#include "nos/CudaExecutor.h"

#include <algorithm>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <stdexcept>

namespace nos {

std::vector<NosChunk> makeChunks(const NosTensor *table, int64_t count,
                                 int64_t chunk) {
  if (chunk <= 0)
    throw std::invalid_argument("makeChunks: the chunk size must be positive");
  std::vector<NosChunk> chunks;
  for (int64_t t = 0; t < count; ++t) {
    int64_t n = table[t].n;
    for (int64_t begin = 0; begin < n;) {
      // n - begin rather than begin + chunk, which could overflow.
      int64_t len = std::min(chunk, n - begin);
      chunks.push_back({t, begin, begin + len});
      begin += len;
    }
  }
  return chunks;
}

} // namespace nos

#if NOS_HAVE_CUDA_H
#include <cstring>
#include <list>
#include <mutex>
#include <unordered_map>
#include <utility>

namespace nos {

using cuda::driver;

namespace {

struct Module {
  CUmodule module = nullptr;
  CUfunction entry = nullptr;
  /// Blocks of kBlockThreads one multiprocessor holds at once, as the driver
  /// computes it from the kernel's registers.
  int blocksPerMultiprocessor = 0;
};

/// A table uploaded for `stream`: NosTensor[count] then NosChunk[chunks].
struct Upload {
  CUstream stream = nullptr;
  std::string bytes; // the host table, the cache key
  CUdeviceptr buffer = 0;
  size_t capacity = 0;
  int64_t chunks = 0;
};

/// Waits for all work in the current context.
void synchronizeContext() {
  cuda::check(driver().cuCtxSynchronize(), "cuCtxSynchronize");
}

CUdeviceptr devicePtr(const void *p) { return CUdeviceptr(uintptr_t(p)); }

/// Parameter sizes of nos_rule in order (KernelABI.h).
std::vector<size_t> abiParamSizes() {
  std::vector<size_t> sizes(3, 8);                  // table, chunks, nchunks
  sizes.resize(sizes.size() + NOS_ARGS_SCALARS, 4); // lr ... gscale
  sizes.resize(sizes.size() + NOS_MAX_SCHEDULES, 4);
  sizes.resize(sizes.size() + 3, 8); // step, total_steps, seed
  return sizes;
}

std::string join(const std::vector<size_t> &sizes) {
  std::string s;
  for (size_t size : sizes)
    s += (s.empty() ? "" : " ") + std::to_string(size);
  return s;
}

/// Throws if the driver can tell that `entry` does not take the ABI's
/// parameters: cuLaunchKernel would otherwise pass only as many as the kernel
/// declares, and the kernel would read shifted or missing arguments.
void checkParams(CUfunction entry, const std::string &key) {
  auto query = driver().cuFuncGetParamInfo;
  if (!query)
    return;
  std::vector<size_t> want = abiParamSizes(), got;
  // One past the ABI's count, to notice a kernel with too many.
  for (size_t i = 0; i <= want.size(); ++i) {
    size_t offset = 0, size = 0;
    CUresult r = query(entry, i, &offset, &size);
    if (r == CUDA_ERROR_INVALID_VALUE)
      break; // i is past the last parameter
    if (r != CUDA_SUCCESS)
      return; // this driver cannot tell
    got.push_back(size);
  }
  // No parameter at all is how a driver without the information answers
  // (every nos kernel takes the ABI's): only a list it gave is checked.
  if (got.empty())
    return;
  if (got != want)
    throw CudaError("nos_rule of kernel '" + key +
                    "' does not take the kernel ABI's parameters: their "
                    "sizes are [" +
                    join(got) + "], KernelABI.h says [" + join(want) + "]");
}

/// Loads PTX, turning a JIT failure into an error that carries ptxas's log.
CUmodule loadPtx(const std::string &ptx, const std::string &key) {
  std::vector<char> log(16 * 1024, '\0');
  CUjit_option options[] = {CU_JIT_ERROR_LOG_BUFFER,
                            CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES};
  void *values[] = {log.data(), reinterpret_cast<void *>(log.size())};
  CUmodule module = nullptr;
  CUresult r =
      driver().cuModuleLoadDataEx(&module, ptx.c_str(), 2, options, values);
  if (r == CUDA_SUCCESS)
    return module;
  log.back() = '\0';
  std::string msg = "cuModuleLoadDataEx failed for kernel '" + key +
                    "': " + cuda::describe(r);
  if (log[0])
    msg += "\n" + std::string(log.data());
  throw CudaError(msg);
}

/// Destroys a pair of events however timeMs leaves.
struct EventPair {
  CUevent start = nullptr, stop = nullptr;
  ~EventPair() {
    if (start)
      driver().cuEventDestroy_v2(start);
    if (stop)
      driver().cuEventDestroy_v2(stop);
  }
};

} // namespace

struct CudaExecutor::Impl {
  int ordinal = 0;
  CUdevice device = 0;
  CUcontext context = nullptr;
  int multiprocessors = 0;
  int computeCapability = 0;
  std::string name;

  std::mutex mutex; // guards modules and uploads
  std::unordered_map<std::string, Module> modules;
  std::list<Upload> uploads; // most recently used first

  ~Impl();
  void bind() const { NOS_CU(cuCtxSetCurrent, context); }
  int attribute(CUdevice_attribute a) const;
  void open(int ordinal);
  const Module &module(const std::string &key) const;
  const Upload &upload(const NosTensor *table, int64_t count, CUstream stream);
  Upload takeSlot(CUstream stream, size_t bytes);
  void launch(const Module &m, const Upload &u, const NosArgs &args);
};

CudaExecutor::Impl::~Impl() {
  if (!context)
    return;
  // Results are ignored: at process exit the driver may already be shut down,
  // and a destructor has no one to report to.
  const cuda::Driver &d = driver();
  d.cuCtxSetCurrent(context);
  d.cuCtxSynchronize();
  for (Upload &u : uploads)
    if (u.buffer)
      d.cuMemFree_v2(u.buffer);
  for (auto &entry : modules)
    d.cuModuleUnload(entry.second.module);
  d.cuDevicePrimaryCtxRelease_v2(device);
}

int CudaExecutor::Impl::attribute(CUdevice_attribute a) const {
  int value = 0;
  NOS_CU(cuDeviceGetAttribute, &value, a, device);
  return value;
}

void CudaExecutor::Impl::open(int index) {
  std::string why;
  if (!cudaAvailable(&why))
    throw CudaError("CUDA is unavailable: " + why);
  int count = 0;
  NOS_CU(cuDeviceGetCount, &count);
  if (index < 0 || index >= count)
    throw CudaError("no CUDA device " + std::to_string(index) + " (" +
                    std::to_string(count) + " present)");
  ordinal = index;
  NOS_CU(cuDeviceGet, &device, index);
  NOS_CU(cuDevicePrimaryCtxRetain, &context, device);
  bind();
  multiprocessors = attribute(CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT);
  computeCapability =
      attribute(CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR) * 10 +
      attribute(CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR);
  char buf[256] = {};
  NOS_CU(cuDeviceGetName, buf, int(sizeof(buf) - 1), device);
  name = buf;
}

const Module &CudaExecutor::Impl::module(const std::string &key) const {
  auto it = modules.find(key);
  if (it == modules.end())
    throw CudaError("no GPU kernel is loaded under '" + key + "'");
  return it->second;
}

/// How many blocks of kBlockThreads of `entry` a multiprocessor holds; a
/// kernel that cannot hold one (too many registers for the block) is refused
/// at load, not at its first launch.
static int occupancy(CUfunction entry, const std::string &key) {
  int blocks = 0;
  NOS_CU(cuOccupancyMaxActiveBlocksPerMultiprocessor, &blocks, entry,
         int(CudaExecutor::kBlockThreads), size_t(0));
  if (blocks < 1)
    throw CudaError("GPU kernel '" + key + "' cannot run " +
                    std::to_string(CudaExecutor::kBlockThreads) +
                    " threads a block on this GPU (too many registers)");
  return blocks;
}

/// A buffer for a new upload of `bytes` on `stream`. When the cache is full
/// the least recently used buffer is recycled; reusing one last read on the
/// same stream needs no wait, as the new upload queues behind those reads.
Upload CudaExecutor::Impl::takeSlot(CUstream stream, size_t bytes) {
  Upload slot;
  if (uploads.size() >= kTableCacheEntries) {
    slot = std::move(uploads.back());
    uploads.pop_back();
    if (slot.buffer && (slot.stream != stream || slot.capacity < bytes)) {
      CUdeviceptr old = std::exchange(slot.buffer, 0);
      slot.capacity = 0;
      synchronizeContext();
      NOS_CU(cuMemFree_v2, old);
    }
  }
  if (!slot.buffer && bytes) {
    NOS_CU(cuMemAlloc_v2, &slot.buffer, bytes);
    slot.capacity = bytes;
  }
  return slot;
}

const Upload &CudaExecutor::Impl::upload(const NosTensor *table, int64_t count,
                                         CUstream stream) {
  size_t tableBytes = size_t(count) * sizeof(NosTensor);
  for (auto it = uploads.begin(); it != uploads.end(); ++it)
    if (it->stream == stream && it->bytes.size() == tableBytes &&
        std::memcmp(it->bytes.data(), table, tableBytes) == 0) {
      uploads.splice(uploads.begin(), uploads, it);
      return uploads.front();
    }
  std::vector<NosChunk> chunks = makeChunks(table, count);
  size_t chunkBytes = chunks.size() * sizeof(NosChunk);
  std::string staging(reinterpret_cast<const char *>(table), tableBytes);
  staging.append(reinterpret_cast<const char *>(chunks.data()), chunkBytes);

  Upload u = takeSlot(stream, chunks.empty() ? 0 : staging.size());
  // Pageable memory is staged before the call returns, so `staging` may go.
  if (!chunks.empty())
    NOS_CU(cuMemcpyHtoDAsync_v2, u.buffer, staging.data(), staging.size(),
           stream);
  u.stream = stream;
  u.bytes = staging.substr(0, tableBytes);
  u.chunks = int64_t(chunks.size());
  uploads.push_front(std::move(u));
  return uploads.front();
}

void CudaExecutor::Impl::launch(const Module &m, const Upload &u,
                                const NosArgs &args) {
  static_assert(sizeof(CUdeviceptr) == 8 && NOS_MAX_SCHEDULES == 8,
                "the parameter list below assumes these sizes");
  CUdeviceptr table = u.buffer;
  CUdeviceptr chunks = u.buffer + u.bytes.size();
  int64_t nchunks = u.chunks;
  NosArgs a = args;
  void *params[] = {
      &table,        &chunks,     &nchunks,       &a.lr,       &a.beta1,
      &a.beta2,      &a.beta3,    &a.eps,         &a.delta,    &a.bc1,
      &a.bc2,        &a.bc3,      &a.omb1,        &a.omb2,     &a.omb3,
      &a.anoise_std, &a.wscale,   &a.gscale,      &a.sched[0], &a.sched[1],
      &a.sched[2],   &a.sched[3], &a.sched[4],    &a.sched[5], &a.sched[6],
      &a.sched[7],   &a.step,     &a.total_steps, &a.seed};
  static_assert(sizeof(params) / sizeof(params[0]) == NOS_GPU_PARAMS);
  int64_t blocks = std::min<int64_t>(nchunks, int64_t(multiprocessors) *
                                                  m.blocksPerMultiprocessor);
  NOS_CU(cuLaunchKernel, m.entry, unsigned(blocks), 1, 1, kBlockThreads, 1, 1,
         0, u.stream, params, nullptr);
}

CudaExecutor::CudaExecutor(int device) : impl_(std::make_unique<Impl>()) {
  impl_->open(device);
}

CudaExecutor::~CudaExecutor() = default;

int CudaExecutor::device() const { return impl_->ordinal; }
int CudaExecutor::multiprocessors() const { return impl_->multiprocessors; }
int CudaExecutor::computeCapability() const { return impl_->computeCapability; }
std::string CudaExecutor::deviceName() const { return impl_->name; }

void CudaExecutor::load(const std::string &key, const std::string &ptx) {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  if (impl_->modules.count(key))
    return;
  impl_->bind();
  Module m;
  m.module = loadPtx(ptx, key);
  try {
    NOS_CU(cuModuleGetFunction, &m.entry, m.module, "nos_rule");
    checkParams(m.entry, key);
    m.blocksPerMultiprocessor = occupancy(m.entry, key);
  } catch (...) {
    driver().cuModuleUnload(m.module);
    throw;
  }
  impl_->modules.emplace(key, m);
}

int CudaExecutor::blocksPerMultiprocessor(const std::string &key) const {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  return impl_->module(key).blocksPerMultiprocessor;
}

bool CudaExecutor::loaded(const std::string &key) const {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  return impl_->modules.count(key) != 0;
}

void CudaExecutor::unload(const std::string &key) {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  auto it = impl_->modules.find(key);
  if (it == impl_->modules.end())
    return;
  impl_->bind();
  // A launch of this kernel may still be queued.
  synchronizeContext();
  CUmodule module = it->second.module;
  impl_->modules.erase(it);
  NOS_CU(cuModuleUnload, module);
}

void CudaExecutor::run(const std::string &key, const NosTensor *table,
                       int64_t count, const NosArgs &args, void *stream) {
  if (count <= 0)
    return;
  std::lock_guard<std::mutex> lock(impl_->mutex);
  impl_->bind();
  const Module &m = impl_->module(key);
  const Upload &u = impl_->upload(table, count, CUstream(stream));
  if (u.chunks > 0)
    impl_->launch(m, u, args);
}

void CudaExecutor::synchronize(void *stream) {
  impl_->bind();
  if (stream)
    NOS_CU(cuStreamSynchronize, CUstream(stream));
  else
    synchronizeContext();
}

float CudaExecutor::timeMs(const std::function<void()> &body, void *stream) {
  auto elapsed = driver().eventElapsedTime;
  if (!elapsed)
    throw CudaError("the CUDA driver lacks cuEventElapsedTime_v2 and "
                    "cuEventElapsedTime");
  impl_->bind();
  EventPair events;
  NOS_CU(cuEventCreate, &events.start, CU_EVENT_DEFAULT);
  NOS_CU(cuEventCreate, &events.stop, CU_EVENT_DEFAULT);
  NOS_CU(cuEventRecord, events.start, CUstream(stream));
  body();
  impl_->bind();
  NOS_CU(cuEventRecord, events.stop, CUstream(stream));
  NOS_CU(cuEventSynchronize, events.stop);
  float ms = 0;
  cuda::check(elapsed(&ms, events.start, events.stop), "cuEventElapsedTime");
  return ms;
}

void *CudaExecutor::alloc(size_t bytes) {
  if (!bytes)
    return nullptr;
  impl_->bind();
  CUdeviceptr p = 0;
  NOS_CU(cuMemAlloc_v2, &p, bytes);
  return reinterpret_cast<void *>(uintptr_t(p));
}

void CudaExecutor::free(void *p) {
  if (!p)
    return;
  impl_->bind();
  NOS_CU(cuMemFree_v2, devicePtr(p));
}

void CudaExecutor::copyToDevice(void *dst, const void *src, size_t bytes) {
  impl_->bind();
  NOS_CU(cuMemcpyHtoD_v2, devicePtr(dst), src, bytes);
}

void CudaExecutor::copyToHost(void *dst, const void *src, size_t bytes) {
  impl_->bind();
  NOS_CU(cuMemcpyDtoH_v2, dst, devicePtr(src), bytes);
}

void CudaExecutor::memset(void *dst, int byte, size_t bytes) {
  impl_->bind();
  NOS_CU(cuMemsetD8_v2, devicePtr(dst), (unsigned char)byte, bytes);
}

void CudaExecutor::copyDeviceToDevice(void *dst, const void *src, size_t bytes,
                                      void *stream) {
  impl_->bind();
  NOS_CU(cuMemcpyDtoDAsync_v2, devicePtr(dst), devicePtr(src), bytes,
         CUstream(stream));
}

} // namespace nos

#else // !NOS_HAVE_CUDA_H

namespace nos {

namespace {
[[noreturn]] void unavailable() { throw CudaError(cuda::kNoCudaHeaders); }
} // namespace

// Nothing below is reachable: the constructor always throws.
struct CudaExecutor::Impl {};
CudaExecutor::CudaExecutor(int) { unavailable(); }
CudaExecutor::~CudaExecutor() = default;
int CudaExecutor::device() const { unavailable(); }
int CudaExecutor::multiprocessors() const { unavailable(); }
int CudaExecutor::computeCapability() const { unavailable(); }
std::string CudaExecutor::deviceName() const { unavailable(); }
void CudaExecutor::load(const std::string &, const std::string &) {
  unavailable();
}
bool CudaExecutor::loaded(const std::string &) const { unavailable(); }
void CudaExecutor::unload(const std::string &) { unavailable(); }
void CudaExecutor::run(const std::string &, const NosTensor *, int64_t,
                       const NosArgs &, void *) {
  unavailable();
}
void CudaExecutor::synchronize(void *) { unavailable(); }
float CudaExecutor::timeMs(const std::function<void()> &, void *) {
  unavailable();
}
void *CudaExecutor::alloc(size_t) { unavailable(); }
void CudaExecutor::free(void *) { unavailable(); }
void CudaExecutor::copyToDevice(void *, const void *, size_t) { unavailable(); }
void CudaExecutor::copyToHost(void *, const void *, size_t) { unavailable(); }
void CudaExecutor::memset(void *, int, size_t) { unavailable(); }
void CudaExecutor::copyDeviceToDevice(void *, const void *, size_t, void *) {
  unavailable();
}

} // namespace nos

#endif // NOS_HAVE_CUDA_H

namespace nos {

CudaExecutor &CudaExecutor::shared(int device) {
  static std::mutex mutex;
  static std::map<int, std::unique_ptr<CudaExecutor>> executors;
  std::lock_guard<std::mutex> lock(mutex);
  auto &executor = executors[device];
  if (!executor)
    executor = std::make_unique<CudaExecutor>(device);
  return *executor;
}

} // namespace nos
