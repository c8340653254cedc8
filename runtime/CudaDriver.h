//===- CudaDriver.h - The CUDA driver API, opened at run time ---*- C++ -*-===//
//
// Private to the runtime. Linking libcuda (or its stub) would stop every nos
// binary from starting on a machine without the NVIDIA driver, so the driver
// is dlopen'ed on first use and its entry points resolved by their exported,
// versioned names. Each field is named after the symbol it holds and typed
// with cuda.h's prototype, so a name and its signature cannot drift apart.
// Without cuda.h only kNoCudaHeaders is defined.
//
//===----------------------------------------------------------------------===//
#ifndef NOS_RUNTIME_CUDADRIVER_H
#define NOS_RUNTIME_CUDADRIVER_H

namespace nos::cuda {

inline constexpr const char *kNoCudaHeaders =
    "nos was built without the CUDA toolkit headers (cuda.h)";

} // namespace nos::cuda

#if NOS_HAVE_CUDA_H
#include <cuda.h>

#include <string>

namespace nos::cuda {

// The exported names are those cuda.h maps the plain names to (cuMemAlloc is
// #defined to cuMemAlloc_v2, ...); the unversioned exports are the old ABIs.
#define NOS_CUDA_ENTRY_POINTS(X)                                               \
  X(cuInit)                                                                    \
  X(cuGetErrorName)                                                            \
  X(cuGetErrorString)                                                          \
  X(cuDeviceGetCount)                                                          \
  X(cuDeviceGet)                                                               \
  X(cuDeviceGetAttribute)                                                      \
  X(cuDeviceGetName)                                                           \
  X(cuDevicePrimaryCtxRetain)                                                  \
  X(cuDevicePrimaryCtxRelease_v2)                                              \
  X(cuCtxSetCurrent)                                                           \
  X(cuCtxSynchronize)                                                          \
  X(cuStreamSynchronize)                                                       \
  X(cuMemAlloc_v2)                                                             \
  X(cuMemFree_v2)                                                              \
  X(cuMemcpyHtoD_v2)                                                           \
  X(cuMemcpyDtoH_v2)                                                           \
  X(cuMemcpyHtoDAsync_v2)                                                      \
  X(cuMemcpyDtoDAsync_v2)                                                      \
  X(cuMemsetD8_v2)                                                             \
  X(cuModuleLoadDataEx)                                                        \
  X(cuModuleUnload)                                                            \
  X(cuModuleGetFunction)                                                       \
  X(cuLaunchKernel)                                                            \
  X(cuOccupancyMaxActiveBlocksPerMultiprocessor)                               \
  X(cuEventCreate)                                                             \
  X(cuEventDestroy_v2)                                                         \
  X(cuEventRecord)                                                             \
  X(cuEventSynchronize)

struct Driver {
#define NOS_CUDA_FIELD(name) decltype(&::name) name = nullptr;
  NOS_CUDA_ENTRY_POINTS(NOS_CUDA_FIELD)
#undef NOS_CUDA_FIELD
  // Optional, so that an older driver still runs kernels: timing needs one of
  // cuEventElapsedTime_v2 (12.8+) or the old cuEventElapsedTime, and the
  // parameter check at load time needs cuFuncGetParamInfo (12.4+).
  decltype(&::cuEventElapsedTime_v2) eventElapsedTime = nullptr;
  decltype(&::cuFuncGetParamInfo) cuFuncGetParamInfo = nullptr;
};

/// The driver, loaded and cuInit'ed once per process. Throws CudaError saying
/// why when it cannot be used.
const Driver &driver();
/// Empty when driver() succeeds, else the reason it throws.
const std::string &driverProblem();
/// "CUDA_ERROR_X (description)", as far as the driver can name `r`.
std::string describe(CUresult r);
/// Throws CudaError "<call> failed: <describe(r)>" unless r is CUDA_SUCCESS.
void check(CUresult r, const char *call);

} // namespace nos::cuda

/// Calls the driver entry point `name` and throws CudaError naming it if it
/// fails.
#define NOS_CU(name, ...)                                                      \
  ::nos::cuda::check(::nos::cuda::driver().name(__VA_ARGS__), #name)

#endif // NOS_HAVE_CUDA_H
#endif // NOS_RUNTIME_CUDADRIVER_H
