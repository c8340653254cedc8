//===- CudaTest.cpp - Tests of the CUDA driver runtime ----------*- C++ -*-===//
//
// The chunk list and the no-driver paths are tested everywhere. The rest needs
// a GPU and runs hand-written PTX kernels, so the runtime is tested without
// the compiler: one applies w -= lr * g over the chunk list, one writes its
// parameters back so that the launch's argument marshalling can be compared
// with NosArgs byte for byte. Catch2 2 has no SKIP: without a GPU those tests
// pass with a warning, unless NOS_REQUIRE_CUDA=1 makes them fail, so that a
// GPU machine cannot skip them silently.
//
//===----------------------------------------------------------------------===//
#include "TestSupport.h"

#include "nos/CudaExecutor.h"

#include <catch2/catch.hpp>

#include <cmath>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>

#include <unistd.h>

using namespace nos;

namespace {

const char *const kParamNames[NOS_GPU_PARAMS] = {
    "table", "chunks", "nchunks", "lr",          "beta1",  "beta2",
    "beta3", "eps",    "delta",   "bc1",         "bc2",    "bc3",
    "omb1",  "omb2",   "omb3",    "anoise_std",  "wscale", "gscale",
    "s0",    "s1",     "s2",      "s3",          "s4",     "s5",
    "s6",    "s7",     "step",    "total_steps", "seed"};

bool isFloatParam(int i) {
  return i >= 3 && i < 3 + NOS_ARGS_SCALARS + NOS_MAX_SCHEDULES;
}

/// The PTX preamble and the nos_rule signature with the first `params`
/// parameters of the kernel ABI.
std::string ptxEntry(int params = NOS_GPU_PARAMS) {
  std::string s = ".version 8.0\n.target sm_90\n.address_size 64\n\n"
                  ".visible .entry nos_rule(";
  for (int i = 0; i < params; ++i)
    s += std::string(i ? ",\n  " : "\n  ") + ".param ." +
         (isFloatParam(i) ? "f32 " : "u64 ") + kParamNames[i];
  return s + ")\n";
}

/// w[i] = fma(-lr, g[i], w[i]) over every chunk: a block takes chunks
/// c = ctaid, c += nctaid; its threads stride over [begin, end). NosChunk is
/// 24 bytes; NosTensor is 96 with w at 0 and g at 8.
std::string sgdPtx() {
  return ptxEntry() + R"({
  .reg .pred %p<3>;
  .reg .b32 %r<5>;
  .reg .b64 %rd<20>;
  .reg .f32 %f<4>;
  ld.param.u64 %rd1, [table];
  ld.param.u64 %rd2, [chunks];
  ld.param.u64 %rd3, [nchunks];
  ld.param.f32 %f1, [lr];
  neg.f32 %f1, %f1;
  cvta.to.global.u64 %rd1, %rd1;
  cvta.to.global.u64 %rd2, %rd2;
  mov.u32 %r1, %ctaid.x;
  mov.u32 %r2, %nctaid.x;
  mov.u32 %r3, %tid.x;
  mov.u32 %r4, %ntid.x;
  cvt.u64.u32 %rd4, %r1;
  cvt.u64.u32 %rd5, %r2;
  cvt.u64.u32 %rd6, %r3;
  cvt.u64.u32 %rd7, %r4;
CHUNK:
  setp.ge.s64 %p1, %rd4, %rd3;
  @%p1 bra DONE;
  mul.lo.s64 %rd8, %rd4, 24;
  add.s64 %rd8, %rd8, %rd2;
  ld.global.u64 %rd9, [%rd8];
  ld.global.u64 %rd10, [%rd8+8];
  ld.global.u64 %rd11, [%rd8+16];
  mul.lo.s64 %rd12, %rd9, 96;
  add.s64 %rd12, %rd12, %rd1;
  ld.global.u64 %rd13, [%rd12];
  ld.global.u64 %rd14, [%rd12+8];
  cvta.to.global.u64 %rd13, %rd13;
  cvta.to.global.u64 %rd14, %rd14;
  add.s64 %rd15, %rd10, %rd6;
ELEM:
  setp.ge.s64 %p2, %rd15, %rd11;
  @%p2 bra NEXT;
  shl.b64 %rd16, %rd15, 2;
  add.s64 %rd17, %rd13, %rd16;
  add.s64 %rd18, %rd14, %rd16;
  ld.global.f32 %f2, [%rd17];
  ld.global.f32 %f3, [%rd18];
  fma.rn.f32 %f2, %f1, %f3, %f2;
  st.global.f32 [%rd17], %f2;
  add.s64 %rd15, %rd15, %rd7;
  bra ELEM;
NEXT:
  add.s64 %rd4, %rd4, %rd5;
  bra CHUNK;
DONE:
  ret;
}
)";
}

