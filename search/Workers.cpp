//===- Workers.cpp - Evaluations on threads of this process ---------------===//
//
// One torch thread per worker by default: two children on two cores
// trained 1.24-1.61x faster than one child on two threads (docs/search.md).
// Commits are serialised under one lock, so the store sees one writer.
//
//===----------------------------------------------------------------------===//
#include "nos/search/Workers.h"

#include <fmt/core.h>

#include <atomic>
#include <cstdlib>
#include <exception>
#include <mutex>
#include <thread>

namespace nos::search {

WorkerPool::~WorkerPool() = default;

namespace {
class ThreadPool : public WorkerPool {
public:
  ThreadPool(const Pipeline &pipeline, int workers, int torchThreads)
      : pipeline_(pipeline) {
    unsigned cores = std::max(1u, std::thread::hardware_concurrency());
    workers_ = workers > 0 ? workers : int(cores);
    torchThreads_ =
        torchThreads > 0 ? torchThreads : std::max(1, int(cores) / workers_);
  }

  std::string describe() const override {
    return fmt::format("{} worker(s) x {} torch thread(s)", workers_,
                       torchThreads_);
  }

  bool evaluate(std::vector<Candidate> &slots, const std::vector<size_t> &work,
                const std::vector<double> &bars,
                const std::function<bool()> &stop,
                const std::function<void(Candidate &)> &commit) override {
    std::atomic<size_t> next{0};
    std::atomic<bool> stopped{false}, failed{false};
    std::mutex commitLock;
    std::exception_ptr failure; // the first error ends the session
    auto worker = [&](int id) {
      train::setTorchThreads(torchThreads_);
      for (;;) {
        size_t i = next++;
        if (i >= work.size())
          return;
        if (failed || stop()) {
          stopped = true;
          return;
        }
        Candidate &c = slots[work[i]];
        c.worker = id;
        pipeline_.evaluate(c, bars); // a candidate's errors become a status
        std::lock_guard<std::mutex> lock(commitLock);
        try {
          commit(c);
        } catch (...) {
          failure = failure ? failure : std::current_exception();
          failed = true;
        }
      }
    };
    int n = std::min<int>(workers_, int(work.size()));
    std::vector<std::thread> threads;
    for (int id = 1; id < n; ++id)
      threads.emplace_back(worker, id);
    if (n > 0)
      worker(0);
    for (std::thread &t : threads)
      t.join();
    train::setTorchThreads(1);
    if (failure)
      std::rethrow_exception(failure);
    return !stopped;
  }

private:
  const Pipeline &pipeline_;
  int workers_ = 1, torchThreads_ = 1;
};

MpiSession *session = nullptr;
} // namespace

std::unique_ptr<WorkerPool> makeThreadPool(const Pipeline &pipeline,
                                           int workers, int torchThreads) {
  return std::make_unique<ThreadPool>(pipeline, workers, torchThreads);
}

bool launchedByMpi() {
  return std::getenv("OMPI_COMM_WORLD_SIZE") || std::getenv("PMIX_RANK") ||
         std::getenv("PMI_SIZE");
}

MpiSession *mpiSession() { return session; }
void setMpiSession(MpiSession *s) { session = s; }

} // namespace nos::search
