//===- Batch.cpp - nosc -f: many rules, one result line each --------------===//
//
// A bad rule does not stop the batch: every line gets its answer, so one
// run tells a user all that is wrong with a file.
//
//===----------------------------------------------------------------------===//
#include "Batch.h"

#include "nos/Builtins.h"

#include <fmt/core.h>

#include <fstream>
#include <iostream>

namespace nos {

int compileBatch(const std::string &path, Compiler &compiler) {
  std::ifstream file;
  if (path != "-") {
    file.open(path);
    if (!file) {
      fmt::print(stderr, "nosc: error: cannot read '{}'\n", path);
      return 1;
    }
  }
  std::istream &in = path == "-" ? std::cin : file;
  std::string name = path == "-" ? "<stdin>" : path;
  int failures = 0, lineNo = 0;
  for (std::string line; std::getline(in, line);) {
    ++lineNo;
    size_t first = line.find_first_not_of(" \t\r");
    if (first == std::string::npos || line[first] == '#')
      continue;
    std::string rule = line.substr(first);
    rule.erase(rule.find_last_not_of(" \t\r") + 1);
    ParseResult parsed = parseRuleOrBuiltin(rule);
    if (!parsed) {
      fmt::print(stderr, "{}:{}:{}: error: {}\n", name, lineNo,
                 parsed.error.loc.column + int(first), parsed.error.message);
      ++failures;
      continue;
    }
    std::string error;
    auto kernel = compiler.compileCpu(*parsed.expr, &error);
    if (!kernel) {
      fmt::print(stderr, "{}:{}: error: {}\n", name, lineNo, error);
      ++failures;
      continue;
    }
    fmt::print("{}: {}  {}  {} {:.2f} ms\n", lineNo, kernel->info.canonical,
               kernel->info.hash, kernel->origin, kernel->compileMs);
  }
  if (failures)
    fmt::print(stderr, "nosc: {} of the rules in {} failed\n", failures, name);
  return failures ? 1 : 0;
}

} // namespace nos
