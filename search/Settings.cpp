//===- Settings.cpp - A search run's settings, declared once --------------===//
//
// resume rebuilds the run from the stored JSON alone, so every setting that
// changes which candidates are proposed or how they are scored is a row
// here. A missing key is an error, not a silent default: a default that
// changed between versions would resume a different search. A setting added
// later names the value that runs stored before it behaved as. The keys and
// nesting are those nlohmann's struct mapping wrote before the table, so
// earlier runs resume.
//
//===----------------------------------------------------------------------===//
#include "nos/search/Settings.h"

#include "nos/train/Tasks.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace nos::search {

namespace {
using Ref = Setting::Ref;

SettingCheck range(double lo, double hi) {
  return {SettingCheck::Range, lo, hi, {}};
}
SettingCheck positive() { return {SettingCheck::Positive, 0, 0, {}}; }
SettingCheck nonNegative() { return {SettingCheck::NonNegative, 0, 0, {}}; }
SettingCheck oneOf(std::vector<std::string> names) {
  return {SettingCheck::OneOf, 0, 0, std::move(names)};
}
SettingCheck device() { return {SettingCheck::Device, 0, 0, {}}; }

/// A row whose member is reached by `get`.
template <typename Get>
Setting row(const char *key, const char *flag, const char *help, Get get,
            SettingCheck check = {}) {
  return {key, flag, help,
          [get](SearchSettings &s) -> Ref { return Ref(&get(s)); },
          std::move(check)};
}

/// The JSON of a value, for a row's legacy default.
template <typename T> std::string json(const T &value) {
  return nlohmann::json(value).dump();
}

std::vector<std::string> suiteNames() {
  std::vector<std::string> names;
  for (const train::SuiteTask &t : train::taskSuite())
    names.push_back(t.name);
  return names;
}

/// A row of a funnel level: key funnel.NAME.FIELD, flag --PREFIX-FIELD.
/// Runs stored before the funnel used no level, so the legacy value is
/// today's default.
template <typename Get>
Setting levelRow(const std::string &name, const std::string &prefix,
                 const std::string &field, const std::string &help, Get get,
                 SettingCheck check) {
  SearchSettings defaults;
  Setting r = row("", "", "", get, std::move(check));
  r.key = "funnel." + name + "." + field;
  std::string flag = field == "perRound"    ? "promotions"
                     : field == "firstSeed" ? "first-seed"
                                            : field;
  r.flag = "--" + prefix + "-" + flag;
  r.help = help;
  std::visit([&](auto *p) { r.legacy = json(*p); }, r.member(defaults));
  return r;
}

/// The rows of one level, reached by `level`; `what` ends each help text.
template <typename Level>
void addLevelRows(std::vector<Setting> &table, const std::string &name,
                  const std::string &prefix, const std::string &what,
                  Level level, bool promotions) {
  auto add = [&](const char *field, const char *help, auto get,
                 SettingCheck check) {
    table.push_back(
        levelRow(name, prefix, field, help + what, get, std::move(check)));
  };
  add(
      "tasks", "Suite tasks (comma-separated) of ",
      [=](SearchSettings & s) -> auto & { return level(s).tasks; },
      oneOf(suiteNames()));
  add(
      "lrs", "The lr grid (comma-separated) of ",
      [=](SearchSettings & s) -> auto & { return level(s).lrs; }, positive());
  add(
      "seeds", "Child seeds of ",
      [=](SearchSettings & s) -> auto & { return level(s).seeds; },
      range(1, 100));
  add(
      "firstSeed", "The first child seed of ",
      [=](SearchSettings & s) -> auto & { return level(s).firstSeed; },
      range(0, 1e6));
  if (promotions)
    add(
        "perRound", "Promotions per round to ",
        [=](SearchSettings & s) -> auto & { return level(s).perRound; },
        range(0, 1000));
}

/// The funnel's levels and its meta-validation.
void addFunnelRows(std::vector<Setting> &table) {
  for (size_t k = 0; k < FunnelSettings{}.levels.size(); ++k) {
    std::string name = FunnelSettings{}.levels[k].name, prefix = name;
    prefix[0] = 'l';
    addLevelRows(
        table, name, prefix, "level " + name,
        [k](SearchSettings &s) -> LevelSpec & { return s.funnel.levels.at(k); },
        true);
  }
  table.push_back(
      row(
          "funnel.metaValidation", "!--no-meta-validation",
          "Do not train the run's successive best rules on the "
          "held-out meta-validation task",
          [](SearchSettings & s) -> auto & { return s.funnel.metaValidation; })
          .before("false"));
  addLevelRows(
      table, "meta", "meta", "meta-validation (held out of every reward)",
      [](SearchSettings &s) -> LevelSpec & { return s.funnel.meta; }, false);
}

#define NOS_MEMBER(path)                                                       \
  [](SearchSettings & s) -> auto & { return s.path; }

std::vector<Setting> makeTable() {
  std::vector<Setting> table = {
      row("strategy.name", "--strategy", "ppo, reinforce, random or evolution",
          NOS_MEMBER(strategy.name), oneOf(strategyNames())),
      row("strategy.seed", "--seed", "Seed of the strategy",
          NOS_MEMBER(strategy.seed)),
      row("units", "--units", "Units of 5 tokens per rule", NOS_MEMBER(units),
          range(Space::kMinUnits, Space::kMaxUnits)),
      row("space", "--space",
          "Operands the strategy builds rules from: paper (all of them) or "
          "no-optimizers (without adam and rmsprop)",
          NOS_MEMBER(space), oneOf(spaceNames()))
          .before(json(std::string("paper"))),
      row("batchSize", "--batch", "Candidates per controller update",
          NOS_MEMBER(batchSize), range(1, 4096)),
      row("pipeline", "--pipeline",
          "Batches in flight: batch k+N-1 is proposed before the strategy "
          "learns from batch k, so workers need not wait for it (1: one "
          "batch at a time)",
          NOS_MEMBER(pipeline), range(1, 64))
          .before("1"),
      row("references", "!--no-references",
          "Do not score the six reference rules first", NOS_MEMBER(references)),
      row("strategy.hidden", "--controller-hidden", "LSTM units",
          NOS_MEMBER(strategy.hidden), positive()),
      row("strategy.layers", "--controller-layers", "LSTM layers",
          NOS_MEMBER(strategy.layers), range(1, 8)),
      row("strategy.embedding", "--controller-embedding",
          "Token embedding size", NOS_MEMBER(strategy.embedding), positive()),
      row("strategy.initScale", "--controller-init",
          "Initial weights uniform in +-this", NOS_MEMBER(strategy.initScale)),
      row("strategy.learningRate", "--controller-lr",
          "Adam lr of the controller", NOS_MEMBER(strategy.learningRate),
          positive()),
      row("strategy.entropyWeight", "--entropy-weight", "Entropy bonus",
          NOS_MEMBER(strategy.entropyWeight)),
      row("strategy.noveltyTarget", "--novelty-target",
          "Steer the entropy bonus after each batch so that this share of "
          "the controller's proposals are new rules, not copies, never "
          "below --entropy-weight (0: a fixed bonus; no effect with "
          "--copy-reward original or --entropy-weight 0)",
          NOS_MEMBER(strategy.noveltyTarget), range(0.0, 0.99))
          .before("0"),
      row("strategy.baselineDecay", "--baseline-decay",
          "EMA decay of the reward baseline",
          NOS_MEMBER(strategy.baselineDecay), range(0.0, 0.9999)),
      row("strategy.normalizeAdvantages", "--normalize-advantages",
          "Divide reward - baseline by the batch's standard deviation",
          NOS_MEMBER(strategy.normalizeAdvantages)),
      row("strategy.clip", "--ppo-clip", "PPO ratio clip",
          NOS_MEMBER(strategy.clip), positive()),
      row("strategy.ppoEpochs", "--ppo-epochs", "PPO epochs per batch",
          NOS_MEMBER(strategy.ppoEpochs), range(1, 100)),
      row("strategy.population", "--population", "Evolution population",
          NOS_MEMBER(strategy.population), range(2, 100000)),
      row("strategy.tournament", "--tournament", "Evolution tournament size",
          NOS_MEMBER(strategy.tournament), range(1, 100000)),
      row("strategy.unitMutation", "--unit-mutation",
          "Share of mutations that redraw a whole unit",
          NOS_MEMBER(strategy.unitMutation), range(0.0, 1.0)),
      row("strategy.warmStart", "--warm-start",
          "Evolution starts from these token-form rules (comma-separated, "
          "e.g. 'm v x sqrt div ; o1 1 x x mul'): proposed first, and "
          "mutated until the population is full",
          NOS_MEMBER(strategy.warmStart))
          .before(json(std::vector<std::string>{})),
      row("strategy.restartAfter", "--restart-after",
          "Evolution restarts from its best rule after this many members "
          "in a row without a new best (0: never)",
          NOS_MEMBER(strategy.restartAfter), range(0, 1e9))
          .before("0"),
      row("strategy.copyMembers", "--copy-members",
          "What a copy the funnel rewarded does in evolution: rescore "
          "(rescores its rule where it is a member; no population place, "
          "no try towards --restart-after) or join (joins the population "
          "and counts towards --restart-after)",
          NOS_MEMBER(strategy.copyMembers), oneOf({"rescore", "join"}))
          .before(json(std::string("join"))),
      row("strategy.copyReward", "--copy-reward",
          "What a copy of a rule evaluated before teaches the strategy: "
          "original (its original's reward) or none (nothing, unless the "
          "funnel gave it a new reward)",
          NOS_MEMBER(strategy.copyReward), oneOf({"original", "none"}))
          .before(json(std::string("original"))),
      row("proxy.kind", "--task", "train (child training) or toy",
          NOS_MEMBER(proxy.kind), oneOf({"train", "toy"})),
      row("proxy.task.dataset", "--dataset",
          "fashion-mnist, cifar10, logistic or fortunes (text)",
          NOS_MEMBER(proxy.task.dataset),
          oneOf({"fashion-mnist", "cifar10", "logistic", "fortunes"})),
      row("proxy.task.dataDir", "--data-dir", "Folder of the dataset files",
          NOS_MEMBER(proxy.task.dataDir)),
      row("proxy.task.model", "--model", "mlp, convnet or lstm (text)",
          NOS_MEMBER(proxy.task.model), oneOf({"mlp", "convnet", "lstm"})),
      row("proxy.task.trainSize", "--train-size",
          "Training examples of the proxy (0: all)",
          NOS_MEMBER(proxy.task.trainSize), nonNegative()),
      row("proxy.task.validationSize", "--validation-size",
          "Validation examples of the proxy",
          NOS_MEMBER(proxy.task.validationSize), positive()),
      row("proxy.lrs", "--lrs", "The proxy's lr grid, comma-separated",
          NOS_MEMBER(proxy.lrs), positive()),
      row("proxy.task.pool", "--pool",
          "Average-pool images over N x N pixels (1: full size)",
          NOS_MEMBER(proxy.task.pool), range(1, 16)),
      row("proxy.rungs", "--rungs",
          "Successive halving rungs (1: every lr trains to the end)",
          NOS_MEMBER(proxy.rungs), range(1, 8)),
      row("proxy.eta", "--eta", "Successive halving's reduction factor",
          NOS_MEMBER(proxy.eta), range(1.01, 100.0)),
      row("proxy.epochs", "--epochs", "Child training epochs",
          NOS_MEMBER(proxy.epochs), range(1, 1000)),
      row("proxy.batchSize", "--child-batch", "Child training batch size",
          NOS_MEMBER(proxy.batchSize), range(1, 1 << 20)),
      row("proxy.seed", "--child-seed", "Seed of every child run",
          NOS_MEMBER(proxy.seed)),
      row("proxy.hurdle", "!--no-hurdle", "Skip the quadratic hurdle",
          NOS_MEMBER(proxy.hurdle)),
      row("proxy.hurdleSpec.steps", "--hurdle-steps", "Steps of the hurdle",
          NOS_MEMBER(proxy.hurdleSpec.steps), range(1, 100000)),
      row("proxy.toyTarget", "--toy-target", "Target rule of --task toy",
          NOS_MEMBER(proxy.toyTarget)),
      // Stored, not flags: fixed by the code or by a --proxy preset.
      row("proxy.evalsPerEpoch", "", "Validation passes per child epoch",
          NOS_MEMBER(proxy.evalsPerEpoch), positive()),
      row("proxy.hurdleSpec.dim", "", "Dimension of the hurdle's quadratic",
          NOS_MEMBER(proxy.hurdleSpec.dim), positive()),
      row("proxy.hurdleSpec.target", "", "Loss ratio the hurdle asks for",
          NOS_MEMBER(proxy.hurdleSpec.target), positive()),
      row("proxy.hurdleSpec.seed", "", "Seed of the hurdle's quadratic",
          NOS_MEMBER(proxy.hurdleSpec.seed)),
      row("proxy.hurdleSpec.lrs", "", "The hurdle's lr grid",
          NOS_MEMBER(proxy.hurdleSpec.lrs), positive()),
      row("proxy.task.filters", "", "ConvNet filters per layer",
          NOS_MEMBER(proxy.task.filters), positive()),
      row("proxy.task.hidden", "", "MLP hidden widths",
          NOS_MEMBER(proxy.task.hidden), positive()),
      row("proxy.task.splitSeed", "", "Seed of the train/validation split",
          NOS_MEMBER(proxy.task.splitSeed)),
      row("proxy.task.name", "",
          "The suite task the proxy's task came from (--child-task)",
          NOS_MEMBER(proxy.task.name))
          .before("\"\""),
      row("proxy.task.sequenceLength", "",
          "Characters per window of a text task",
          NOS_MEMBER(proxy.task.sequenceLength), positive())
          .before("64"),
      row("proxy.task.embedding", "", "Embedding size of the text LSTM",
          NOS_MEMBER(proxy.task.embedding), positive())
          .before("32"),
      row("proxy.task.device", "--device",
          "Where every child trains: the proxy, the funnel's levels and "
          "meta-validation (data, model and update kernel; the hurdle "
          "stays on the CPU)",
          NOS_MEMBER(proxy.task.device), device())
          .before(json(std::string("cpu"))),
      row("funnel.used", "--levels",
          "Funnel levels above the proxy that the best rules are promoted "
          "to (0: none; child-training searches with references only)",
          NOS_MEMBER(funnel.used),
          range(0, double(FunnelSettings{}.levels.size())))
          .before("0"),
      row("funnel.round", "--promote-every",
          "Proxy evaluations per promotion round", NOS_MEMBER(funnel.round),
          range(1, 1e9))
          .before(json(FunnelSettings{}.round)),
      row("funnel.top", "--promote-top",
          "Share of a level's results a rule must be among to go up",
          NOS_MEMBER(funnel.top), range(0.0, 1.0))
          .before(json(FunnelSettings{}.top)),
      row("probe.elements", "", "Elements of the fingerprint's probe",
          NOS_MEMBER(probe.elements), positive()),
      row("probe.steps", "", "Steps of the fingerprint's probe",
          NOS_MEMBER(probe.steps), positive()),
      row("probe.seed", "", "Seed of the probe gradients",
          NOS_MEMBER(probe.seed)),
  };
  addFunnelRows(table);
  return table;
}
#undef NOS_MEMBER

nlohmann::json::json_pointer pointerOf(const std::string &key) {
  std::string path = "/" + key;
  for (char &c : path)
    if (c == '.')
      c = '/';
  return nlohmann::json::json_pointer(path);
}
} // namespace

