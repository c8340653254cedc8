//===- CudaHostRun.cpp - GPU kernels on host arrays, for checks -----------===//
//
// The differential checks (nosc --check --gpu, the GPU tests) hold their
// data in host vectors, as for the CPU. This stages a host table through
// device memory around one launch. It synchronizes and copies everything
// twice, so it is for checking, never for training.
//
//===----------------------------------------------------------------------===//
#include "nos/Cuda.h"

namespace nos {

namespace {
/// Device copies of one host tensor; frees them on scope exit.
class DeviceTensor {
public:
  DeviceTensor(CudaExecutor &gpu, const NosTensor &host, int slots)
      : gpu(gpu), host(host), slots(slots) {
    size_t bytes = size_t(host.n) * sizeof(float);
    device = host;
    device.w = upload(host.w, bytes);
    device.g = upload(host.g, bytes);
    for (int k = 0; k < slots; ++k)
      device.state[k] = upload(host.state[k], bytes);
  }
  ~DeviceTensor() {
    for (void *p : owned)
      gpu.free(p);
  }
  DeviceTensor(const DeviceTensor &) = delete;
  DeviceTensor &operator=(const DeviceTensor &) = delete;

  void download() {
    size_t bytes = size_t(host.n) * sizeof(float);
    gpu.copyToHost(host.w, device.w, bytes);
    for (int k = 0; k < slots; ++k)
      gpu.copyToHost(host.state[k], device.state[k], bytes);
  }
  const NosTensor &onDevice() const { return device; }

private:
  float *upload(const float *src, size_t bytes) {
    if (bytes == 0)
      return nullptr;
    void *p = gpu.alloc(bytes);
    owned.push_back(p);
    gpu.copyToDevice(p, src, bytes);
    return static_cast<float *>(p);
  }

  CudaExecutor &gpu;
  NosTensor host, device;
  int slots;
  std::vector<void *> owned;
};
} // namespace

void runOnHostArrays(CudaExecutor &gpu, const std::string &key,
                     NosTensor *table, int64_t count, const NosArgs &args,
                     int slots) {
  std::vector<std::unique_ptr<DeviceTensor>> tensors;
  std::vector<NosTensor> deviceTable;
  for (int64_t i = 0; i < count; ++i) {
    tensors.push_back(std::make_unique<DeviceTensor>(gpu, table[i], slots));
    deviceTable.push_back(tensors.back()->onDevice());
  }
  gpu.run(key, deviceTable.data(), count, args);
  gpu.synchronize();
  for (auto &tensor : tensors)
    tensor->download();
}

} // namespace nos
