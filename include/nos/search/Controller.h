//===- Controller.h - The paper's LSTM controller ---------------*- C++ -*-===//
//
// The learned strategies, PPO and REINFORCE over an LSTM that writes the
// token form unit by unit (search/Controller.cpp, the one torch translation
// unit of the search). makeStrategy reaches it by name.
//
//===----------------------------------------------------------------------===//
#ifndef NOS_SEARCH_CONTROLLER_H
#define NOS_SEARCH_CONTROLLER_H

#include "nos/search/Strategies.h"

#include <memory>

namespace nos::search {

/// Throws std::invalid_argument for a bad setting.
std::unique_ptr<Strategy> makeController(const StrategyOptions &options,
                                         const Space &space);

} // namespace nos::search

#endif // NOS_SEARCH_CONTROLLER_H