std::string SettingCheck::why(double value) const {
  switch (kind) {
  case Range:
    if (!(value >= lo && value <= hi))
      return fmt::format("{:g} is not in [{:g}, {:g}]", value, lo, hi);
    return {};
  case Positive:
    return value > 0 ? "" : fmt::format("{:g} is not positive", value);
  case NonNegative:
    return value >= 0 ? "" : fmt::format("{:g} is negative", value);
  case None:
  case OneOf:
  case Device:
    return {};
  }
  return {};
}

std::string SettingCheck::why(const std::string &value) const {
  if (kind == Device) {
    try {
      train::checkDeviceName(value);
      return {};
    } catch (const std::invalid_argument &) {
      return "'" + value + "' is not cpu, cuda or cuda:N";
    }
  }
  if (kind != OneOf ||
      std::find(names.begin(), names.end(), value) != names.end())
    return {};
  return fmt::format("'{}' is not one of {}", value, fmt::join(names, ", "));
}

std::string SettingCheck::describe() const {
  switch (kind) {
  case Range:
    return fmt::format("in [{:g}, {:g}]", lo, hi);
  case Positive:
    return "> 0";
  case NonNegative:
    return ">= 0";
  case OneOf:
    return "one of " + fmt::format("{}", fmt::join(names, ", "));
  case Device:
    return "cpu, cuda or cuda:N";
  case None:
    return {};
  }
  return {};
}

