//===- Settings.cpp - A run's settings as the JSON its database keeps -----===//
//
// resume rebuilds the run from this object alone, so every setting that
// changes which candidates are proposed or how they are scored is here. A
// missing key is an error (nlohmann's strict from_json), not a silent
// default: a default that changed between versions would resume a
// different search.
//
//===----------------------------------------------------------------------===//
#include "nos/search/Search.h"
#include "nos/train/ProxyJson.h"

#include <nlohmann/json.hpp>

#include <stdexcept>

namespace nos::search {
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(StrategyOptions, name, seed, hidden, layers,
                                   embedding, initScale, learningRate,
                                   entropyWeight, baselineDecay,
                                   normalizeAdvantages, clip, ppoEpochs,
                                   population, tournament, unitMutation)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(ProbeSpec, elements, steps, seed)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(SearchSettings, strategy, units, batchSize,
                                   proxy, probe, references)

std::string SearchSettings::toJson() const {
  return nlohmann::json(*this).dump(1);
}

SearchSettings SearchSettings::fromJson(const std::string &text) {
  try {
    return nlohmann::json::parse(text).get<SearchSettings>();
  } catch (const nlohmann::json::exception &e) {
    throw std::runtime_error(std::string("the stored settings are damaged: ") +
                             e.what());
  }
}

} // namespace nos::search