/// Thread 0 of block 0 writes the NosArgs parameters into table[0].w at their
/// offsets in NosArgs, then nchunks and chunks[0].end after them.
constexpr size_t kProbeBytes = sizeof(NosArgs) + 16;

std::string probePtx() {
  static_assert(sizeof(NosArgs) == 120, "the offsets below assume it");
  std::string s = ptxEntry() + R"({
  .reg .pred %p<2>;
  .reg .b32 %r<3>;
  .reg .b64 %rd<5>;
  .reg .f32 %f<2>;
  mov.u32 %r1, %ctaid.x;
  mov.u32 %r2, %tid.x;
  or.b32 %r1, %r1, %r2;
  setp.ne.u32 %p1, %r1, 0;
  @%p1 bra DONE;
  ld.param.u64 %rd1, [table];
  cvta.to.global.u64 %rd1, %rd1;
  ld.global.u64 %rd2, [%rd1];
  cvta.to.global.u64 %rd2, %rd2;
)";
  auto store = [&](const char *type, const char *reg, const char *name,
                   size_t offset) {
    s += std::string("  ld.param.") + type + " " + reg + ", [" + name + "];\n";
    s += std::string("  st.global.") + type + " [%rd2+" +
         std::to_string(offset) + "], " + reg + ";\n";
  };
  for (int i = 3; isFloatParam(i); ++i)
    store("f32", "%f1", kParamNames[i], size_t(i - 3) * 4);
  store("u64", "%rd3", "step", offsetof(NosArgs, step));
  store("u64", "%rd3", "total_steps", offsetof(NosArgs, total_steps));
  store("u64", "%rd3", "seed", offsetof(NosArgs, seed));
  store("u64", "%rd3", "nchunks", sizeof(NosArgs));
  return s + R"(  ld.param.u64 %rd4, [chunks];
  cvta.to.global.u64 %rd4, %rd4;
  ld.global.u64 %rd3, [%rd4+16];
  st.global.u64 [%rd2+)" +
         std::to_string(sizeof(NosArgs) + 8) + R"(], %rd3;
DONE:
  ret;
}
)";
}

/// Empty if the chunks of tensors of `sizes` cover every element exactly once,
/// in table and element order, none crossing a tensor or longer than `chunk`;
/// else the first chunk that does not.
std::string chunkError(const std::vector<int64_t> &sizes, int64_t chunk) {
  std::vector<NosTensor> table(sizes.size(), NosTensor{});
  for (size_t t = 0; t < sizes.size(); ++t)
    table[t].n = sizes[t];
  std::vector<NosChunk> chunks =
      makeChunks(table.data(), int64_t(table.size()), chunk);
  size_t k = 0;
  for (size_t t = 0; t < sizes.size(); ++t)
    for (int64_t next = 0; next < sizes[t]; next = chunks[k++].end) {
      if (k == chunks.size())
        return "too few chunks";
      const NosChunk &c = chunks[k];
      if (c.tensor != int64_t(t) || c.begin != next || c.end <= c.begin ||
          c.end - c.begin > chunk || c.end > sizes[t])
        return "chunk " + std::to_string(k) + " is {" +
               std::to_string(c.tensor) + ", " + std::to_string(c.begin) +
               ", " + std::to_string(c.end) + "}, tensor " + std::to_string(t) +
               " continues at " + std::to_string(next);
    }
  return k == chunks.size() ? "" : "too many chunks";
}

/// Tensors of awkward sizes carved out of one w and one g device buffer, w
/// and g filled with small integers so that results are exact.
struct DeviceModel {
  std::vector<int64_t> sizes;
  std::vector<size_t> offsets;
  std::vector<float> w, g;
  DeviceBuffer dw, dg;
  std::vector<NosTensor> table;

  static size_t total(const std::vector<int64_t> &sizes) {
    size_t n = 0;
    for (int64_t s : sizes)
      n += size_t(s + 63) / 64 * 64; // keep each tensor 256-byte aligned
    return n;
  }

