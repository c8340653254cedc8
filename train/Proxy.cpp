//===- Proxy.cpp - Named child tasks: what a rule is scored on ------------===//
//
// The presets were chosen by the fidelity study (nos-search fidelity,
// docs/search.md): each says how it differs from 12,000 unpooled images
// with no halving, so that adding one cannot change another.
//
//===----------------------------------------------------------------------===//
#include "nos/train/Proxy.h"

#include <stdexcept>

namespace nos::train {

const std::map<std::string, ProxySpec> &proxyPresets() {
  static const std::map<std::string, ProxySpec> presets = [] {
    // 12,000 images as stored, no halving: every preset says how it
    // differs from this, not from the default (which is one of them).
    ProxySpec plain;
    plain.rungs = 1, plain.task.pool = 1;

    std::map<std::string, ProxySpec> m;
    ProxySpec p = plain;
    p.task.trainSize = 0, p.task.validationSize = 10000, p.epochs = 3;
    m["full"] = p;
    m["12k"] = plain;
    p = plain, p.task.trainSize = 6000;
    m["6k"] = p;
    p = plain, p.task.pool = 2;
    m["12k-pool"] = p;
    p = plain, p.task.hidden = {32};
    m["12k-h32"] = p;
    p = plain, p.lrs = {0.001, 0.03, 1};
    m["12k-3lr"] = p;
    p = plain, p.rungs = 2, p.eta = 3;
    m["12k-halving"] = p;
    p = plain, p.task.pool = 2, p.rungs = 2, p.eta = 3;
    m["12k-pool-halving"] = p;
    p = plain, p.task.trainSize = 6000, p.task.pool = 2, p.task.hidden = {32};
    m["6k-pool-h32"] = p;
    // Dearer ones: does more training order the good rules as the full
    // task does?
    p = plain, p.epochs = 3;
    m["12k-3ep"] = p;
    p = plain, p.epochs = 3, p.task.pool = 2;
    m["12k-pool-3ep"] = p;
    p = plain, p.epochs = 3, p.task.pool = 2, p.rungs = 2, p.eta = 3;
    m["12k-pool-3ep-halving"] = p;

    p = plain, p.task.trainSize = 0, p.task.validationSize = 10000;
    m["all-1ep"] = p;
    // A transfer task: the ConvNet (two 3x3 convolutions of 32 filters).
    p = plain, p.task.model = "convnet";
    m["convnet"] = p;

    return m;
  }();
  return presets;
}

ProxySpec proxyPreset(const std::string &name) {
  auto it = proxyPresets().find(name);
  if (it != proxyPresets().end())
    return it->second;
  std::string known;
  for (const auto &[n, spec] : proxyPresets())
    known += (known.empty() ? "" : ", ") + n;
  throw std::invalid_argument("unknown proxy '" + name + "'; expected one of " +
                              known);
}

} // namespace nos::train
