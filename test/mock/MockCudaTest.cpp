//===- MockCudaTest.cpp - The CUDA runtime's bookkeeping --------*- C++ -*-===//
//
// Runs only against the mock driver (ctest unit-cuda-mock-bookkeeping),
// whose counters show what the runtime asks of the driver. Results, all that
// CudaTest.cpp can see, would be the same if the table cache never hit, if it
// grew without bound or if an executor leaked its buffers; these tests are
// not. They also pin the exact wording of the errors built from the driver's.
// The kernels are empty, which the mock can emulate exactly.
//
//===----------------------------------------------------------------------===//
#include "MockCuda.h"

#include "nos/CudaExecutor.h"

#include <catch2/catch.hpp>

#include <dlfcn.h>

#include <cstdlib>
#include <stdexcept>
#include <string>
#include <vector>

using namespace nos;

namespace {

/// The mock's counters. Fails the test unless libcuda.so.1 is the mock.
NosMockCudaStats stats() {
  std::string why;
  bool available = cudaAvailable(&why);
  INFO(why);
  REQUIRE(available);
  // The runtime opened the driver already; NOLOAD finds that copy.
  void *lib = dlopen("libcuda.so.1", RTLD_NOW | RTLD_NOLOAD);
  REQUIRE(lib);
  auto fn =
      reinterpret_cast<NosMockCudaStatsFn>(dlsym(lib, "nosMockCudaStats"));
  dlclose(lib); // drops only the reference NOLOAD took
  if (!fn)
    FAIL("libcuda.so.1 is not test/mock's; LD_LIBRARY_PATH must lead to it");
  return fn();
}

/// A nos_rule with the first `params` parameters of the kernel ABI that does
/// nothing.
std::string emptyKernel(int params = NOS_GPU_PARAMS) {
  std::string s = ".version 8.0\n.target sm_90\n.address_size 64\n\n"
                  ".visible .entry nos_rule(";
  for (int i = 0; i < params; ++i) {
    bool isFloat = i >= 3 && i < 3 + NOS_ARGS_SCALARS + NOS_MAX_SCHEDULES;
    s += std::string(i ? ", " : "") + ".param ." + (isFloat ? "f32" : "u64") +
         " p" + std::to_string(i);
  }
  return s + ")\n{\n  ret;\n}\n";
}

/// Tensors of the given sizes and no data: the empty kernel reads none.
std::vector<NosTensor> table(const std::vector<int64_t> &sizes) {
  std::vector<NosTensor> t(sizes.size(), NosTensor{});
  for (size_t i = 0; i < sizes.size(); ++i)
    t[i].n = sizes[i];
  return t;
}

void run(CudaExecutor &ex, std::vector<NosTensor> t) {
  ex.run("empty", t.data(), int64_t(t.size()), NosArgs{});
}

} // namespace

TEST_CASE("A table passed again is uploaded once", "[cuda-mock]") {
  CudaExecutor ex;
  ex.load("empty", emptyKernel());
  NosMockCudaStats before = stats();
  for (int i = 0; i < 3; ++i)
    run(ex, table({100, 200})); // a fresh copy: the cache keys on the bytes
  NosMockCudaStats s = stats();
  CHECK(s.asyncUploads - before.asyncUploads == 1);
  CHECK(s.launches - before.launches == 3);

  run(ex, table({100, 201}));
  CHECK(stats().asyncUploads - before.asyncUploads == 2);

  // Nothing to do: neither an upload nor a launch.
  run(ex, table({0, 0}));
  run(ex, {});
  s = stats();
  CHECK(s.asyncUploads - before.asyncUploads == 2);
  CHECK(s.launches - before.launches == 4);
}

// The mock's occupancy is 3 blocks a multiprocessor, not the 4 a grid was
// sized by before the driver was asked.
TEST_CASE("A launch gets a block per chunk, at most the kernel's occupancy "
          "per multiprocessor",
          "[cuda-mock]") {
  CudaExecutor ex;
  ex.load("empty", emptyKernel());
  REQUIRE(ex.blocksPerMultiprocessor("empty") == 3);
  run(ex, table({1}));
  CHECK(stats().lastGrid == 1);
  CHECK(stats().lastBlock == CudaExecutor::kBlockThreads);
  run(ex, table({3 * NOS_GPU_CHUNK + 1}));
  CHECK(stats().lastGrid == 4);
  run(ex, table({100 * NOS_GPU_CHUNK, 5}));
  CHECK(stats().lastGrid == unsigned(ex.multiprocessors()) * 3);
  CHECK_THROWS_WITH(ex.blocksPerMultiprocessor("other"),
                    Catch::Contains("no GPU kernel is loaded under 'other'"));
}

TEST_CASE("A kernel no multiprocessor can hold is refused at load",
          "[cuda-mock]") {
  CudaExecutor ex;
  setenv("NOS_MOCK_OCCUPANCY", "0", 1);
  CHECK_THROWS_WITH(ex.load("heavy", emptyKernel()),
                    Catch::Contains("GPU kernel 'heavy' cannot run 512 "
                                    "threads a block"));
  unsetenv("NOS_MOCK_OCCUPANCY");
  CHECK_FALSE(ex.loaded("heavy"));
  CHECK(stats().liveModules == 0);
}