  DeviceModel(CudaExecutor &ex, std::vector<int64_t> sz)
      : sizes(std::move(sz)), w(total(sizes)), g(total(sizes)),
        dw(ex, w.size() * 4 + 4), dg(ex, g.size() * 4 + 4) {
    size_t offset = 0;
    for (size_t t = 0; t < sizes.size(); ++t) {
      NosTensor x{};
      x.w = dw.floats() + offset;
      x.g = dg.floats() + offset;
      x.n = sizes[t];
      table.push_back(x);
      offsets.push_back(offset);
      offset += size_t(sizes[t] + 63) / 64 * 64;
    }
    for (size_t i = 0; i < w.size(); ++i) {
      w[i] = float(i % 97);
      g[i] = float(i % 5 + 1);
    }
    ex.copyToDevice(dw.get(), w.data(), w.size() * 4);
    ex.copyToDevice(dg.get(), g.data(), g.size() * 4);
  }
};

std::vector<int64_t> oddSizes() {
  std::vector<int64_t> sizes = {0, 1, 65535, 65536, 65537, 3 * 65536 + 7,
                                0, 2, 63,    513};
  std::mt19937 rng(7);
  while (sizes.size() < 50)
    sizes.push_back(std::uniform_int_distribution<int64_t>(0, 150000)(rng));
  return sizes;
}

NosArgs distinctArgs() {
  NosArgs a;
  std::memset(&a, 0, sizeof(a)); // so the padding compares equal too
  float *f = &a.lr;
  for (int i = 0; i < NOS_ARGS_SCALARS + NOS_MAX_SCHEDULES; ++i)
    f[i] = 0.5f + float(i);
  a.step = 0x0102030405060708;
  a.total_steps = -3;
  a.seed = 0xfedcba9876543210ull;
  return a;
}

} // namespace

TEST_CASE("makeChunks tiles every tensor in order", "[cuda]") {
  CHECK(chunkError({}, NOS_GPU_CHUNK) == "");
  CHECK(chunkError({0}, NOS_GPU_CHUNK) == "");
  CHECK(chunkError({1}, NOS_GPU_CHUNK) == "");
  CHECK(chunkError({65535}, NOS_GPU_CHUNK) == "");
  CHECK(chunkError({65536}, NOS_GPU_CHUNK) == "");
  CHECK(chunkError({65537}, NOS_GPU_CHUNK) == "");
  CHECK(chunkError({3 * 65536 + 7}, NOS_GPU_CHUNK) == "");
  CHECK(chunkError(oddSizes(), NOS_GPU_CHUNK) == "");
  CHECK(chunkError(oddSizes(), 7) == "");
  CHECK(chunkError(oddSizes(), 1 << 20) == "");
  CHECK(chunkError({5, 0, 0, 5}, 1) == "");

  NosTensor t[3] = {};
  t[0].n = 65536;
  t[1].n = 0;
  t[2].n = 3 * 65536 + 7;
  std::vector<NosChunk> chunks = makeChunks(t, 3);
  REQUIRE(chunks.size() == 5);
  CHECK(chunks[0].tensor == 0);
  CHECK(chunks[0].end == 65536);
  CHECK(chunks[1].tensor == 2);
  CHECK(chunks[4].begin == 3 * 65536);
  CHECK(chunks[4].end == 3 * 65536 + 7);
}

TEST_CASE("makeChunks edge cases", "[cuda]") {
  NosTensor t[2] = {};
  t[0].n = -5; // treated as empty, as CpuExecutor does
  t[1].n = 3;
  std::vector<NosChunk> chunks = makeChunks(t, 2);
  REQUIRE(chunks.size() == 1);
  CHECK(chunks[0].tensor == 1);
  CHECK(makeChunks(t, 0).empty());
  CHECK_THROWS_AS(makeChunks(t, 2, 0), std::invalid_argument);

  t[0].n = INT64_MAX; // the last chunk's end must not overflow
  chunks = makeChunks(t, 1, INT64_MAX / 2 + 1);
  REQUIRE(chunks.size() == 2);
  CHECK(chunks[1].end == INT64_MAX);
}

TEST_CASE("cudaAvailable says why not", "[cuda]") {
  std::string why = "stale";
  bool available = cudaAvailable(&why);
  if (available)
    CHECK(why.empty());
  else
    CHECK(!why.empty());
  CHECK(cudaAvailable() == available); // the answer is stable
}

TEST_CASE("CudaExecutor without CUDA throws the reason", "[cuda]") {
  std::string why;
  if (cudaAvailable(&why)) {
    // With a driver the same constructor must work, and a device that does
    // not exist must be refused with a CudaError, not a crash.
    CudaExecutor ex;
    CHECK(ex.device() == 0);
    try {
      CudaExecutor missing(1 << 20);
      FAIL("constructed a CudaExecutor on device 1048576");
    } catch (const CudaError &e) {
      CHECK(std::string(e.what()).size() > 0);
    }
    return;
  }
  try {
    CudaExecutor ex;
    FAIL("constructed a CudaExecutor without CUDA");
  } catch (const CudaError &e) {
    CHECK(std::string(e.what()).find(why) != std::string::npos);
  }
}