std::string Setting::why(SearchSettings &s) const {
  return std::visit(
      [&](auto *p) -> std::string {
        using T = std::remove_pointer_t<decltype(p)>;
        if constexpr (std::is_same_v<T, std::string>) {
          return check.why(*p);
        } else if constexpr (std::is_same_v<T, bool>) {
          return {};
        } else if constexpr (std::is_arithmetic_v<T>) {
          return check.why(double(*p));
        } else if constexpr (std::is_same_v<T, std::vector<std::string>>) {
          for (const std::string &v : *p)
            if (std::string why = check.why(v); !why.empty())
              return why;
          return {};
        } else {
          for (auto v : *p)
            if (std::string why = check.why(double(v)); !why.empty())
              return why;
          return {};
        }
      },
      member(s));
}

namespace {
void paperRecipe(SearchSettings &s) { s = SearchSettings(); }

// Pinned rather than left to the defaults, so that the recipe stays the
// search docs/search.md measured if a default changes.
void lionRecipe(SearchSettings &s) {
  StrategyOptions &o = s.strategy;
  o.name = "evolution";
  o.population = 24, o.tournament = 6, o.unitMutation = 0.25;
  o.warmStart = {"m v x sqrt div ; o1 1 x x mul"};
  o.restartAfter = 150;
  o.copyMembers = "rescore";
  o.copyReward = "none";
  s.space = "no-optimizers";
}

struct Recipe {
  const char *name, *summary;
  void (*apply)(SearchSettings &);
};

const Recipe recipes[] = {
    {"paper", "the defaults, PPO in the paper's space", paperRecipe},
    {"lion",
     "evolution without the optimizer operands, warm-started from m / "
     "sqrt(v), restarting after 150 members with no new best",
     lionRecipe},
};
} // namespace

