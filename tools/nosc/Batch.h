//===- Batch.h - nosc -f: many rules, one result line each ------*- C++ -*-===//
//
// Batch compiling for scripts: one rule a line from a file or stdin, each
// compiled to a CPU kernel, one result line per rule, errors naming the
// line and column, and the exit code says whether every rule compiled.
//
//===----------------------------------------------------------------------===//
#ifndef NOSC_BATCH_H
#define NOSC_BATCH_H

#include "nos/Compiler.h"

#include <string>

namespace nos {

/// Compiles every rule of `path` ("-": stdin). Blank lines and lines that
/// start with '#' are skipped; a built-in name means the built-in. Prints
/// "LINE: CANONICAL HASH ORIGIN MS" per rule on stdout and
/// "PATH:LINE:COL: error: ..." on stderr. Returns 0 when all compiled.
int compileBatch(const std::string &path, Compiler &compiler);

} // namespace nos

#endif // NOSC_BATCH_H
