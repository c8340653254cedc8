//===- Compare.h - A search's finds against the references, over seeds -*- C++
//-*-===//
//
// One child seed and one noisy reward are how a search ranks; this is how a
// user checks it: the top distinct rules of one or more runs and the six
// references, each trained with S fresh seeds on named proxies (the search
// proxy at full fidelity, or a transfer task), the lr chosen per rule by its
// mean over seeds, ranked by that mean.
//
//===----------------------------------------------------------------------===//
#ifndef NOS_STUDIES_COMPARE_H
#define NOS_STUDIES_COMPARE_H

#include <cstdint>
#include <string>
#include <vector>

namespace nos::studies {

struct CompareOptions {
  std::string dir;                // results.jsonl, report.txt, report.json
  std::vector<std::string> runs;  // nos-search run folders
  int top = 3;                    // distinct rules taken from each run
  std::vector<std::string> rules; // more rules, by text
  std::vector<std::string> proxies = {"12k"};
  int seeds = 5;
  /// Seeds start here: 0 is the search's own child seed, so the default
  /// leaves it out.
  uint64_t firstSeed = 1;
  int workers = 0;
  std::string device = "cpu"; // train::TaskSpec::device
};

/// Returns the exit code; errors name their cause.
int runCompare(const CompareOptions &options);

} // namespace nos::studies

#endif // NOS_STUDIES_COMPARE_H