std::vector<std::string> recipeNames() {
  std::vector<std::string> names;
  for (const Recipe &r : recipes)
    names.push_back(r.name);
  return names;
}

std::string recipeSummaries() {
  std::vector<std::string> parts;
  for (const Recipe &r : recipes)
    parts.push_back(fmt::format("{}: {}", r.name, r.summary));
  return fmt::format("{}", fmt::join(parts, "; "));
}

void applyRecipe(const std::string &name, SearchSettings &s) {
  for (const Recipe &r : recipes)
    if (name == r.name)
      return r.apply(s);
  throw std::invalid_argument(
      fmt::format("no search recipe '{}'; the recipes are {}", name,
                  fmt::join(recipeNames(), ", ")));
}

bool SearchSettings::promotes() const {
  return funnel.used > 0 && proxy.kind == "train" && references;
}

const std::vector<Setting> &settingsTable() {
  static const std::vector<Setting> table = makeTable();
  return table;
}

std::string proxyJson(const ProxySpec &spec) {
  SearchSettings s;
  s.proxy = spec;
  return nlohmann::json::parse(s.toJson()).at("proxy").dump();
}

const char *defaultProxyName() {
  std::string def = proxyJson(ProxySpec{});
  for (const auto &[name, spec] : train::proxyPresets())
    if (proxyJson(spec) == def)
      return name.c_str();
  return "custom";
}

