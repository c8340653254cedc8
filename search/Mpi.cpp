//===- Mpi.cpp - Evaluations on the worker ranks of an MPI job ------------===//
//
// Rank 0 runs the engine as in a threaded run and hands each costly
// evaluation to an idle rank as soon as one is free: the rule (as rank 0
// printed it) and the batch's bars go out as JSON, the settled fields come
// back, and the rank gets its next job before rank 0 stores the result. A
// worker rebuilds the candidate with the same pipeline from the run's own
// stored settings, so its result is the one a thread of rank 0 would compute.
// The funnel's trainings go the same way, as the job's own request and
// reply (Funnel.h's FunnelServant), in one first-come queue with candidates.
// MPI is used from one thread per process only. Workers ignore SIGINT: rank 0
// decides when a run stops, finishes what is in flight and then tells them.
//
//===----------------------------------------------------------------------===//
#include "BarsJson.h"
#include "Funnel.h"

#include "nos/search/Search.h"
#include "nos/search/Workers.h"

#include <fmt/core.h>
// The C API only: Open MPI's deprecated C++ bindings need their own library.
#define OMPI_SKIP_MPICXX 1
#define MPICH_SKIP_MPICXX 1
#include <mpi.h>
#include <nlohmann/json.hpp>

#include <csignal>
#include <deque>
#include <exception>
#include <map>
#include <stdexcept>

namespace nos::search {

namespace {
enum Tag : int { Setup = 1, Ready, Work, Result, Stop };

void sendText(int to, int tag, const std::string &text) {
  MPI_Send(text.data(), int(text.size()), MPI_CHAR, to, tag, MPI_COMM_WORLD);
}

/// The next message from `from` (or anyone) with `tag` (or any tag).
std::string receiveText(int from, int tag, MPI_Status &status) {
  MPI_Status probe;
  MPI_Probe(from, tag, MPI_COMM_WORLD, &probe);
  int n = 0;
  MPI_Get_count(&probe, MPI_CHAR, &n);
  std::string text(size_t(n), '\0');
  MPI_Recv(text.data(), n, MPI_CHAR, probe.MPI_SOURCE, probe.MPI_TAG,
           MPI_COMM_WORLD, &status);
  return text;
}

nlohmann::json settledFields(const Candidate &c) {
  return {{"status", c.status},         {"detail", c.detail},
          {"accuracies", c.accuracies}, {"best_lr", c.bestLr},
          {"reward", c.reward},         {"fidelity", c.fidelity},
          {"rungs", c.rungs},           {"compile_ms", c.compileMs},
          {"train_s", c.trainSeconds},  {"stage_ms", c.stageMs}};
}

void takeSettled(Candidate &c, const nlohmann::json &j) {
  c.status = j.at("status"), c.detail = j.at("detail");
  c.accuracies = j.at("accuracies").get<std::vector<double>>();
  c.bestLr = j.at("best_lr"), c.reward = j.at("reward");
  c.fidelity = j.at("fidelity");
  c.rungs = j.at("rungs").get<std::vector<double>>();
  c.compileMs = j.at("compile_ms"), c.trainSeconds = j.at("train_s");
  for (auto [stage, ms] : j.at("stage_ms").get<std::map<std::string, double>>())
    c.stageMs[stage] = ms;
}

class MpiPool : public WorkerPool {
public:
  explicit MpiPool(int size) : size_(size) {
    for (int rank = size - 1; rank >= 1; --rank)
      idle_.push_back(rank);
  }

  std::string describe() const override {
    return fmt::format("{} MPI worker rank(s)", size_ - 1);
  }

  void submit(Candidate &c,
              std::shared_ptr<const std::vector<double>> bars) override {
    queue_.push_back({&c, std::move(bars), nullptr});
    dispatch();
  }

  void submit(PoolJob &job) override {
    queue_.push_back({nullptr, nullptr, &job});
    dispatch();
  }

  Finished wait() override {
    dispatch();
    if (busy_.empty())
      return {};
    MPI_Status status;
    nlohmann::json j =
        nlohmann::json::parse(receiveText(MPI_ANY_SOURCE, Result, status));
    int rank = status.MPI_SOURCE;
    Job done = busy_.at(rank);
    busy_.erase(rank);
    idle_.push_back(rank);
    if (j.contains("error")) {
      std::string first = fmt::format("MPI rank {}: {}", rank,
                                      j.at("error").get<std::string>());
      // Let the other ranks finish, so that none is mid-message at exit;
      // the first error is the one to report.
      queue_.clear();
      while (!busy_.empty()) {
        try {
          wait();
        } catch (const std::exception &) {
        }
      }
      throw std::runtime_error(first);
    }
    if (done.job) {
      done.job->answer(j.at("reply"));
      done.job->worker = rank;
    } else {
      takeSettled(*done.candidate, j);
      done.candidate->worker = rank;
    }
    dispatch(); // the rank goes on before the engine looks at the result
    return {done.candidate, done.job};
  }

private:
  /// A candidate with its batch's bars, or a job.
  struct Job {
    Candidate *candidate;
    std::shared_ptr<const std::vector<double>> bars;
    PoolJob *job;
  };

