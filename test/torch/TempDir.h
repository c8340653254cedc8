//===- TempDir.h - A scratch folder for the torch-side tests ----*- C++ -*-===//
//
// The data and task tests write small dataset files in the real formats,
// damaged ones included; each test gets a folder of its own, removed with
// everything in it when the test ends, pass or fail.
//
//===----------------------------------------------------------------------===//
#ifndef NOS_TEST_TORCH_TEMPDIR_H
#define NOS_TEST_TORCH_TEMPDIR_H

#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <string>

namespace nos::test {

class TempDir {
public:
  TempDir() {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "nos-data-XXXXXX").string();
    REQUIRE(mkdtemp(pattern.data()) != nullptr);
    path = pattern;
  }
  ~TempDir() { std::filesystem::remove_all(path); }
  std::string file(const std::string &name) const { return path + "/" + name; }

  std::string path;
};

} // namespace nos::test

#endif // NOS_TEST_TORCH_TEMPDIR_H
