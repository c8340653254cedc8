//===- CudaSkip.h - Tests that need a CUDA device --------------*- C++ -*-===//
//
// Catch2 2 has no SKIP: a test that needs a GPU passes with a warning where
// there is none, unless NOS_REQUIRE_CUDA=1 makes it fail, so that a GPU
// machine cannot skip it silently. Shared by the driver-level tests
// (test/unit/TestSupport.h) and the torch ones.
//
//===----------------------------------------------------------------------===//
#ifndef NOS_TEST_CUDASKIP_H
#define NOS_TEST_CUDASKIP_H

#include <catch2/catch.hpp>

#include <cstdlib>
#include <string>

namespace nos::test {

/// True when `whyNot` is empty; otherwise warns (or fails under
/// NOS_REQUIRE_CUDA) with the reason and returns false.
inline bool cudaOrSkip(const std::string &whyNot) {
  if (whyNot.empty())
    return true;
  const char *require = std::getenv("NOS_REQUIRE_CUDA");
  if (require && *require && std::string(require) != "0")
    FAIL("NOS_REQUIRE_CUDA is set but " << whyNot);
  WARN("skipped without a GPU: " << whyNot);
  return false;
}

} // namespace nos::test

#endif // NOS_TEST_CUDASKIP_H
