//===- Search.cpp - Starting and resuming a search session ---------------===//
//
// Everything that can reject the settings runs before a run folder exists;
// then the data, the workers and the store are set up and the Engine
// (Engine.h) runs the session. SIGINT and SIGTERM end it gracefully: what is
// in flight finishes and is stored, and a checkpoint is written.
//
//===----------------------------------------------------------------------===//
#include "nos/search/Search.h"

#include "Engine.h"

#include <fmt/core.h>

#include <atomic>
#include <csignal>
#include <exception>
#include <stdexcept>

namespace nos::search {

std::atomic<bool> interrupted{false};

namespace {
extern "C" void onSignal(int) { interrupted = true; }

int fail(const std::string &message) {
  fmt::print(stderr, "nos-search: error: {}\n", message);
  return 1;
}

void installHandlers() {
  std::signal(SIGINT, onSignal);
  std::signal(SIGTERM, onSignal);
}

/// MPI's worker ranks when launched by mpirun, else threads.
std::unique_ptr<WorkerPool> makePool(const Pipeline &pipeline,
                                     const SearchSettings &settings,
                                     const RunOptions &options) {
  if (MpiSession *mpi = mpiSession())
    return mpi->pool(settings.toJson(), options.torchThreads);
  return makeThreadPool(pipeline, options.workers, options.torchThreads);
}

/// Opens the level-results cache of `options` for the funnel's trainings.
/// A path the user gave that cannot be opened stops the run (before its
/// folder exists); the default one only warns, since a search can do
/// without it. CPU trainings only: the key names no GPU model.
void openLevelCache(FunnelTasks *tasks, const SearchSettings &settings,
                    const RunOptions &options) {
  if (!tasks || options.levelCache == "off" ||
      settings.proxy.task.device != "cpu")
    return;
  std::string path = options.levelCache.empty() ? LevelCache::defaultPath()
                                                : options.levelCache;
  if (path.empty())
    return; // no cache folder: nowhere to keep them
  try {
    tasks->cache = std::make_unique<LevelCache>(path);
  } catch (const std::runtime_error &e) {
    if (!options.levelCache.empty())
      throw;
    fmt::print(stderr,
               "nos-search: warning: {}; level trainings run "
               "uncached\n",
               e.what());
  }
}
} // namespace

int startSearch(const std::string &dir, const SearchSettings &settings,
                const Budget &budget, const RunOptions &options) {
  try {
    // Everything that can reject the settings runs before the folder exists.
    Space space(settings.units, settings.space);
    makeStrategy(settings.strategy, space);
    if (settings.batchSize < 1 || settings.pipeline < 1)
      throw std::invalid_argument(
          "the batch size and the pipeline must be at least 1");
    if (std::string why = Funnel::refuse(settings); !why.empty())
      throw std::invalid_argument(why);
    Pipeline pipeline(settings.proxy, settings.probe); // loads the data
    std::unique_ptr<FunnelTasks> funnel = Funnel::load(settings);
    openLevelCache(funnel.get(), settings, options);
    std::unique_ptr<WorkerPool> pool = makePool(pipeline, settings, options);
    std::unique_ptr<Store> store = Store::create(dir, settings.toJson());
    Engine engine(*store, pipeline, *pool, settings, options,
                  std::move(funnel));
    engine.setBudget(budget, false);
    installHandlers();
    return engine.run();
  } catch (const std::exception &e) {
    return fail(e.what());
  }
}

int resumeSearch(const std::string &dir, const Budget &budget,
                 const RunOptions &options) {
  try {
    std::unique_ptr<Store> store = Store::open(dir);
    SearchSettings settings = SearchSettings::fromJson(store->settingsJson());
    if (std::string why = Funnel::refuse(settings); !why.empty())
      throw std::invalid_argument(why);
    Pipeline pipeline(settings.proxy, settings.probe);
    std::unique_ptr<FunnelTasks> funnel = Funnel::load(settings);
    openLevelCache(funnel.get(), settings, options);
    std::unique_ptr<WorkerPool> pool = makePool(pipeline, settings, options);
    Engine engine(*store, pipeline, *pool, settings, options,
                  std::move(funnel));
    std::string spent = engine.spent();
    if (!spent.empty() && budget.candidates <= 0 && budget.minutes <= 0)
      return fail("the run in '" + dir + "' is finished (it spent " + spent +
                  "); give --candidates N or --minutes M to extend it");
    if (budget.candidates > 0 || budget.minutes > 0)
      engine.setBudget(budget, true);
    installHandlers();
    return engine.run();
  } catch (const std::exception &e) {
    return fail(e.what());
  }
}

} // namespace nos::search
