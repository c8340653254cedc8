//===- Text.cpp - English text for a character-level language model -------===//
//
// A fortune database is plain text, one fortune after another, each ended
// by a line holding only "%". Its strfile index (NAME.dat) is what tells a
// database from any other file in the folder, so a stray README is not
// read as English. The deal depends on the seed and on each fortune's
// position among all the databases, so it is fixed for a given package.
//
//===----------------------------------------------------------------------===//
#include "nos/train/Text.h"

#include "nos/Files.h"
#include "nos/Random.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace nos::train {
namespace {

namespace fs = std::filesystem;

const char *const kPackageHint =
    "Debian's `fortunes` package provides them (scripts/install-deps.sh "
    "installs it), or set $NOS_FORTUNES_DIR";

[[noreturn]] void fail(const std::string &where, const std::string &why) {
  throw std::runtime_error(where + ": " + why + "; " + kPackageHint);
}

std::vector<std::string> databases(const std::string &dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec))
    fail(dir, "no folder of fortune databases here");
  std::vector<std::string> out;
  for (const fs::directory_entry &e : fs::directory_iterator(dir, ec)) {
    const fs::path &p = e.path();
    if (p.has_extension() || !e.is_regular_file(ec))
      continue;
    if (fs::exists(fs::path(p).concat(".dat"), ec))
      out.push_back(p.filename().string());
  }
  std::sort(out.begin(), out.end());
  if (out.empty())
    fail(dir, "no fortune database (a text file with its NAME.dat index)");
  return out;
}

/// The fortunes of one database, without their "%" lines.
std::vector<std::string> fortunesIn(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    fail(path, "cannot open");
  std::vector<std::string> out;
  std::string line, current;
  while (std::getline(in, line)) {
    if (line == "%") {
      if (!current.empty())
        out.push_back(std::move(current));
      current.clear();
      continue;
    }
    current += line;
    current += '\n';
  }
  if (in.bad())
    fail(path, "read error");
  if (!current.empty())
    out.push_back(std::move(current));
  // Every database has many fortunes: one or none is a damaged file.
  if (out.size() < 2)
    fail(path, "not a fortune database (fewer than two '%'-separated "
               "fortunes)");
  return out;
}

} // namespace

int64_t charClass(unsigned char c) {
  if (c == '\n')
    return 0;
  if (c >= ' ' && c <= '~')
    return 1 + (c - ' ');
  return kTextClasses - 1;
}

TextSplits loadFortunes(const std::string &dir, uint64_t seed) {
  TextSplits out;
  out.files = databases(dir);
  uint64_t position = 0;
  for (const std::string &name : out.files)
    for (std::string &fortune : fortunesIn(dir + "/" + name)) {
      uint64_t draw = splitmixFinish(seed * kGoldenGamma + position++ + 1) % 20;
      std::string &part = draw == 0   ? out.test
                          : draw == 1 ? out.validation
                                      : out.train;
      part += fortune;
      part += '\n';
    }
  return out;
}

std::string defaultFortunesDir() {
  return envOr("NOS_FORTUNES_DIR", "/usr/share/games/fortunes");
}

} // namespace nos::train
