//===- ProxyJson.h - A proxy as the JSON a search run stores ----*- C++ -*-===//
//
// nlohmann's strict mapping of TaskSpec, HurdleSpec and ProxySpec: a missing
// key is an error, not a silent default, since a default that changed
// between versions would resume a different search. Header-only because
// the macro defines inline functions; search/Settings.cpp builds the run's
// settings from them.
//
//===----------------------------------------------------------------------===//
#ifndef NOS_TRAIN_PROXYJSON_H
#define NOS_TRAIN_PROXYJSON_H

#include "nos/train/Proxy.h"

#include <nlohmann/json.hpp>

namespace nos::train {

NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(TaskSpec, dataset, model, dataDir, hidden,
                                   pool, filters, trainSize, validationSize,
                                   splitSeed)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(HurdleSpec, dim, steps, target, seed, lrs)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(ProxySpec, kind, task, lrs, rungs, eta,
                                   epochs, batchSize, evalsPerEpoch, seed,
                                   hurdle, hurdleSpec, toyTarget)

} // namespace nos::train

#endif // NOS_TRAIN_PROXYJSON_H