TEST_CASE("A full table cache recycles its least recently used buffer",
          "[cuda-mock]") {
  CudaExecutor ex;
  ex.load("empty", emptyKernel());
  const int64_t entries = CudaExecutor::kTableCacheEntries;
  NosMockCudaStats before = stats();
  // Tables of one tensor and one chunk: every upload has the same size.
  for (int64_t n = 1; n <= entries + 5; ++n)
    run(ex, table({n}));
  NosMockCudaStats s = stats();
  CHECK(s.asyncUploads - before.asyncUploads == entries + 5);
  CHECK(s.allocations - before.allocations == entries);
  CHECK(s.liveAllocations - before.liveAllocations == entries);

  run(ex, table({entries + 5})); // the latest is cached
  CHECK(stats().asyncUploads - s.asyncUploads == 0);
  run(ex, table({1})); // the first was evicted
  CHECK(stats().asyncUploads - s.asyncUploads == 1);

  // A larger table does not fit the recycled buffer, which is replaced.
  run(ex, table({1, 2, 3}));
  s = stats();
  CHECK(s.allocations - before.allocations == entries + 1);
  CHECK(s.liveAllocations - before.liveAllocations == entries);
}

TEST_CASE("Executors give back everything they take", "[cuda-mock]") {
  NosMockCudaStats before = stats();
  {
    CudaExecutor a;
    {
      CudaExecutor b; // the same primary context, retained twice
      CHECK(stats().primaryContextRefs == before.primaryContextRefs + 2);
      b.load("empty", emptyKernel());
      run(b, table({5}));
    }
    CHECK(stats().primaryContextRefs == before.primaryContextRefs + 1);
    CHECK(stats().liveAllocations == before.liveAllocations);

    a.load("empty", emptyKernel());
    a.load("other", emptyKernel());
    for (int64_t n = 1; n < 40; ++n)
      run(a, table({n, 2 * n}));
    void *p = a.alloc(1000);
    CHECK(a.timeMs([&] { a.memset(p, 0, 1000); }) >= 0);
    CHECK(stats().liveEvents == before.liveEvents);
    // The events go even when the timed work throws.
    CHECK_THROWS_AS(a.timeMs([] { throw std::runtime_error("body"); }),
                    std::runtime_error);
    CHECK(stats().liveEvents == before.liveEvents);
    a.unload("other");
    CHECK(stats().liveModules == before.liveModules + 1);
    a.free(p);
  }
  NosMockCudaStats after = stats();
  CHECK(after.primaryContextRefs == before.primaryContextRefs);
  CHECK(after.liveAllocations == before.liveAllocations);
  CHECK(after.liveModules == before.liveModules);
  CHECK(after.liveEvents == before.liveEvents);
}

TEST_CASE("Driver failures reach the caller in words", "[cuda-mock]") {
  CudaExecutor ex;
  CHECK_THROWS_WITH(
      ex.alloc(size_t(1) << 50),
      "cuMemAlloc_v2 failed: CUDA_ERROR_OUT_OF_MEMORY (out of memory)");
  CHECK_THROWS_WITH(CudaExecutor(1), "no CUDA device 1 (1 present)");
  NosTensor t{};
  t.n = 1;
  CHECK_THROWS_WITH(ex.run("absent", &t, 1, NosArgs{}),
                    "no GPU kernel is loaded under 'absent'");

  int64_t modules = stats().liveModules;
  CHECK_THROWS_WITH(ex.load("garbage", "not PTX"),
                    "cuModuleLoadDataEx failed for kernel 'garbage': "
                    "CUDA_ERROR_INVALID_PTX (a PTX JIT compilation failed)\n"
                    "mock libcuda (no ptxas): line 1: a PTX module starts "
                    "with .version");
  CHECK_THROWS_WITH(ex.load("entryless", ".version 8.0\n.target sm_90\n"),
                    "cuModuleGetFunction failed: CUDA_ERROR_NOT_FOUND (named "
                    "symbol not found)");
  std::string abi = "8 8 8";
  for (int i = 0; i < NOS_ARGS_SCALARS + NOS_MAX_SCHEDULES; ++i)
    abi += " 4";
  abi += " 8 8 8";
  CHECK_THROWS_WITH(ex.load("long", emptyKernel(NOS_GPU_PARAMS + 1)),
                    Catch::Equals("nos_rule of kernel 'long' does not take "
                                  "the kernel ABI's parameters: their sizes "
                                  "are [" +
                                  abi + " 8], KernelABI.h says [" + abi + "]"));
  // A module whose entry is rejected is unloaded again.
  CHECK(stats().liveModules == modules);
  CHECK(!ex.loaded("entryless"));
  CHECK(!ex.loaded("long"));
}
