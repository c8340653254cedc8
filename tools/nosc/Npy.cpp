//===- Npy.cpp - NumPy .npy files of float32 --------------------*- C++ -*-===//
//
// A strict reader and an atomic writer for the .npy format (NEP 1). The header
// is a Python dict literal; rather than evaluate arbitrary Python we parse the
// one shape numpy writes and reject everything else with a clear reason, since
// a misread tensor silently corrupts an experiment.
//
//===----------------------------------------------------------------------===//
#include "Npy.h"

#include "nos/Files.h"

#include <cstring>
#include <limits>
#include <optional>
#include <string_view>

namespace nos {
namespace {

constexpr char kMagic[] = "\x93NUMPY";
constexpr size_t kMagicLen = 6;

bool fail(std::string &error, const std::string &path, const std::string &why) {
  error = path + ": " + why;
  return false;
}

bool hostIsLittleEndian() {
  uint32_t one = 1;
  unsigned char first;
  std::memcpy(&first, &one, 1);
  return first == 1;
}

uint32_t readLE(const unsigned char *p, int bytes) {
  uint32_t v = 0;
  for (int i = bytes - 1; i >= 0; --i)
    v = v << 8 | p[i];
  return v;
}

/// The three keys of a .npy header, as written in the dict literal.
struct Header {
  std::optional<std::string> descr;
  std::optional<bool> fortranOrder;
  std::optional<std::vector<int64_t>> shape;
};

/// Recursive-descent parser for the header dict: string keys mapping to a
/// string, True/False or a tuple of non-negative integers.
class HeaderParser {
public:
  explicit HeaderParser(std::string_view text) : s(text) {}
  bool parse(Header &h, std::string &why);

private:
  std::string_view s;
  size_t pos = 0;

