//===- Workers.cpp - Evaluations on threads of this process ---------------===//
//
// One torch thread per worker by default: two children on two cores
// trained 1.24-1.61x faster than one child on two threads (docs/search.md).
// Workers only evaluate; the engine's thread stores what they hand back,
// so the store sees one writer.
//
//===----------------------------------------------------------------------===//
#include "nos/search/Workers.h"

#include <fmt/core.h>

#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <deque>
#include <exception>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <utility>

namespace nos::search {

WorkerPool::~WorkerPool() = default;
PoolJob::~PoolJob() = default;

void WorkerPool::submit(PoolJob &) {
  throw std::logic_error(describe() + " evaluate candidates only");
}

namespace {
/// Worker threads that live as long as the pool, started on the first
/// submit, fed from one queue.
class ThreadPool : public WorkerPool {
public:
  ThreadPool(const Pipeline &pipeline, int workers, int torchThreads)
      : pipeline_(pipeline) {
    unsigned cores = std::max(1u, std::thread::hardware_concurrency());
    workers_ = workers > 0 ? workers : int(cores);
    torchThreads_ =
        torchThreads > 0 ? torchThreads : std::max(1, int(cores) / workers_);
  }

  ~ThreadPool() override {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      closing_ = true;
      queue_.clear();
    }
    ready_.notify_all();
    for (std::thread &t : threads_)
      t.join();
  }

  std::string describe() const override {
    return fmt::format("{} worker(s) x {} torch thread(s)", workers_,
                       torchThreads_);
  }

  /// Workers ask the condition under the lock.
  void stopWhen(std::function<bool()> stop) override {
    std::lock_guard<std::mutex> lock(mutex_);
    WorkerPool::stopWhen(std::move(stop));
  }

  void submit(Candidate &c,
              std::shared_ptr<const std::vector<double>> bars) override {
    enqueue({&c, std::move(bars), nullptr});
  }

  void submit(PoolJob &job) override { enqueue({nullptr, nullptr, &job}); }

  Finished wait() override {
    std::unique_lock<std::mutex> lock(mutex_);
    for (;;) {
      if (failure_)
        std::rethrow_exception(std::exchange(failure_, nullptr));
      if (!done_.empty()) {
        Finished f = done_.front();
        done_.pop_front();
        return f;
      }
      if (running_ == 0 && (queue_.empty() || stopped()))
        return {};
      // Workers asleep while the pool was stopped are not told when the
      // stop lifts (a resumed run's new budget): wake them here.
      if (!queue_.empty() && !stopped())
        ready_.notify_all();
      // The stop condition is a clock, which notifies nobody.
      finished_.wait_for(lock, std::chrono::milliseconds(50));
    }
  }

private:
  struct Job {
    Candidate *candidate;
    std::shared_ptr<const std::vector<double>> bars;
    PoolJob *job;
  };

  void enqueue(Job job) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      queue_.push_back(std::move(job));
      if (threads_.empty())
        for (int id = 0; id < workers_; ++id)
          threads_.emplace_back([this, id] { work(id); });
    }
    ready_.notify_one();
  }

  /// Runs a job on worker `id`.
  void run(Job &job, int id) {
    if (job.job) {
      job.job->worker = id;
      job.job->run();
      return;
    }
    job.candidate->worker = id;
    pipeline_.evaluate(*job.candidate, *job.bars);
  }

  void work(int id) {
    train::setTorchThreads(torchThreads_);
    for (;;) {
      Job job;
      {
        std::unique_lock<std::mutex> lock(mutex_);
        ready_.wait(
            lock, [&] { return closing_ || (!queue_.empty() && !stopped()); });
        if (closing_)
          return;
        job = std::move(queue_.front());
        queue_.pop_front();
        ++running_;
      }
      std::exception_ptr error;
      try {
        run(job, id);
      } catch (...) {
        error = std::current_exception();
      }
      {
        std::lock_guard<std::mutex> lock(mutex_);
        --running_;
        if (error)
          failure_ = failure_ ? failure_ : error;
        else
          done_.push_back({job.candidate, job.job});
      }
      finished_.notify_one();
    }
  }

  const Pipeline &pipeline_;
  int workers_ = 1, torchThreads_ = 1;
  std::mutex mutex_;
  std::condition_variable ready_, finished_;
  std::deque<Job> queue_;
  std::deque<Finished> done_;
  int running_ = 0;
  bool closing_ = false;
  std::exception_ptr failure_;
  std::vector<std::thread> threads_;
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
