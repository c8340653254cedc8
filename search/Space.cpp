//===- Space.cpp - The token space the search samples rules from ----------===//
//
// The vocabulary comes from the frontend's own token tables, so the space
// can only name tokens parseTokens knows; position k of a unit admits the
// outputs of the units before it and nothing later.
//
//===----------------------------------------------------------------------===//
#include "nos/search/Space.h"

#include "nos/Tokens.h"

#include <algorithm>
#include <sstream>
#include <stdexcept>

namespace nos::search {

const std::vector<std::string> &spaceNames() {
  static const std::vector<std::string> names = {"paper", "no-optimizers"};
  return names;
}

namespace {
/// The operand tokens of the space `name`.
std::vector<std::string> operandsOf(const std::string &name) {
  std::vector<std::string> out = tokenOperands();
  if (name == "paper")
    return out;
  if (name != "no-optimizers")
    throw std::invalid_argument("unknown space '" + name +
                                "'; expected paper or no-optimizers");
  out.erase(std::remove_if(out.begin(), out.end(),
                           [](const std::string &t) {
                             return t == "adam" || t == "rmsprop";
                           }),
            out.end());
  return out;
}
} // namespace

Space::Space(int units, const std::string &name) : units_(units) {
  if (units < kMinUnits || units > kMaxUnits)
    throw std::invalid_argument("units must be 1 to 3, not " +
                                std::to_string(units));
  auto add = [&](const std::string &token) {
    vocabulary_.push_back(token);
    return int(vocabulary_.size()) - 1;
  };
  std::vector<int> operands, outputs, unaries, binaries;
  for (const std::string &t : operandsOf(name))
    operands.push_back(add(t));
  for (int k = 1; k < units; ++k)
    outputs.push_back(add("o" + std::to_string(k)));
  for (const std::string &t : tokenUnaries())
    unaries.push_back(add(t));
  for (const std::string &t : tokenBinaries())
    binaries.push_back(add(t));
  for (int unit = 0; unit < units; ++unit) {
    std::vector<int> ops = operands;
    ops.insert(ops.end(), outputs.begin(), outputs.begin() + unit);
    valid_.push_back(ops);
    valid_.push_back(ops);
    valid_.push_back(unaries);
    valid_.push_back(unaries);
    valid_.push_back(binaries);
  }
}

std::vector<bool> Space::mask(int pos) const {
  std::vector<bool> m(vocabulary_.size(), false);
  for (int id : valid_[pos])
    m[id] = true;
  return m;
}

bool Space::contains(const Actions &actions) const {
  if (int(actions.size()) != length())
    return false;
  for (int pos = 0; pos < length(); ++pos) {
    const std::vector<int> &ok = valid_[pos];
    if (std::find(ok.begin(), ok.end(), actions[pos]) == ok.end())
      return false;
  }
  return true;
}

std::string Space::tokens(const Actions &actions) const {
  std::string out;
  for (size_t pos = 0; pos < actions.size(); ++pos) {
    if (pos > 0)
      out += pos % kUnitLength == 0 ? " ; " : " ";
    out += vocabulary_.at(actions[pos]);
  }
  return out;
}

Actions Space::parse(const std::string &tokens) const {
  std::istringstream in(tokens);
  Actions out;
  for (std::string word; in >> word;) {
    if (word == ";")
      continue;
    auto it = std::find(vocabulary_.begin(), vocabulary_.end(), word);
    if (it == vocabulary_.end())
      return {};
    out.push_back(int(it - vocabulary_.begin()));
  }
  return contains(out) ? out : Actions{};
}

} // namespace nos::search
