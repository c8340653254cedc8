//===- RuntimeTest.cpp - Tests of the CPU runtime ---------------*- C++ -*-===//
//
// Exercises makeArgs, the table splitting and thread pool of CpuExecutor and
// StateBuffers with a hand-written kernel, so the runtime is tested without
// the compiler. The kernel logs every call so the tests can check that each
// thread ran once and that the slices tile every tensor exactly.
//
//===----------------------------------------------------------------------===//
#include "nos/Args.h"
#include "nos/CpuExecutor.h"
#include "nos/Random.h"
#include "nos/StateBuffers.h"

#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <mutex>
#include <set>
#include <thread>

using namespace nos;

namespace {

struct Call {
  std::thread::id thread;
  std::vector<NosTensor> slices;
};

std::mutex logMutex;
std::vector<Call> callLog;

/// w -= lr * g and state[0][i] = rng_base + i: the second shows which element
/// index of the random stream each slice believed it started at.
void sgdKernel(const NosTensor *table, int64_t count, const NosArgs *args) {
  for (int64_t t = 0; t < count; ++t) {
    const NosTensor &x = table[t];
    for (int64_t i = 0; i < x.n; ++i) {
      x.w[i] -= args->lr * x.g[i];
      x.state[0][i] = float(x.rng_base + i);
    }
  }
  std::lock_guard<std::mutex> lock(logMutex);
  callLog.push_back({std::this_thread::get_id(), {table, table + count}});
}

/// Parameters, gradients and one state slot for tensors of given sizes.
struct Model {
  std::vector<std::vector<float>> w, g;
  StateBuffers state;
  std::vector<NosTensor> table;

  explicit Model(const std::vector<int64_t> &sizes) : state(sizes, 1) {
    for (size_t t = 0; t < sizes.size(); ++t) {
      w.emplace_back(size_t(sizes[t]));
      g.emplace_back(size_t(sizes[t]));
      for (int64_t i = 0; i < sizes[t]; ++i) {
        w[t][i] = float(i % 13);
        g[t][i] = float(i % 7 + t);
      }
      NosTensor x{};
      x.w = w[t].data();
      x.g = g[t].data();
      x.n = sizes[t];
      x.rng_base = int64_t(t) * 1000;
      table.push_back(x);
    }
    state.fillTable(table);
  }
};

/// Which tensor of `m` a slice points into, and at which offset.
std::pair<size_t, int64_t> locate(const Model &m, const NosTensor &s) {
  for (size_t t = 0; t < m.table.size(); ++t) {
    const float *base = m.table[t].w;
    if (s.w >= base && s.w < base + m.table[t].n)
      return {t, s.w - base};
  }
  FAIL("slice does not point into any tensor");
  return {0, 0};
}

void checkSliceConsistent(const Model &m, const NosTensor &s, size_t t,
                          int64_t off) {
  const NosTensor &whole = m.table[t];
  CHECK(s.g == whole.g + off);
  CHECK(s.state[0] == whole.state[0] + off);
  CHECK(s.state[1] == nullptr);
  CHECK(s.rng_base == whole.rng_base + off);
  CHECK(off + s.n <= whole.n);
  CHECK(off % kChunkAlign == 0);
  CHECK(((off + s.n) % kChunkAlign == 0 || off + s.n == whole.n));
}

/// Every element of every tensor was covered by exactly one slice.
void checkCoverage(const Model &m, const std::vector<Call> &calls) {
  std::vector<std::vector<int>> seen;
  for (const NosTensor &x : m.table)
    seen.emplace_back(size_t(x.n), 0);
  for (const Call &c : calls)
    for (const NosTensor &s : c.slices) {
      if (s.n == 0)
        continue; // an inline call passes empty tensors through
      auto [t, off] = locate(m, s);
      checkSliceConsistent(m, s, t, off);
      for (int64_t i = 0; i < s.n; ++i)
        ++seen[t][size_t(off + i)];
    }
  int64_t wrong = 0;
  for (const std::vector<int> &counts : seen)
    for (int c : counts)
      wrong += c != 1;
  CHECK(wrong == 0);
}

void checkValues(const Model &m, float lr) {
  int64_t wrong = 0;
  for (size_t t = 0; t < m.table.size(); ++t) {
    const float *st = m.table[t].state[0];
    for (int64_t i = 0; i < m.table[t].n; ++i) {
      float want = float(i % 13) - lr * float(i % 7 + t);
      wrong += m.w[t][size_t(i)] != want;
      wrong += st[i] != float(int64_t(t) * 1000 + i);
    }
  }
  CHECK(wrong == 0);
}

std::vector<Call> runLogged(CpuExecutor &ex, Model &m, const NosArgs &args) {
  callLog.clear();
  ex.run(sgdKernel, m.table.data(), int64_t(m.table.size()), args);
  return callLog;
}

const std::vector<int64_t> kOddSizes = {0,     1, 63,     65, 100003, 64,
                                        128,   0, 4097,   33, 250001, 1,
                                        70000, 2, 131072, 0,  99};

} // namespace