  void dispatch() {
    while (!idle_.empty() && !queue_.empty() && !stopped()) {
      Job job = std::move(queue_.front());
      queue_.pop_front();
      int rank = idle_.back();
      idle_.pop_back();
      nlohmann::json work =
          job.job ? nlohmann::json{{"job", job.job->request()}}
                  : nlohmann::json{{"rule", job.candidate->rule},
                                   {"tokens", job.candidate->tokens},
                                   {"bars", barsToJson(*job.bars)}};
      sendText(rank, Work, work.dump());
      busy_[rank] = job;
    }
  }

  int size_;
  std::deque<Job> queue_;
  std::vector<int> idle_;
  std::map<int, Job> busy_;
};

/// What a worker rank keeps from the Setup message.
struct Servant {
  Pipeline pipeline;
  FunnelServant funnel;
  explicit Servant(const SearchSettings &s)
      : pipeline(s.proxy, s.probe), funnel(s) {}
};

/// A worker's answer to one Work message.
nlohmann::json evaluateHere(Servant *servant, const std::string &text) {
  if (!servant)
    return {{"error", "work arrived before the settings"}};
  nlohmann::json w = nlohmann::json::parse(text);
  if (w.contains("job"))
    return {{"reply", servant->funnel.serve(w.at("job"))}};
  const Pipeline &pipeline = servant->pipeline;
  Candidate c;
  c.rule = w.at("rule"), c.tokens = w.at("tokens");
  pipeline.canonicalize(c);
  if (!c.settled())
    pipeline.probe(c); // the toy reward reads the probe's updates
  if (!c.settled())
    pipeline.evaluate(c, barsFromJson(w.at("bars")));
  return settledFields(c);
}
} // namespace

bool haveMpi() { return true; }

MpiSession::MpiSession(int &argc, char **&argv) {
  int provided = 0;
  MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided);
  MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
  MPI_Comm_size(MPI_COMM_WORLD, &size_);
}

MpiSession::~MpiSession() {
  if (rank_ == 0)
    for (int rank = 1; rank < size_; ++rank)
      sendText(rank, Stop, "");
  MPI_Finalize();
}

int MpiSession::serve() {
  std::signal(SIGINT, SIG_IGN);
  std::unique_ptr<Servant> servant;
  for (;;) {
    MPI_Status status;
    std::string text = receiveText(0, MPI_ANY_TAG, status);
    if (status.MPI_TAG == Stop)
      return 0;
    if (status.MPI_TAG == Setup) {
      std::string error;
      try {
        nlohmann::json j = nlohmann::json::parse(text);
        SearchSettings s = SearchSettings::fromJson(j.at("settings"));
        train::setTorchThreads(j.at("torch_threads"));
        servant = std::make_unique<Servant>(s);
      } catch (const std::exception &e) {
        error = e.what();
      }
      sendText(0, Ready, error);
      continue;
    }
    nlohmann::json out;
    try {
      out = evaluateHere(servant.get(), text);
    } catch (const std::exception &e) {
      out = {{"error", e.what()}};
    }
    sendText(0, Result, out.dump());
  }
}

std::unique_ptr<WorkerPool> MpiSession::pool(const std::string &settingsJson,
                                             int torchThreads) {
  if (size_ < 2)
    throw std::runtime_error("an MPI run needs at least 2 ranks (rank 0 "
                             "keeps the store, the others evaluate)");
  std::string setup =
      nlohmann::json{{"settings", settingsJson},
                     {"torch_threads", std::max(1, torchThreads)}}
          .dump();
  for (int rank = 1; rank < size_; ++rank)
    sendText(rank, Setup, setup);
  std::string errors;
  for (int k = 1; k < size_; ++k) {
    MPI_Status status;
    std::string error = receiveText(MPI_ANY_SOURCE, Ready, status);
    if (!error.empty())
      errors += fmt::format("{}rank {}: {}", errors.empty() ? "" : "; ",
                            status.MPI_SOURCE, error);
  }
  if (!errors.empty())
    throw std::runtime_error("MPI workers could not start: " + errors);
  return std::make_unique<MpiPool>(size_);
}

} // namespace nos::search
