//===- Text.h - English text for a character-level LM -----------*- C++ -*-===//
//
// The suite's language task reads real English that every machine can have:
// the fortune databases of Debian's `fortunes` package (~2.6 MB). Whole
// fortunes, not byte ranges, are dealt to train, validation and test by a
// seeded hash, so no quotation straddles two splits and every topic file
// lands in all three. No torch here: Data.h turns the text into tensors.
//
//===----------------------------------------------------------------------===//
#ifndef NOS_TRAIN_TEXT_H
#define NOS_TRAIN_TEXT_H

#include <cstdint>
#include <string>
#include <vector>

namespace nos::train {

/// Character classes of the language task: '\n' is 0, ' '..'~' are 1..95,
/// and every other byte (tabs, backspaces, UTF-8) is the one class 96.
constexpr int64_t kTextClasses = 97;
int64_t charClass(unsigned char c);

/// A corpus dealt three ways; each part is its fortunes joined by "\n".
struct TextSplits {
  std::string train, validation, test;
  std::vector<std::string> files; // the databases read, sorted by name
};

/// Reads every fortune database in `dir` (a text file with its strfile
/// index, NAME.dat, beside it), in name order, and deals each fortune to
/// test (1 in 20), validation (1 in 20) or train by a hash of `seed` and
/// its position. Throws std::runtime_error naming the folder or file, and
/// the package, when there is none or one is not a fortune database.
TextSplits loadFortunes(const std::string &dir, uint64_t seed);

/// $NOS_FORTUNES_DIR if set, else where Debian installs the databases.
std::string defaultFortunesDir();

} // namespace nos::train

#endif // NOS_TRAIN_TEXT_H