TEST_CASE("CpuExecutor updates every element once", "[runtime]") {
  for (int threads : {1, 2, 3, 8}) {
    DYNAMIC_SECTION("threads = " << threads) {
      CpuExecutor ex(threads);
      REQUIRE(ex.threads() == threads);
      Model m(kOddSizes);
      NosArgs args{};
      args.lr = 0.5f;
      std::vector<Call> calls = runLogged(ex, m, args);
      checkValues(m, 0.5f);
      checkCoverage(m, calls);
      std::set<std::thread::id> ids;
      for (const Call &c : calls)
        ids.insert(c.thread);
      CHECK(ids.size() == calls.size()); // each thread called once
      CHECK(int(calls.size()) == threads);
    }
  }
}

TEST_CASE("CpuExecutor balances contiguous runs", "[runtime]") {
  CpuExecutor ex(8);
  Model m(kOddSizes);
  int64_t total = 0;
  for (int64_t n : kOddSizes)
    total += n;
  std::vector<Call> calls = runLogged(ex, m, NosArgs{});
  REQUIRE(calls.size() == 8);
  for (const Call &c : calls) {
    int64_t sum = 0;
    for (const NosTensor &s : c.slices)
      sum += s.n;
    CHECK(std::abs(sum - total / 8) <= 2 * kChunkAlign);
  }
}

TEST_CASE("CpuExecutor runs tiny tables inline", "[runtime]") {
  CpuExecutor ex(4);
  Model m({0, 10, 1000, 63});
  NosArgs args{};
  args.lr = 1.0f;
  std::vector<Call> calls = runLogged(ex, m, args);
  REQUIRE(calls.size() == 1);
  CHECK(calls[0].thread == std::this_thread::get_id());
  CHECK(calls[0].slices.size() == 4);
  checkValues(m, 1.0f);
}

TEST_CASE("CpuExecutor keeps its threads across calls", "[runtime]") {
  CpuExecutor ex(3);
  Model m({200000, 5});
  std::set<std::thread::id> ids;
  for (int step = 0; step < 200; ++step)
    for (const Call &c : runLogged(ex, m, NosArgs{}))
      ids.insert(c.thread);
  CHECK(ids.size() == 3);
  CHECK(ids.count(std::this_thread::get_id()) == 1);
}

namespace {
void addOneKernel(const NosTensor *table, int64_t count, const NosArgs *) {
  for (int64_t t = 0; t < count; ++t)
    for (int64_t i = 0; i < table[t].n; ++i)
      table[t].w[i] += 1.0f;
}
} // namespace

TEST_CASE("CpuExecutor serializes concurrent callers", "[runtime]") {
  CpuExecutor ex(4);
  Model a({100000, 7, 80000}), b({3, 150000});
  auto steps = [&](Model &m) {
    for (int k = 0; k < 50; ++k)
      ex.run(addOneKernel, m.table.data(), int64_t(m.table.size()), NosArgs{});
  };
  std::thread other([&] { steps(b); });
  steps(a);
  other.join();
  int64_t wrong = 0;
  for (Model *m : {&a, &b})
    for (size_t t = 0; t < m->w.size(); ++t)
      for (size_t i = 0; i < m->w[t].size(); ++i)
        wrong += m->w[t][i] != float(i % 13) + 50.0f;
  CHECK(wrong == 0);
}

TEST_CASE("CpuExecutor shuts down cleanly", "[runtime]") {
  Model m({70000});
  for (int k = 0; k < 30; ++k) {
    CpuExecutor ex(k % 5 + 1);
    if (k % 2)
      ex.run(addOneKernel, m.table.data(), 1, NosArgs{});
  }
  CHECK(m.w[0][1] == 1.0f + 15.0f);
}

TEST_CASE("CpuExecutor handles empty tables", "[runtime]") {
  CpuExecutor ex(2);
  callLog.clear();
  ex.run(sgdKernel, nullptr, 0, NosArgs{});
  CHECK(callLog.empty());
  CHECK(CpuExecutor().threads() >= 1);
}