TEST_CASE("The test kernels are valid PTX", "[cuda]") {
#ifdef NOS_PTXAS_PATH
  std::string ptxas = NOS_PTXAS_PATH;
#else
  std::string ptxas = "/usr/local/cuda/bin/ptxas";
#endif
  if (ptxas.empty() || !std::filesystem::exists(ptxas)) {
    WARN("skipped: no ptxas");
    return;
  }
  auto dir = std::filesystem::temp_directory_path();
  std::vector<std::pair<std::string, std::string>> kernels = {
      {"sgd", sgdPtx()}, {"probe", probePtx()}};
  for (const auto &[name, ptx] : kernels) {
    auto path = dir / ("nos-cuda-test-" + std::to_string(::getpid()) + "-" +
                       name + ".ptx");
    std::ofstream(path) << ptx;
    std::string cmd = ptxas + " -arch=sm_90 " + path.string() + " -o /dev/null";
    int rc = std::system(cmd.c_str());
    std::filesystem::remove(path);
    INFO(ptx);
    CHECK(rc == 0);
  }
}

TEST_CASE("CudaExecutor describes its device", "[cuda]") {
  if (!nos::test::haveGpu())
    return;
  CudaExecutor ex;
  CHECK(ex.device() == 0);
  CHECK(ex.multiprocessors() > 0);
  CHECK(ex.computeCapability() >= 50);
  CHECK(!ex.deviceName().empty());
  CHECK_THROWS_AS(CudaExecutor(1 << 20), CudaError);
}

TEST_CASE("CudaExecutor device memory round trip", "[cuda]") {
  if (!nos::test::haveGpu())
    return;
  CudaExecutor ex;
  CHECK(ex.alloc(0) == nullptr);
  ex.free(nullptr);
  const size_t n = 1000003;
  std::vector<float> host(n), back(n);
  for (size_t i = 0; i < n; ++i)
    host[i] = float(i) * 0.25f;
  DeviceBuffer a(ex, n * 4), b(ex, n * 4);
  ex.copyToDevice(a.get(), host.data(), n * 4);
  ex.copyToHost(back.data(), a.get(), n * 4);
  CHECK(back == host);

  float ms = ex.timeMs([&] { ex.copyDeviceToDevice(b.get(), a.get(), n * 4); });
  CHECK(ms >= 0);
  ex.synchronize();
  std::fill(back.begin(), back.end(), 0.0f);
  ex.copyToHost(back.data(), b.get(), n * 4);
  CHECK(back == host);

  ex.memset(a.get(), 0xff, 8);
  ex.memset(a.floats() + 2, 0, 4);
  std::vector<uint32_t> bits(4);
  ex.copyToHost(bits.data(), a.get(), 16);
  CHECK(bits[0] == 0xffffffffu);
  CHECK(bits[1] == 0xffffffffu);
  CHECK(bits[2] == 0);
  uint32_t three;
  std::memcpy(&three, &host[3], 4);
  CHECK(bits[3] == three);
}

TEST_CASE("CudaExecutor runs a kernel over every chunk", "[cuda]") {
  if (!nos::test::haveGpu())
    return;
  CudaExecutor ex;
  NosArgs args = distinctArgs();
  args.lr = 0.5f;
  CHECK_THROWS_AS(ex.run("sgd", nullptr, 1, args), CudaError); // not loaded
  CHECK(!ex.loaded("sgd"));
  ex.load("sgd", sgdPtx());
  ex.load("sgd", "not looked at: the key is loaded already");
  CHECK(ex.loaded("sgd"));

  DeviceModel m(ex, oddSizes());
  const int steps = 3;
  for (int s = 0; s < steps; ++s) {
    std::vector<NosTensor> copy = m.table; // the cache keys on bytes
    ex.run("sgd", copy.data(), int64_t(copy.size()), args);
  }
  ex.run("sgd", m.table.data(), 0, args); // nothing to do
  ex.synchronize();

  std::vector<float> out(m.w.size());
  ex.copyToHost(out.data(), m.dw.get(), out.size() * 4);
  int64_t wrong = 0, untouched = 0;
  for (size_t t = 0; t < m.sizes.size(); ++t)
    for (int64_t i = 0; i < m.sizes[t]; ++i) {
      size_t k = m.offsets[t] + size_t(i);
      float want = m.w[k];
      for (int s = 0; s < steps; ++s)
        want = std::fma(-args.lr, m.g[k], want);
      wrong += out[k] != want;
    }
  // Padding between tensors must not be written.
  for (size_t t = 0; t < m.sizes.size(); ++t) {
    size_t end = t + 1 < m.sizes.size() ? m.offsets[t + 1] : out.size();
    for (size_t k = m.offsets[t] + size_t(m.sizes[t]); k < end; ++k)
      untouched += out[k] != m.w[k];
  }
  CHECK(wrong == 0);
  CHECK(untouched == 0);
}

