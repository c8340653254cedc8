//===- BarsJson.h - Halving bars in JSON ------------------------*- C++ -*-===//
//
// Private to search/: the store's pending batches and the MPI work messages
// both carry a batch's successive-halving bars as JSON. JSON has no -inf,
// which is what an open bar is, so both write it as null and read null back
// as -inf: one encoding, whichever way a bar travels.
//
//===----------------------------------------------------------------------===//
#ifndef NOS_SEARCH_BARSJSON_H
#define NOS_SEARCH_BARSJSON_H

#include <nlohmann/json.hpp>

#include <cmath>
#include <vector>

namespace nos::search {

inline nlohmann::json barsToJson(const std::vector<double> &bars) {
  nlohmann::json out = nlohmann::json::array();
  for (double b : bars)
    out.push_back(std::isinf(b) ? nlohmann::json() : nlohmann::json(b));
  return out;
}

inline std::vector<double> barsFromJson(const nlohmann::json &j) {
  std::vector<double> out;
  for (const nlohmann::json &b : j)
    out.push_back(b.is_null() ? -HUGE_VAL : b.get<double>());
  return out;
}

} // namespace nos::search

#endif // NOS_SEARCH_BARSJSON_H
