//===- Settings.h - A search run's settings, declared once ------*- C++ -*-===//
//
// Every setting of a search run is one row of settingsTable(): where it lives
// in SearchSettings, its key in the JSON a run stores (and resumes from), its
// nos-search flag and help (or none), and the check its value must pass. The
// tool's flags and the stored JSON are both made from the table, and stored
// settings are checked on resume as flags are on the command line, so a
// setting cannot be flagged but not stored, or stored but not checked.
//
//===----------------------------------------------------------------------===//
#ifndef NOS_SEARCH_SETTINGS_H
#define NOS_SEARCH_SETTINGS_H

#include "nos/search/Levels.h"
#include "nos/search/Pipeline.h"
#include "nos/search/Strategies.h"

#include <cstdint>
#include <functional>
#include <string>
#include <variant>
#include <vector>

namespace nos::search {

struct SearchSettings {
  StrategyOptions strategy;
  int units = 2;
  std::string space = "paper"; // Space::spaceNames()
  int batchSize = 8;
  /// Batches in flight (Search.h). 2 since the main job side by side kept
  /// workers busier with it (docs/search.md); runs stored before resume
  /// with the 1 they ran with.
  int pipeline = 2;
  ProxySpec proxy;
  ProbeSpec probe;
  /// Score SGD, Momentum, Adam, RMSProp, PowerSign and AddSign through the
  /// same pipeline first (batch -1), for the report and for dedup.
  bool references = true;
  /// Promotions of the best rules to costlier levels (Levels.h).
  FunnelSettings funnel;

  /// Whether this run promotes: a child-training search with references
  /// and at least one level in use.
  bool promotes() const;

  /// The JSON a run stores: one key per row of settingsTable().
  std::string toJson() const;
  /// Throws std::runtime_error naming the key of a missing, mistyped or
  /// refused value.
  static SearchSettings fromJson(const std::string &text);
};

/// What a value must satisfy. Ranges are inclusive.
struct SettingCheck {
  /// Device: cpu, cuda or cuda:N by spelling only (train::checkDeviceName),
  /// so that a stored run's report reads on a machine without its GPU.
  enum Kind { None, Range, Positive, NonNegative, OneOf, Device } kind = None;
  double lo = 0, hi = 0;
  std::vector<std::string> names; // OneOf
  /// Why `value` is refused, or "".
  std::string why(double value) const;
  std::string why(const std::string &value) const;
  /// For --help: "in [1, 8]", "> 0", ">= 0", "one of a, b", or "".
  std::string describe() const;
};

/// One row: a member of SearchSettings.
struct Setting {
  using Ref = std::variant<bool *, int *, int64_t *, uint64_t *, double *,
                           std::string *, std::vector<double> *,
                           std::vector<int64_t> *, std::vector<std::string> *>;
  /// Path in the stored JSON, dots between objects: "proxy.task.pool".
  std::string key;
  /// nos-search's flag, or "" for a setting only stored. A bool's flag sets
  /// it to true, or to false when spelled "!--no-NAME".
  std::string flag;
  std::string help;
  std::function<Ref(SearchSettings &)> member;
  SettingCheck check;
  /// JSON of the value a run stored before this setting existed has, or ""
  /// where a missing key is an error.
  std::string legacy;

  Setting &&before(std::string json) && {
    legacy = std::move(json);
    return std::move(*this);
  }

  /// Why the setting's value in `s` is refused, or "" (every element of a
  /// list is checked).
  std::string why(SearchSettings &s) const;
};

/// Every setting, in the order nos-search lists its flags.
const std::vector<Setting> &settingsTable();

/// Named searches, each a starting point that the flags given with it
/// change (nos-search run --recipe): "paper", the defaults (PPO in the
/// paper's space), and "lion", what the strongest program searches use
/// (Chen et al. 2023, "Symbolic Discovery of Optimization Algorithms"):
/// regularized evolution warm-started from Adam's step m / sqrt(v), with
/// restarts from its best after 150 members without a new one, in the
/// space without the optimizer operands. A recipe only sets stored
/// settings, so its runs resume as any other.
std::vector<std::string> recipeNames();
/// Each recipe's name and what it is, for help text ("paper: ...; lion:
/// ...").
std::string recipeSummaries();
/// Sets `s` as recipe `name` does; throws std::invalid_argument naming the
/// recipes for another name.
void applyRecipe(const std::string &name, SearchSettings &s);

/// The proxy's part of the stored settings (the rows under "proxy"), as
/// JSON: equal specs give equal text.
std::string proxyJson(const ProxySpec &spec);
/// The name of the preset (train::proxyPresets) that ProxySpec{} equals, or
/// "custom".
const char *defaultProxyName();

} // namespace nos::search

#endif // NOS_SEARCH_SETTINGS_H