std::string SearchSettings::toJson() const {
  nlohmann::json j = nlohmann::json::object();
  SearchSettings copy = *this; // members are reached through non-const refs
  for (const Setting &setting : settingsTable())
    std::visit([&](auto *p) { j[pointerOf(setting.key)] = *p; },
               setting.member(copy));
  return j.dump(1);
}

SearchSettings SearchSettings::fromJson(const std::string &text) {
  SearchSettings s;
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception &e) {
    throw std::runtime_error(std::string("the stored settings are damaged: ") +
                             e.what());
  }
  for (const Setting &setting : settingsTable()) {
    try {
      nlohmann::json::json_pointer at = pointerOf(setting.key);
      nlohmann::json value = !j.contains(at) && !setting.legacy.empty()
                                 ? nlohmann::json::parse(setting.legacy)
                                 : j.at(at);
      std::visit([&](auto *p) { value.get_to(*p); }, setting.member(s));
    } catch (const nlohmann::json::exception &e) {
      throw std::runtime_error("the stored settings are damaged: '" +
                               setting.key + "': " + e.what());
    }
    if (std::string why = setting.why(s); !why.empty())
      throw std::runtime_error("the stored settings are damaged: '" +
                               setting.key + "': " + why);
  }
  return s;
}

} // namespace nos::search
