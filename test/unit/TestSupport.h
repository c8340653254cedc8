//===- TestSupport.h - What the PTX, CUDA and GPU tests share ---*- C++ -*-===//
//
// One compiler per test binary for the PTX and GPU tests: making an MLIR
// context and target per test case costs milliseconds each, and the tests
// must never read kernels from, or leave them in, the user's disk cache.
// And one rule for GPU tests on machines without a GPU: Catch2 2 has no
// SKIP, so they pass with a warning, unless NOS_REQUIRE_CUDA=1 makes them
// fail, so that a GPU machine cannot pass them by skipping. Plus the
// checked parse the frontend and reference tests use.
//
//===----------------------------------------------------------------------===//
#ifndef NOS_TEST_UNIT_TESTSUPPORT_H
#define NOS_TEST_UNIT_TESTSUPPORT_H

#include "nos/Compiler.h"
#include "nos/CudaExecutor.h"
#include "nos/Parser.h"

#include "../CudaSkip.h"

#include <catch2/catch.hpp>

#include <cstdlib>
#include <string>

namespace nos::test {

/// The parsed rule; fails the test, showing the error, if it does not parse.
inline ExprPtr parse(const std::string &s) {
  ParseResult r = parseRule(s);
  INFO(s << " -> " << r.error.str());
  REQUIRE(r);
  return r.expr;
}

/// A compiler with default options and no disk cache.
inline Compiler &uncachedCompiler() {
  static Compiler compiler([] {
    CompileOptions options;
    options.diskCache = false;
    return options;
  }());
  return compiler;
}

/// True when a GPU test can run; see the file comment.
inline bool haveGpu() {
  std::string why;
  if (cudaAvailable(&why))
    return true;
  return cudaOrSkip("CUDA is unavailable: " + why);
}

} // namespace nos::test

#endif // NOS_TEST_UNIT_TESTSUPPORT_H
