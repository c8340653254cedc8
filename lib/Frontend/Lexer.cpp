//===- Lexer.cpp - Tokens of the infix rule language ----------------------===//
//
// Scans identifiers, numbers (1, 2., .5, 1e-4, 1E+3) and the single-character
// punctuation of the rule language, tracking line and column for diagnostics.
//
//===----------------------------------------------------------------------===//

#include "Lexer.h"

#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace nos {

SourceLoc locationOf(std::string_view source, size_t offset) {
  SourceLoc loc;
  for (size_t i = 0; i < offset && i < source.size(); ++i) {
    if (source[i] == '\n') {
      ++loc.line;
      loc.column = 1;
    } else {
      ++loc.column;
    }
  }
  return loc;
}

std::string describe(const Token &t) {
  if (t.kind == TokKind::End)
    return "end of rule";
  return "'" + std::string(t.text) + "'";
}

std::string formatNumber(double v) {
  char buf[64];
  // Whole numbers up to a million read best without an exponent.
  if (v == std::floor(v) && std::fabs(v) < 1e6) {
    std::snprintf(buf, sizeof buf, "%.0f", v);
    return buf;
  }
  for (int precision = 1; precision <= 17; ++precision) {
    std::snprintf(buf, sizeof buf, "%.*g", precision, v);
    if (std::strtod(buf, nullptr) == v)
      break;
  }
  // "1e-05" -> "1e-5", "1e+20" -> "1e20".
  std::string s = buf;
  size_t e = s.find('e');
  if (e == std::string::npos)
    return s;
  std::string mantissa = s.substr(0, e), exponent = s.substr(e + 1);
  bool negative = exponent[0] == '-';
  size_t digits = exponent.find_first_not_of("+-0");
  return mantissa + "e" + (negative ? "-" : "") + exponent.substr(digits);
}

namespace {

bool isIdentStart(char c) {
  return std::isalpha(static_cast<unsigned char>(c)) || c == '_';
}
bool isIdentChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
}
bool isDigit(char c) { return std::isdigit(static_cast<unsigned char>(c)); }

class Scanner {
public:
  explicit Scanner(std::string_view src) : src_(src) {}

  std::vector<Token> run() {
    std::vector<Token> out;
    for (;;) {
      skipSpace();
      Token t = scanOne();
      out.push_back(t);
      if (t.kind == TokKind::End)
        return out;
    }
  }

private:
  void advance() {
    if (src_[pos_] == '\n') {
      ++loc_.line;
      loc_.column = 1;
    } else {
      ++loc_.column;
    }
    ++pos_;
  }
  bool more() const { return pos_ < src_.size(); }
  char peek(size_t ahead = 0) const {
    return pos_ + ahead < src_.size() ? src_[pos_ + ahead] : '\0';
  }
  void skipSpace() {
    while (more() && std::isspace(static_cast<unsigned char>(peek())))
      advance();
  }

  Token finish(TokKind kind, size_t start, SourceLoc loc) {
    Token t;
    t.kind = kind;
    t.text = src_.substr(start, pos_ - start);
    t.loc = loc;
    return t;
  }

  Token scanOne() {
    size_t start = pos_;
    SourceLoc loc = loc_;
    if (!more())
      return finish(TokKind::End, start, loc);
    char c = peek();
    if (isIdentStart(c)) {
      while (more() && isIdentChar(peek()))
        advance();
      return finish(TokKind::Ident, start, loc);
    }
    if (isDigit(c) || (c == '.' && isDigit(peek(1))))
      return scanNumber(start, loc);
    TokKind kind = punctuation(c);
    advance();
    Token t = finish(kind, start, loc);
    if (kind == TokKind::Error)
      t.message = "unexpected character " + describe(t);
    return t;
  }

  static TokKind punctuation(char c) {
    switch (c) {
    case '(':
      return TokKind::LParen;
    case ')':
      return TokKind::RParen;
    case ',':
      return TokKind::Comma;
    case '+':
      return TokKind::Plus;
    case '-':
      return TokKind::Minus;
    case '*':
      return TokKind::Star;
    case '/':
      return TokKind::Slash;
    case '^':
      return TokKind::Caret;
    default:
      return TokKind::Error;
    }
  }

  Token scanNumber(size_t start, SourceLoc loc) {
    while (isDigit(peek()))
      advance();
    if (peek() == '.') {
      advance();
      while (isDigit(peek()))
        advance();
    }
    bool badExponent = false;
    if (peek() == 'e' || peek() == 'E') {
      advance();
      if (peek() == '+' || peek() == '-')
        advance();
      badExponent = !isDigit(peek());
      while (isDigit(peek()))
        advance();
    }
    Token t = finish(TokKind::Number, start, loc);
    if (badExponent)
      return numberError(t, "expected digits in the exponent");
    std::string text(t.text);
    t.value = std::strtod(text.c_str(), nullptr);
    if (!std::isfinite(t.value))
      return numberError(t, "it is too large for a double");
    return t;
  }

  static Token numberError(Token t, const char *why) {
    t.kind = TokKind::Error;
    t.message = "malformed number " + describe(t) + ": " + why;
    return t;
  }

  std::string_view src_;
  size_t pos_ = 0;
  SourceLoc loc_;
};

} // namespace

std::vector<Token> lexRule(std::string_view source) {
  return Scanner(source).run();
}

} // namespace nos
