//===- CudaHostRun.cpp - GPU kernels on host arrays, for checks -----------===//
//
// The differential checks (nosc --check --gpu, the GPU tests) hold their
// data in host vectors, as for the CPU. This stages a host table through
// device memory around one launch. It synchronizes and copies everything
// twice, so it is for checking, never for training.
//
//===----------------------------------------------------------------------===//
#include "nos/CudaHostRun.h"

namespace nos {

namespace {
/// Device copies of one host tensor's w, g and state arrays.
class DeviceTensor {
public:
  DeviceTensor(CudaExecutor &gpu, const NosTensor &host, int slots)
      : gpu(gpu), host(host), slots(slots), device(host) {
    device.w = upload(host.w);
    device.g = upload(host.g);
    for (int k = 0; k < slots; ++k)
      device.state[k] = upload(host.state[k]);
  }

  void download() {
    gpu.copyToHost(host.w, device.w, bytes());
    for (int k = 0; k < slots; ++k)
      gpu.copyToHost(host.state[k], device.state[k], bytes());
  }
  const NosTensor &onDevice() const { return device; }

private:
  size_t bytes() const { return size_t(host.n) * sizeof(float); }
  float *upload(const float *src) {
    if (bytes() == 0)
      return nullptr;
    owned.emplace_back(gpu, bytes());
    gpu.copyToDevice(owned.back().get(), src, bytes());
    return owned.back().floats();
  }

  CudaExecutor &gpu;
  NosTensor host;
  int slots;
  NosTensor device;
  std::vector<DeviceBuffer> owned;
};
} // namespace

void runOnHostArrays(CudaExecutor &gpu, const std::string &key,
                     NosTensor *table, int64_t count, const NosArgs &args,
                     int slots) {
  std::vector<DeviceTensor> tensors;
  std::vector<NosTensor> deviceTable;
  for (int64_t i = 0; i < count; ++i) {
    tensors.emplace_back(gpu, table[i], slots);
    deviceTable.push_back(tensors.back().onDevice());
  }
  gpu.run(key, deviceTable.data(), count, args);
  gpu.synchronize();
  for (DeviceTensor &tensor : tensors)
    tensor.download();
}

} // namespace nos