TEST_CASE("splitTable tiles tables for any part count", "[runtime]") {
  std::vector<int64_t> sizes = {5, 0, 64, 1000, 129, 0, 3, 65536, 7};
  Model m(sizes);
  for (int parts = 1; parts <= 12; ++parts) {
    auto split = splitTable(m.table.data(), int64_t(m.table.size()), parts);
    CHECK(int(split.size()) <= parts);
    std::vector<Call> calls;
    for (auto &p : split) {
      CHECK_FALSE(p.empty());
      for (const NosTensor &x : p)
        CHECK(x.n > 0);
      calls.push_back({std::thread::id(), p});
    }
    checkCoverage(m, calls);
  }
  CHECK(splitTable(m.table.data(), 0, 4).empty());
}

TEST_CASE("sliceTensor offsets every pointer", "[runtime]") {
  float w[10], g[10], s0[10];
  NosTensor t{};
  t.w = w;
  t.g = g;
  t.state[0] = s0;
  t.n = 10;
  t.rng_base = 7;
  NosTensor s = sliceTensor(t, 4, 3);
  CHECK(s.w == w + 4);
  CHECK(s.g == g + 4);
  CHECK(s.state[0] == s0 + 4);
  CHECK(s.state[1] == nullptr);
  CHECK(s.n == 3);
  CHECK(s.rng_base == 11);
}

TEST_CASE("StateBuffers are zeroed, aligned and disjoint", "[runtime]") {
  std::vector<int64_t> sizes = {3, 0, 17, 64, 1001};
  StateBuffers sb(sizes, 3);
  CHECK(sb.tensors() == sizes.size());
  CHECK(sb.slots() == 3);
  for (size_t t = 0; t < sizes.size(); ++t)
    for (size_t k = 0; k < 3; ++k) {
      float *p = sb.get(t, k);
      CHECK(reinterpret_cast<uintptr_t>(p) % 64 == 0);
      for (int64_t i = 0; i < sizes[t]; ++i) {
        REQUIRE(p[i] == 0.0f);
        p[i] = float(t * 10 + k);
      }
    }
  for (size_t t = 0; t < sizes.size(); ++t)
    for (size_t k = 0; k < 3; ++k)
      for (int64_t i = 0; i < sizes[t]; ++i)
        REQUIRE(sb.get(t, k)[i] == float(t * 10 + k));
  sb.reset();
  CHECK(sb.get(4, 2)[1000] == 0.0f);
  CHECK_THROWS(sb.get(5, 0));
  CHECK_THROWS(sb.get(0, 3));
}

TEST_CASE("StateBuffers fill a table", "[runtime]") {
  StateBuffers sb({4, 8}, 2);
  std::vector<NosTensor> table(2);
  table[0].n = 4;
  table[1].n = 8;
  table[1].state[5] = reinterpret_cast<float *>(&table); // stale pointer
  sb.fillTable(table);
  CHECK(table[1].state[0] == sb.get(1, 0));
  CHECK(table[1].state[1] == sb.get(1, 1));
  CHECK(table[1].state[5] == nullptr);
  std::vector<NosTensor> wrongCount(1);
  CHECK_THROWS_AS(sb.fillTable(wrongCount), std::invalid_argument);
  table[0].n = 5;
  CHECK_THROWS_AS(sb.fillTable(table), std::invalid_argument);
  CHECK_THROWS_AS(StateBuffers({1}, NOS_MAX_STATE + 1), std::invalid_argument);
  CHECK_THROWS_AS(StateBuffers({-1}, 1), std::invalid_argument);
}

