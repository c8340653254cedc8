//===- CpuExecutor.cpp - Multi-tensor apply on a thread pool ----*- C++ -*-===//
//
// A compiled kernel updates a whole table of tensors in one call, so spreading
// a step over cores means handing each thread a contiguous run of roughly equal
// element count, cut across tensor boundaries where needed. The pool is
// persistent because a training step is often shorter than thread creation.
//
//===----------------------------------------------------------------------===//
#include "nos/CpuExecutor.h"

#include <algorithm>
#include <condition_variable>
#include <mutex>
#include <thread>

namespace nos {

NosTensor sliceTensor(const NosTensor &t, int64_t start, int64_t n) {
  NosTensor s = t;
  s.w = t.w ? t.w + start : nullptr;
  s.g = t.g ? t.g + start : nullptr;
  for (float *&p : s.state)
    p = p ? p + start : nullptr;
  s.n = n;
  s.rng_base = t.rng_base + start;
  return s;
}

namespace {

/// starts[i] is the global index of tensor i's first element; starts[count]
/// is the total.
std::vector<int64_t> prefixStarts(const NosTensor *table, int64_t count) {
  std::vector<int64_t> starts(size_t(count) + 1, 0);
  for (int64_t i = 0; i < count; ++i)
    starts[i + 1] = starts[i] + std::max<int64_t>(table[i].n, 0);
  return starts;
}

/// Moves a global cut point down to a multiple of kChunkAlign within the
/// (non-empty) tensor that contains it.
int64_t alignCut(const std::vector<int64_t> &starts, int64_t cut) {
  auto it = std::upper_bound(starts.begin(), starts.end(), cut);
  int64_t base = *(it - 1);
  return base + (cut - base) / kChunkAlign * kChunkAlign;
}

/// Global cut points 0 = c[0] <= c[1] <= ... <= c[parts] = total.
std::vector<int64_t> cutPoints(const std::vector<int64_t> &starts, int parts) {
  int64_t total = starts.back();
  std::vector<int64_t> cuts{0};
  for (int p = 1; p < parts; ++p) {
    // Split the product so it cannot overflow for huge totals.
    int64_t ideal = total / parts * p + total % parts * p / parts;
    cuts.push_back(std::max(alignCut(starts, ideal), cuts.back()));
  }
  cuts.push_back(total);
  return cuts;
}

} // namespace

std::vector<std::vector<NosTensor>> splitTable(const NosTensor *table,
                                               int64_t count, int parts) {
  std::vector<std::vector<NosTensor>> out;
  if (count <= 0)
    return out;
  std::vector<int64_t> starts = prefixStarts(table, count);
  std::vector<int64_t> cuts = cutPoints(starts, std::max(parts, 1));
  int64_t i = 0; // first tensor that may still have elements to hand out
  for (size_t p = 0; p + 1 < cuts.size(); ++p) {
    int64_t lo = cuts[p], hi = cuts[p + 1];
    if (lo == hi)
      continue;
    std::vector<NosTensor> part;
    for (; i < count && starts[i] < hi; ++i) {
      int64_t from = std::max(lo, starts[i]), to = std::min(hi, starts[i + 1]);
      if (from < to)
        part.push_back(sliceTensor(table[i], from - starts[i], to - from));
      if (starts[i + 1] > hi)
        break; // the tensor continues into the next part
    }
    out.push_back(std::move(part));
  }
  return out;
}

/// Workers sleep on `wake` until the generation changes; worker k (k >= 1)
/// runs part k of the current job, the caller runs part 0.
struct CpuExecutor::Pool {
  std::mutex callers; // serializes run()
  std::mutex m;
  std::condition_variable wake, done;
  uint64_t generation = 0;
  bool stop = false;
  NosCpuKernelFn fn = nullptr;
  const std::vector<std::vector<NosTensor>> *parts = nullptr;
  const NosArgs *args = nullptr;
  int pending = 0;
  std::vector<std::thread> workers;

  void workerLoop(size_t index);
  void shutdown();
  void runParts(NosCpuKernelFn f, const std::vector<std::vector<NosTensor>> &p,
                const NosArgs &a);
};

void CpuExecutor::Pool::workerLoop(size_t index) {
  uint64_t seen = 0;
  std::unique_lock<std::mutex> lock(m);
  for (;;) {
    wake.wait(lock, [&] { return stop || generation != seen; });
    if (stop)
      return;
    seen = generation;
    if (index >= parts->size())
      continue;
    const std::vector<NosTensor> &mine = (*parts)[index];
    lock.unlock();
    fn(mine.data(), int64_t(mine.size()), args);
    lock.lock();
    if (--pending == 0)
      done.notify_one();
  }
}

void CpuExecutor::Pool::runParts(NosCpuKernelFn f,
                                 const std::vector<std::vector<NosTensor>> &p,
                                 const NosArgs &a) {
  {
    std::lock_guard<std::mutex> lock(m);
    fn = f;
    parts = &p;
    args = &a;
    pending = int(p.size()) - 1;
    ++generation;
  }
  wake.notify_all();
  f(p[0].data(), int64_t(p[0].size()), &a);
  std::unique_lock<std::mutex> lock(m);
  done.wait(lock, [&] { return pending == 0; });
}

void CpuExecutor::Pool::shutdown() {
  {
    std::lock_guard<std::mutex> lock(m);
    stop = true;
  }
  wake.notify_all();
  for (std::thread &t : workers)
    t.join();
  workers.clear();
}

CpuExecutor::CpuExecutor(int threads) : pool_(std::make_unique<Pool>()) {
  if (threads <= 0)
    threads = int(std::thread::hardware_concurrency());
  threads_ = std::max(threads, 1);
  Pool *pool = pool_.get();
  try {
    for (int k = 1; k < threads_; ++k)
      pool->workers.emplace_back([pool, k] { pool->workerLoop(size_t(k)); });
  } catch (...) {
    pool->shutdown(); // joinable threads must not be destroyed
    throw;
  }
}

CpuExecutor::~CpuExecutor() { pool_->shutdown(); }

int partsFor(const NosTensor *table, int64_t count, int threads) {
  int64_t total = 0;
  for (int64_t i = 0; i < count; ++i)
    total += std::max<int64_t>(table[i].n, 0);
  int64_t wanted = std::max<int64_t>(total / kMinElementsPerThread, 1);
  return int(std::min<int64_t>(std::max(threads, 1), wanted));
}

void CpuExecutor::run(NosCpuKernelFn fn, const NosTensor *table, int64_t count,
                      const NosArgs &args) {
  if (count <= 0)
    return;
  int parts = partsFor(table, count, threads_);
  if (parts == 1) {
    fn(table, count, &args); // not worth a thread hand-off
    return;
  }
  std::vector<std::vector<NosTensor>> split = splitTable(table, count, parts);
  std::lock_guard<std::mutex> lock(pool_->callers);
  pool_->runParts(fn, split, args);
}

} // namespace nos