  void skipSpace() {
    while (pos < s.size() && (s[pos] == ' ' || s[pos] == '\t' ||
                              s[pos] == '\n' || s[pos] == '\r'))
      ++pos;
  }
  bool eat(char c) {
    skipSpace();
    if (pos < s.size() && s[pos] == c) {
      ++pos;
      return true;
    }
    return false;
  }
  bool peek(char c) {
    skipSpace();
    return pos < s.size() && s[pos] == c;
  }
  bool parseString(std::string &out);
  bool parseBool(bool &out);
  bool parseInt(int64_t &out);
  bool parseShape(std::vector<int64_t> &out, std::string &why);
  bool parseEntry(Header &h, std::string &why);
};

bool HeaderParser::parseString(std::string &out) {
  skipSpace();
  if (pos >= s.size() || (s[pos] != '\'' && s[pos] != '"'))
    return false;
  char quote = s[pos++];
  size_t end = s.find(quote, pos);
  if (end == std::string_view::npos)
    return false;
  out = std::string(s.substr(pos, end - pos));
  pos = end + 1;
  return true;
}

bool HeaderParser::parseBool(bool &out) {
  skipSpace();
  std::string_view rest = s.substr(pos);
  if (rest.substr(0, 4) == "True") {
    pos += 4;
    out = true;
    return true;
  }
  if (rest.substr(0, 5) == "False") {
    pos += 5;
    out = false;
    return true;
  }
  return false;
}

bool HeaderParser::parseInt(int64_t &out) {
  skipSpace();
  size_t start = pos;
  out = 0;
  for (; pos < s.size() && s[pos] >= '0' && s[pos] <= '9'; ++pos) {
    int digit = s[pos] - '0';
    if (out > (std::numeric_limits<int64_t>::max() - digit) / 10)
      return false;
    out = out * 10 + digit;
  }
  if (pos < s.size() && s[pos] == 'L') // Python 2 longs
    ++pos;
  return pos > start;
}

bool HeaderParser::parseShape(std::vector<int64_t> &out, std::string &why) {
  why = "'shape' must be a tuple of non-negative integers";
  if (!eat('('))
    return false;
  while (!eat(')')) {
    int64_t dim;
    if (!parseInt(dim))
      return false;
    out.push_back(dim);
    if (!eat(',') && !peek(')'))
      return false;
  }
  return true;
}

bool HeaderParser::parseEntry(Header &h, std::string &why) {
  std::string key;
  if (!parseString(key) || !eat(':')) {
    why = "expected 'key': value in the header dict";
    return false;
  }
  bool dup = (key == "descr" && h.descr) ||
             (key == "fortran_order" && h.fortranOrder) ||
             (key == "shape" && h.shape);
  if (dup) {
    why = "header repeats key '" + key + "'";
    return false;
  }
  if (key == "descr") {
    std::string d;
    why = "'descr' must be a string";
    return parseString(d) && (h.descr = d, true);
  }
  if (key == "fortran_order") {
    bool b;
    why = "'fortran_order' must be True or False";
    return parseBool(b) && (h.fortranOrder = b, true);
  }
  if (key == "shape") {
    std::vector<int64_t> shape;
    return parseShape(shape, why) && (h.shape = shape, true);
  }
  why = "unexpected key '" + key + "' in the header";
  return false;
}

bool HeaderParser::parse(Header &h, std::string &why) {
  if (!eat('{')) {
    why = "header is not a dict literal";
    return false;
  }
  while (!eat('}')) {
    if (!parseEntry(h, why))
      return false;
    if (!eat(',') && !peek('}')) {
      why = "expected ',' or '}' in the header dict";
      return false;
    }
  }
  skipSpace();
  if (pos != s.size()) {
    why = "unexpected text after the header dict";
    return false;
  }
  if (!h.descr || !h.fortranOrder || !h.shape) {
    why = "header lacks one of 'descr', 'fortran_order', 'shape'";
    return false;
  }
  return true;
}

/// Returns "" if the header describes data this reader supports.
std::string checkHeader(const Header &h) {
  const std::string &d = *h.descr;
  if (d.size() == 3 && d[0] == '>' && d.substr(1) == "f4")
    return "big-endian data ('>f4') is not supported";
  if (d != "<f4")
    return "dtype '" + d + "' is not supported (only float32, '<f4')";
  if (*h.fortranOrder)
    return "Fortran-order arrays are not supported";
  return "";
}

/// Product of the dimensions, or nullopt if it does not fit in the address
/// space as bytes.
std::optional<uint64_t> elementCount(const std::vector<int64_t> &shape) {
  uint64_t limit = std::numeric_limits<uint64_t>::max() / 8, count = 1;
  for (int64_t d : shape) {
    if (d < 0 || (d != 0 && count > limit / uint64_t(d)))
      return std::nullopt;
    count *= uint64_t(d);
  }
  return count;
}

/// Splits the file into its header dict text and the data that follows.
bool splitPreamble(const std::string &bytes, std::string_view &header,
                   size_t &dataStart, std::string &why) {
  if (bytes.size() < kMagicLen + 2 ||
      bytes.compare(0, kMagicLen, kMagic) != 0) {
    why = "not a .npy file (bad magic)";
    return false;
  }
  auto *p = reinterpret_cast<const unsigned char *>(bytes.data());
  int major = p[6], minor = p[7];
  if (major < 1 || major > 3 || minor != 0) {
    why = "unsupported .npy format version " + std::to_string(major) + "." +
          std::to_string(minor);
    return false;
  }
  size_t lenBytes = major == 1 ? 2 : 4;
  if (bytes.size() < 8 + lenBytes) {
    why = "truncated header";
    return false;
  }
  size_t len = readLE(p + 8, int(lenBytes));
  dataStart = 8 + lenBytes + len;
  if (bytes.size() < dataStart) {
    why = "truncated header";
    return false;
  }
  header = std::string_view(bytes).substr(8 + lenBytes, len);
  return true;
}

void copyFloats(const char *src, size_t count, std::vector<float> &out) {
  out.resize(count);
  if (count == 0)
    return; // data() may be null, which memcpy must not see
  std::memcpy(out.data(), src, count * sizeof(float));
  if (hostIsLittleEndian())
    return;
  for (float &f : out) {
    uint32_t u;
    std::memcpy(&u, &f, 4);
    u = __builtin_bswap32(u);
    std::memcpy(&f, &u, 4);
  }
}

bool parseNpy(const std::string &bytes, NpyArray &out, std::string &why) {
  std::string_view text;
  size_t dataStart;
  if (!splitPreamble(bytes, text, dataStart, why))
    return false;
  Header h;
  if (!HeaderParser(text).parse(h, why))
    return false;
  if (!(why = checkHeader(h)).empty())
    return false;
  std::optional<uint64_t> count = elementCount(*h.shape);
  if (!count) {
    why = "shape is too large";
    return false;
  }
  uint64_t want = *count * 4, have = bytes.size() - dataStart;
  if (have != want) {
    why = (have < want ? "truncated data: " : "size mismatch: ") +
          std::string("shape needs ") + std::to_string(want) +
          " bytes of data, file has " + std::to_string(have);
    return false;
  }
  out.shape = *h.shape;
  copyFloats(bytes.data() + dataStart, size_t(*count), out.data);
  return true;
}

std::string shapeRepr(const std::vector<int64_t> &shape) {
  std::string s = "(";
  for (size_t i = 0; i < shape.size(); ++i)
    s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + (shape.size() == 1 ? ",)" : ")");
}

/// Magic, version, header length and the padded header dict, laid out so the
/// data starts on a 64-byte boundary as numpy does.
std::string makePreamble(const std::vector<int64_t> &shape) {
  std::string dict =
      "{'descr': '<f4', 'fortran_order': False, 'shape': " + shapeRepr(shape) +
      ", }";
  bool v1 = dict.size() + 1 + 10 <= 65535;
  size_t fixed = v1 ? 10 : 12;
  size_t total = (fixed + dict.size() + 1 + 63) / 64 * 64;
  dict.append(total - fixed - dict.size() - 1, ' ');
  dict += '\n';
  std::string pre(kMagic, kMagicLen);
  pre += char(v1 ? 1 : 2);
  pre += char(0);
  for (size_t i = 0, n = dict.size(); i < (v1 ? 2u : 4u); ++i, n >>= 8)
    pre += char(n & 0xff);
  return pre + dict;
}

/// Data in file byte order: little-endian float32.
std::string_view dataBytes(const float *data, uint64_t count,
                           std::vector<float> &swapped) {
  if (hostIsLittleEndian())
    return {reinterpret_cast<const char *>(data), size_t(count) * 4};
  copyFloats(reinterpret_cast<const char *>(data), count, swapped);
  return {reinterpret_cast<const char *>(swapped.data()), size_t(count) * 4};
}

} // namespace

bool readNpy(const std::string &path, NpyArray &out, std::string &error) {
  std::string bytes, why;
  why = readWholeFile(path, bytes);
  if (!why.empty() || !parseNpy(bytes, out, why))
    return fail(error, path, why);
  return true;
}

bool writeNpy(const std::string &path, const float *data,
              const std::vector<int64_t> &shape, std::string &error) {
  std::optional<uint64_t> count = elementCount(shape);
  if (!count)
    return fail(error, path, "invalid shape " + shapeRepr(shape));
  if (!data && *count > 0)
    return fail(error, path, "no data");
  std::string pre = makePreamble(shape);
  std::vector<float> swapped;
  if (std::string why =
          writeFileAtomically(path, {pre, dataBytes(data, *count, swapped)});
      !why.empty())
    return fail(error, path, why);
  return true;
}

bool writeNpy(const std::string &path, const NpyArray &array,
              std::string &error) {
  std::optional<uint64_t> count = elementCount(array.shape);
  if (!count || *count != array.data.size())
    return fail(error, path,
                "shape " + shapeRepr(array.shape) + " does not match " +
                    std::to_string(array.data.size()) + " elements");
  return writeNpy(path, array.data.data(), array.shape, error);
}

} // namespace nos
