//===- LevelsTest.cpp - Training rules at the funnel's levels -------------===//
//
// A level trains every (task, lr, seed) with the suite task's own budget,
// the same for every rule, and scores each task by its best lr's mean; on
// logistic regression plain SGD is known to beat a rule that ascends.
//
//===----------------------------------------------------------------------===//
#include "nos/search/Levels.h"
#include "nos/train/Tasks.h"

#include <catch2/catch.hpp>

#include <cmath>

using namespace nos;
using namespace nos::search;

TEST_CASE("the default levels name suite tasks", "[search]") {
  std::vector<LevelSpec> levels = defaultLevels();
  REQUIRE(levels.size() == 2);
  for (const LevelSpec &l : levels) {
    CHECK_FALSE(l.lrs.empty());
    CHECK(l.seeds >= 2);
    for (const std::string &task : l.tasks)
      CHECK_NOTHROW(train::suiteTask(task));
  }
}

TEST_CASE("a level trains every task, lr and seed, and scores by the best lr",
          "[search]") {
  LevelTrainer level({"L2", {"logistic"}, {0.01, 0.1}, 2});
  CompiledRule sgd = CompiledRule::fromText("sgd");
  std::vector<LevelRun> runs = level.train(sgd);
  REQUIRE(runs.size() == 4);
  CHECK(runs[0].seed == 0);
  CHECK(runs[2].seed == 1); // seed-major
  CHECK(runs[1].lr == 0.1);
  for (const LevelRun &r : runs) {
    CHECK(r.status == "ok");
    CHECK(r.metric > 0.85);
  }
  std::vector<LevelRun> again = level.train(sgd);
  CHECK(again[3].metric == runs[3].metric); // common random numbers

  std::vector<TaskScore> scores = level.score(runs);
  REQUIRE(scores.size() == 1);
  double at01 = (runs[1].metric + runs[3].metric) / 2;
  double at001 = (runs[0].metric + runs[2].metric) / 2;
  CHECK(scores[0].mean == std::max(at01, at001));
  CHECK(scores[0].lr == (at01 > at001 ? 0.1 : 0.01));

  std::vector<TaskScore> ascent =
      level.score(level.train(CompiledRule::fromText("-g")));
  REQUIRE(ascent.size() == 1);
  CHECK(ascent[0].mean < scores[0].mean);
  CHECK(level.score({}).empty());
}

TEST_CASE("a level with an unknown task is refused by name", "[search]") {
  CHECK_THROWS_WITH(LevelTrainer({"L2", {"imagenet"}, {0.1}, 1}),
                    Catch::Contains("unknown task 'imagenet'"));
}
