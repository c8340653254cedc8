//===- CudaExecutor.h - Running compiled GPU kernels ------------*- C++ -*-===//
//
// The host side of the GPU kernel ABI (KernelABI.h): a CUDA driver runtime that
// loads the PTX the compiler emits and launches its `nos_rule` entry over a
// table of tensors that already live in device memory. The driver library is
// opened at run time (never linked), so every binary starts on machines with
// no GPU and no driver; there each entry point throws CudaError saying why.
// All work happens in the device's primary context, the one PyTorch uses, so
// device pointers from torch tensors can go straight into a NosTensor.
// This header needs neither cuda.h nor the driver.
//
//===----------------------------------------------------------------------===//
#ifndef NOS_CUDAEXECUTOR_H
#define NOS_CUDAEXECUTOR_H

#include "nos/KernelABI.h"

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace nos {

/// True when libcuda.so.1 loads, has every entry point nos uses, cuInit
/// succeeds and at least one device exists. Otherwise false, with *why (if
/// given) set to the reason, e.g. "no CUDA driver: libcuda.so.1: cannot open
/// shared object file: ..." or "nos was built without the CUDA toolkit headers
/// (cuda.h)". The driver is loaded and initialized once per process.
bool cudaAvailable(std::string *why = nullptr);

/// A driver call failed or CUDA is unavailable. The message names the call and
/// the driver's error name and description.
class CudaError : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

/// The chunk list of a table: tensor i of n elements gives ceil(n / chunk)
/// chunks of at most `chunk` elements, in table order and element order;
/// empty (or negative-length) tensors give none. Throws std::invalid_argument
/// if chunk <= 0.
std::vector<NosChunk> makeChunks(const NosTensor *table, int64_t count,
                                 int64_t chunk = NOS_GPU_CHUNK);

/// Runs compiled GPU kernels on one device in its primary context.
///
/// Streams are CUstream handles passed as void*; nullptr is the legacy default
/// stream. Each method makes the primary context current on the calling thread
/// and leaves it current, as the CUDA runtime does. Methods may be called from
/// any thread; load, unload and run are serialized by an internal mutex.
class CudaExecutor {
public:
  /// Retains the primary context of `device`. Throws CudaError if CUDA is
  /// unavailable or the device does not exist.
  explicit CudaExecutor(int device = 0);
  /// The process's executor for `device`, made on first use: training code
  /// (nos::Optimizer, the Python extension) shares one per device.
  static CudaExecutor &shared(int device);
  /// Unloads every module and frees the executor's own device memory.
  ~CudaExecutor();
  CudaExecutor(const CudaExecutor &) = delete;
  CudaExecutor &operator=(const CudaExecutor &) = delete;

  int device() const;
  int multiprocessors() const;
  /// Compute capability as major * 10 + minor (90 for an H100/H200).
  int computeCapability() const;
  std::string deviceName() const;

  /// Loads a PTX module under `key` and finds its nos_rule entry; a key that
  /// is already loaded is a no-op. Checks that the entry's parameters match
  /// the kernel ABI where the driver can tell (CUDA 12.4+). Throws CudaError
  /// with the driver's JIT log on failure.
  void load(const std::string &key, const std::string &ptx);
  bool loaded(const std::string &key) const;
  /// Blocks of kBlockThreads one multiprocessor holds for the kernel under
  /// `key`: the driver's occupancy figure, taken at load (a kernel that
  /// cannot hold one is refused there). Throws CudaError when none is loaded.
  int blocksPerMultiprocessor(const std::string &key) const;
  /// Unloads the module under `key`, if any, after the device is idle.
  void unload(const std::string &key);

  /// Updates every tensor of `table` (whose pointers are device pointers) with
  /// one launch of the kernel under `key` on `stream`, asynchronously to the
  /// host. count == 0 or only empty tensors does nothing. The table need not
  /// outlive the call: it is uploaded on `stream` and cached by its bytes and
  /// stream, so a training loop that passes the same table each step uploads
  /// it once. Throws CudaError if `key` is not loaded or the launch fails.
  void run(const std::string &key, const NosTensor *table, int64_t count,
           const NosArgs &args, void *stream = nullptr);

  /// Waits for `stream`, or for all work on the device if stream is nullptr.
  void synchronize(void *stream = nullptr);

  /// Device time in milliseconds of the work that `body` enqueues on
  /// `stream`, measured with a pair of events around it. Blocks until that
  /// work is done. `body` may call this executor.
  float timeMs(const std::function<void()> &body, void *stream = nullptr);

  // Device memory for tests and benchmarks. alloc(0) returns nullptr and
  // free(nullptr) does nothing. The copies and memset are synchronous with
  // respect to the host, except copyDeviceToDevice, which is stream-ordered.
  void *alloc(size_t bytes);
  void free(void *p);
  void copyToDevice(void *dst, const void *src, size_t bytes);
  void copyToHost(void *dst, const void *src, size_t bytes);
  void memset(void *dst, int byte, size_t bytes);
  void copyDeviceToDevice(void *dst, const void *src, size_t bytes,
                          void *stream = nullptr);

  /// run() launches min(chunks, multiprocessors * blocksPerMultiprocessor())
  /// blocks of kBlockThreads: one wave of as many blocks as the kernel's
  /// registers let a multiprocessor hold (the driver's occupancy figure; at
  /// most 4 x 512 = 2048 threads on sm_80/sm_90) fills the GPU, and as
  /// blocks stride over the chunks, more would only add scheduling work.
  static constexpr unsigned kBlockThreads = NOS_GPU_BLOCK;
  /// Uploaded tables kept for reuse by run().
  static constexpr size_t kTableCacheEntries = 16;

private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// Device memory owned by a scope, for checks, tests and benchmarks
/// (training uses torch's allocator). Move-only.
class DeviceBuffer {
public:
  DeviceBuffer(CudaExecutor &gpu, size_t bytes)
      : gpu_(&gpu), p_(gpu.alloc(bytes)) {}
  ~DeviceBuffer() {
    if (gpu_)
      gpu_->free(p_);
  }
  DeviceBuffer(DeviceBuffer &&other) noexcept : gpu_(other.gpu_), p_(other.p_) {
    other.gpu_ = nullptr;
  }
  DeviceBuffer(const DeviceBuffer &) = delete;
  DeviceBuffer &operator=(const DeviceBuffer &) = delete;
  DeviceBuffer &operator=(DeviceBuffer &&) = delete;

  void *get() const { return p_; }
  float *floats() const { return static_cast<float *>(p_); }

private:
  CudaExecutor *gpu_;
  void *p_;
};

} // namespace nos

#endif // NOS_CUDAEXECUTOR_H