TEST_CASE("makeArgs computes the per-step scalars", "[runtime]") {
  Hyper h;
  h.lr = 0.01;
  h.beta1 = 0.9;
  h.beta2 = 0.999;
  h.beta3 = 0.5;
  h.eps = 1e-7;
  h.delta = 1e-6;
  h.totalSteps = 1000;
  h.seed = 0x123456789abcULL;
  h.weightDecay = 0.5;
  h.maximize = true;
  std::vector<ScheduleSpec> sched = {
      {Schedule::LD, 0}, {Schedule::CD, 0.5}, {Schedule::RD, 3}};
  std::string error = "stale";
  NosArgs a = makeArgs(h, 250, sched, &error);
  REQUIRE(error.empty());
  // Expected values are worked out by hand (and in Python's float64), not
  // with Hyper.h's functions that makeArgs itself calls.
  CHECK(a.lr == 0.01f);
  CHECK(a.beta1 == 0.9f);
  CHECK(a.beta2 == 0.999f);
  CHECK(a.beta3 == 0.5f);
  CHECK(a.eps == 1e-7f);
  CHECK(a.delta == 1e-6f);
  CHECK(a.bc1 == 1.0f); // 1 / (1 - 0.9^250) rounds to 1 in f32
  CHECK(a.bc2 == 4.518821721794604f);
  CHECK(a.bc3 == 1.0f);
  // 1 - beta rounded once from double: 1.0f - 0.999f would be 0.0009999871.
  CHECK(a.omb1 == 0.1f);
  CHECK(a.omb2 == 0.001f);
  CHECK(a.omb3 == 0.5f);
  CHECK(a.anoise_std == 0.21882136690109158f); // 251^-0.275
  // The schedules read the 249 steps completed before step 250.
  CHECK(a.sched[0] == 0.751f);               // 1 - 249/1000
  CHECK(a.sched[1] == 0.8546623647861369f);  // (1 + cos(0.249 pi)) / 2
  CHECK(a.sched[2] == 0.14979442460809694f); // (1 + cos(0.747 pi)) / 2
  CHECK(a.sched[3] == 0.0f);
  CHECK(a.wscale == 0.995f); // 1 - lr * weight_decay
  CHECK(a.gscale == -1.0f);  // maximize
  CHECK(a.step == 250);
  CHECK(a.total_steps == 1000);
  CHECK(a.seed == 0x123456789abcULL);
  NosArgs first = makeArgs(h, 3, {}, nullptr);
  CHECK(first.bc1 == 3.690036900369005f);  // 1 / (1 - 0.9^3)
  CHECK(first.bc2 == 333.66688900003714f); // 1 / (1 - 0.999^3)
}

TEST_CASE("makeArgs rejects invalid inputs", "[runtime]") {
  Hyper h;
  std::string error;
  auto fails = [&](const Hyper &hh, int64_t step,
                   const std::vector<ScheduleSpec> &s) {
    error.clear();
    NosArgs a = makeArgs(hh, step, s, &error);
    return !error.empty() && a.lr == 0.0f && a.step == 0;
  };
  CHECK(fails(h, 0, {}));
  CHECK(error.find("step") != std::string::npos);
  CHECK(fails(h, -5, {}));
  CHECK(fails(h, 1, {{Schedule::LD, 0}}));
  CHECK(error == "the rule uses the decay schedule 'ld', which needs total "
                 "steps > 0");
  h.totalSteps = 10;
  CHECK_FALSE(fails(h, 1, {{Schedule::LD, 0}}));
  CHECK(fails(h, 1, std::vector<ScheduleSpec>(NOS_MAX_SCHEDULES + 1)));
  CHECK_FALSE(fails(h, 1, std::vector<ScheduleSpec>(NOS_MAX_SCHEDULES)));
  for (double bad : {1.0, -0.1, 2.0, std::nan("")}) {
    Hyper b = h;
    b.beta1 = bad;
    CHECK(fails(b, 1, {}));
    CHECK(error.find("beta1") != std::string::npos);
    b = h;
    b.beta2 = bad;
    CHECK(fails(b, 1, {}));
    b = h;
    b.beta3 = bad;
    CHECK(fails(b, 1, {}));
  }
  h.beta1 = 0.0;
  CHECK_FALSE(fails(h, 1, {}));
}

// The host-side generators: their streams are part of every seed's meaning
// (proposals, probe gradients, data, batch orders), so they are pinned.
TEST_CASE("the seeded generators keep their streams", "[runtime]") {
  Rng rng(0);
  CHECK(rng.next() == 11091344671253066420ULL);
  CHECK(rng.next() == 13793997310169335082ULL);
  Rng other(12345);
  CHECK(other.next() == 13720838825685603483ULL);
  std::string saved = other.engine().save();
  uint64_t after = other.next();
  Rng resumed(7);
  REQUIRE(resumed.engine().load(saved));
  CHECK(resumed.next() == after);
  CHECK_FALSE(resumed.engine().load("1 2 three"));
  // std::mt19937_64's required 10000th output for its default seed.
  DataRng data(5489);
  for (int i = 1; i < 10000; ++i)
    data.next();
  CHECK(data.next() == 9981545732273789042ULL);
  double sum = 0, squares = 0;
  std::vector<int> counts(7, 0);
  for (int i = 0; i < 70000; ++i) {
    double z = rng.normal();
    sum += z, squares += z * z;
    uint64_t k = rng.below(7);
    REQUIRE(k < 7);
    ++counts[k];
  }
  CHECK(std::fabs(sum / 70000) < 0.02);
  CHECK(std::fabs(squares / 70000 - 1) < 0.03);
  for (int c : counts)
    CHECK(std::abs(c - 10000) < 500);
}