TEST_CASE("CudaExecutor passes every argument in ABI order", "[cuda]") {
  if (!nos::test::haveGpu())
    return;
  CudaExecutor ex;
  ex.load("probe", probePtx());
  DeviceBuffer out(ex, kProbeBytes);
  ex.memset(out.get(), 0, kProbeBytes);
  NosTensor t[2] = {};
  t[0].w = out.floats();
  t[0].n = 32;
  t[1].n = 2 * NOS_GPU_CHUNK + 1;
  NosArgs args = distinctArgs();
  ex.run("probe", t, 2, args);
  ex.synchronize();
  unsigned char got[kProbeBytes];
  ex.copyToHost(got, out.get(), kProbeBytes);
  CHECK(std::memcmp(got, &args, sizeof(NosArgs)) == 0);
  int64_t nchunks = 0, end = 0;
  std::memcpy(&nchunks, got + sizeof(NosArgs), 8);
  std::memcpy(&end, got + sizeof(NosArgs) + 8, 8);
  CHECK(nchunks == 4);
  CHECK(end == 32);
}

TEST_CASE("CudaExecutor table cache survives eviction", "[cuda]") {
  if (!nos::test::haveGpu())
    return;
  CudaExecutor ex;
  ex.load("sgd", sgdPtx());
  const int tables = int(CudaExecutor::kTableCacheEntries) + 5;
  std::vector<int64_t> sizes;
  for (int t = 0; t < tables; ++t)
    sizes.push_back(1000 + 70001 * t % 150000);
  DeviceModel m(ex, sizes);
  for (size_t i = 0; i < m.g.size(); ++i)
    m.g[i] = 1;
  ex.copyToDevice(m.dg.get(), m.g.data(), m.g.size() * 4);
  NosArgs args = distinctArgs();
  args.lr = 1;
  // Tables of 1, 2, ... tensors, twice: tensor t is in 2 * (tables - t).
  for (int round = 0; round < 2; ++round)
    for (int count = 1; count <= tables; ++count)
      ex.run("sgd", m.table.data(), count, args);
  ex.synchronize();
  std::vector<float> out(m.w.size());
  ex.copyToHost(out.data(), m.dw.get(), out.size() * 4);
  int64_t wrong = 0;
  for (int t = 0; t < tables; ++t)
    for (int64_t i = 0; i < sizes[t]; ++i) {
      size_t k = m.offsets[t] + size_t(i);
      wrong += out[k] != m.w[k] - float(2 * (tables - t));
    }
  CHECK(wrong == 0);
}

TEST_CASE("CudaExecutor rejects bad kernels with the driver's log", "[cuda]") {
  if (!nos::test::haveGpu())
    return;
  CudaExecutor ex;
  try {
    ex.load("garbage", "this is not PTX");
    FAIL("garbage PTX loaded");
  } catch (const CudaError &e) {
    std::string msg = e.what();
    CHECK(msg.find("cuModuleLoadDataEx") != std::string::npos);
    CHECK(msg.find("garbage") != std::string::npos);
    CHECK(msg.find('\n') != std::string::npos); // the JIT log follows
  }
  CHECK(!ex.loaded("garbage"));

  // One parameter short: a launch would pass the seed nowhere.
  std::string shortPtx = ptxEntry(NOS_GPU_PARAMS - 1) + "{\n  ret;\n}\n";
  CHECK_THROWS_WITH(ex.load("short", shortPtx), Catch::Contains("kernel ABI"));
  CHECK(!ex.loaded("short"));
  // A driver that reports no parameter cannot tell; the kernel is not
  // refused for that.
  ex.load("untold", ptxEntry(0) + "{\n  ret;\n}\n");
  CHECK(ex.loaded("untold"));

  ex.load("sgd", sgdPtx());
  ex.unload("sgd");
  CHECK(!ex.loaded("sgd"));
  ex.unload("sgd");
}
