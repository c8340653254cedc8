//===- ParserFuzzer.cpp - libFuzzer target for the rule frontend ----------===//
//
// Feeds arbitrary bytes to both parsers. Whatever parses must print to text
// that parses back to the same tree; nothing may crash, hang or overflow the
// stack (the length and depth limits are what make that true).
//
//===----------------------------------------------------------------------===//
#include "nos/Parser.h"
#include "nos/Printer.h"
#include "nos/Tokens.h"

#include <cstdint>
#include <cstdlib>
#include <string_view>

static void roundTrip(const nos::ParseResult &parsed) {
  if (!parsed)
    return;
  std::string text = nos::printRule(*parsed.expr);
  nos::ParseResult again = nos::parseRule(text);
  if (!again || !nos::structurallyEqual(*parsed.expr, *again.expr))
    std::abort();
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  std::string_view input(reinterpret_cast<const char *>(data), size);
  roundTrip(nos::parseRule(input));
  roundTrip(nos::parseTokens(input));
  return 0;
}
