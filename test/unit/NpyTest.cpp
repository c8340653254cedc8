//===- NpyTest.cpp - Tests of the .npy reader and writer --------*- C++ -*-===//
//
// Round trips through writeNpy/readNpy, hand-built files of every header
// version numpy writes, and one test per way a file can be malformed; the bad
// bytes are written here so the tests need no numpy.
//
//===----------------------------------------------------------------------===//
#include "Npy.h"

#include <catch2/catch.hpp>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <dirent.h>
#include <fstream>
#include <limits>
#include <sys/stat.h>
#include <unistd.h>

using namespace nos;

namespace {

/// A fresh directory under /tmp, removed with its files at scope exit.
struct TempDir {
  std::string path;
  TempDir() {
    char name[] = "/tmp/nos-npy-XXXXXX";
    REQUIRE(::mkdtemp(name));
    path = name;
  }
  ~TempDir() {
    for (const std::string &f : files())
      std::remove((path + "/" + f).c_str());
    ::rmdir(path.c_str());
  }
  std::vector<std::string> files() const {
    std::vector<std::string> out;
    if (DIR *d = ::opendir(path.c_str())) {
      while (dirent *e = ::readdir(d))
        if (std::strcmp(e->d_name, ".") && std::strcmp(e->d_name, ".."))
          out.push_back(e->d_name);
      ::closedir(d);
    }
    return out;
  }
  std::string file(const std::string &name) const { return path + "/" + name; }
};

void writeBytes(const std::string &path, const std::string &bytes) {
  std::ofstream(path, std::ios::binary) << bytes;
}

std::string readBytes(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

/// A .npy file with the given version, header dict (padded and terminated
/// here) and raw data bytes.
std::string makeNpy(int major, const std::string &dict,
                    const std::string &data) {
  std::string header = dict + "\n";
  std::string out = std::string("\x93NUMPY", 6) + char(major) + char(0);
  size_t len = header.size();
  for (int i = 0; i < (major == 1 ? 2 : 4); ++i, len >>= 8)
    out += char(len & 0xff);
  return out + header + data;
}

std::string floatBytes(const std::vector<float> &v) {
  return std::string(reinterpret_cast<const char *>(v.data()), v.size() * 4);
}

const std::string kDict2x2 =
    "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2), }";

/// Reads `bytes` from a file and expects failure with `reason` in the
/// message, which must also name the file.
void expectError(const std::string &bytes, const std::string &reason) {
  TempDir dir;
  std::string path = dir.file("bad.npy");
  writeBytes(path, bytes);
  NpyArray a;
  std::string error;
  INFO("expected reason: " << reason);
  REQUIRE_FALSE(readNpy(path, a, error));
  INFO("error: " << error);
  CHECK(error.rfind(path + ": ", 0) == 0);
  CHECK(error.find(reason) != std::string::npos);
}

bool sameBits(float a, float b) { return std::memcmp(&a, &b, 4) == 0; }

} // namespace

TEST_CASE("npy round trips", "[npy]") {
  TempDir dir;
  std::vector<std::vector<int64_t>> shapes = {
      {}, {0}, {1}, {5}, {2, 3}, {3, 0, 2}, {1, 1, 1, 1}, {257, 39}};
  for (const auto &shape : shapes) {
    NpyArray in;
    in.shape = shape;
    size_t n = 1;
    for (int64_t d : shape)
      n *= size_t(d);
    for (size_t i = 0; i < n; ++i)
      in.data.push_back(float(i) * 0.37f - 11.0f);
    if (n >= 4) {
      in.data[0] = std::numeric_limits<float>::quiet_NaN();
      in.data[1] = -0.0f;
      in.data[2] = std::numeric_limits<float>::infinity();
      in.data[3] = std::numeric_limits<float>::denorm_min();
    }
    std::string path = dir.file("a.npy"), error;
    REQUIRE(writeNpy(path, in, error));
    NpyArray out;
    REQUIRE(readNpy(path, out, error));
    CHECK(out.shape == shape);
    REQUIRE(out.data.size() == n);
    for (size_t i = 0; i < n; ++i)
      REQUIRE(sameBits(out.data[i], in.data[i]));
  }
  CHECK(dir.files() == std::vector<std::string>{"a.npy"}); // no temp files
}

TEST_CASE("npy writer lays the file out as numpy does", "[npy]") {
  TempDir dir;
  std::string path = dir.file("b.npy"), error;
  float data[3] = {1, 2, 3};
  REQUIRE(writeNpy(path, data, {3}, error));
  std::string bytes = readBytes(path);
  REQUIRE(bytes.size() == 128 + 12); // data on a 64-byte boundary
  CHECK(bytes.compare(0, 8, std::string("\x93NUMPY\x01\x00", 8)) == 0);
  CHECK(bytes[127] == '\n');
  CHECK(bytes.find(
            "{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }") == 10);
  struct stat st;
  REQUIRE(::stat(path.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0644);
}

TEST_CASE("npy writer switches to version 2 for huge headers", "[npy]") {
  TempDir dir;
  std::string path = dir.file("h.npy"), error;
  std::vector<int64_t> shape(22000, 1); // "1, " x 22000 > 65535 bytes
  float one = 1.0f;
  REQUIRE(writeNpy(path, &one, shape, error));
  CHECK(readBytes(path)[6] == 2);
  NpyArray a;
  REQUIRE(readNpy(path, a, error));
  CHECK(a.shape == shape);
  CHECK(a.data == std::vector<float>{1.0f});
}

TEST_CASE("npy writer errors", "[npy]") {
  TempDir dir;
  std::string error;
  NpyArray bad;
  bad.shape = {2, 2};
  bad.data = {1, 2, 3};
  CHECK_FALSE(writeNpy(dir.file("c.npy"), bad, error));
  CHECK(error.find("c.npy: ") != std::string::npos);
  CHECK_FALSE(writeNpy(dir.file("d.npy"), bad.data.data(), {-1}, error));
  std::string missing = dir.file("no/such/dir/e.npy");
  CHECK_FALSE(writeNpy(missing, bad.data.data(), {3}, error));
  CHECK(error.rfind(missing + ": ", 0) == 0);
  CHECK(dir.files().empty());
}

TEST_CASE("npy reader accepts format versions 1, 2 and 3", "[npy]") {
  TempDir dir;
  std::vector<float> v = {1.5f, -2, 0, 7};
  for (int major : {1, 2, 3}) {
    std::string path = dir.file("v.npy"), error;
    writeBytes(path, makeNpy(major, kDict2x2, floatBytes(v)));
    NpyArray a;
    REQUIRE(readNpy(path, a, error));
    CHECK(a.shape == std::vector<int64_t>{2, 2});
    CHECK(a.data == v);
  }
  std::string path = dir.file("w.npy"), error;
  writeBytes(path, makeNpy(1,
                           "{\"shape\": (4,),\"fortran_order\":False,"
                           "\"descr\":\"<f4\"}   ",
                           floatBytes(v)));
  NpyArray a;
  REQUIRE(readNpy(path, a, error));
  CHECK(a.shape == std::vector<int64_t>{4});
}

TEST_CASE("npy reader rejects malformed files", "[npy]") {
  std::string data = floatBytes({1, 2, 3, 4});
  auto withDict = [&](const std::string &dict) {
    return makeNpy(1, dict, data);
  };
  SECTION("file") {
    NpyArray a;
    std::string error;
    CHECK_FALSE(readNpy("/nonexistent/x.npy", a, error));
    CHECK(error.rfind("/nonexistent/x.npy: ", 0) == 0);
    expectError("", "bad magic");
    expectError("\x93NUMPX" + makeNpy(1, kDict2x2, data).substr(6),
                "bad magic");
    expectError(std::string("\x93NUMPY\x01", 7), "bad magic");
  }
  SECTION("version and header length") {
    expectError(makeNpy(4, kDict2x2, data), "version 4.0");
    std::string minor = makeNpy(1, kDict2x2, data);
    minor[7] = 1;
    expectError(minor, "version 1.1");
    expectError(std::string("\x93NUMPY\x02\x00\x01", 9), "truncated header");
    expectError(makeNpy(1, kDict2x2, "").substr(0, 30), "truncated header");
  }
  SECTION("dtype and order") {
    expectError(withDict("{'descr': '>f4', 'fortran_order': False, "
                         "'shape': (2, 2), }"),
                "big-endian");
    expectError(withDict("{'descr': '<f8', 'fortran_order': False, "
                         "'shape': (2,), }"),
                "dtype '<f8'");
    expectError(withDict("{'descr': '<i4', 'fortran_order': False, "
                         "'shape': (4,), }"),
                "dtype '<i4'");
    expectError(withDict("{'descr': '<f4', 'fortran_order': True, "
                         "'shape': (2, 2), }"),
                "Fortran");
  }
  SECTION("header dict") {
    expectError(withDict("['descr', '<f4']"), "not a dict");
    expectError(withDict("{'descr': '<f4', 'fortran_order': False}"), "lacks");
    expectError(withDict("{'descr': '<f4', 'fortran_order': False, "
                         "'shape': (4,), 'extra': 1}"),
                "unexpected key 'extra'");
    expectError(withDict("{'descr': '<f4', 'descr': '<f4', "
                         "'fortran_order': False, 'shape': (4,)}"),
                "repeats key 'descr'");
    expectError(withDict("{'descr' '<f4', 'fortran_order': False, "
                         "'shape': (4,)}"),
                "expected 'key': value");
    expectError(withDict("{'descr': '<f4' 'fortran_order': False, "
                         "'shape': (4,)}"),
                "expected ',' or '}'");
    expectError(withDict("{'descr': <f4, 'fortran_order': False, "
                         "'shape': (4,)}"),
                "'descr' must be a string");
    expectError(withDict("{'descr': '<f4', 'fortran_order': 0, "
                         "'shape': (4,)}"),
                "True or False");
    expectError(withDict("{'descr': '<f4', 'fortran_order': False, "
                         "'shape': (4,)} junk"),
                "after the header");
    expectError(withDict("{'descr': '<f4', 'fortran_order': False, "
                         "'shape': (4,)"),
                "expected ',' or '}'");
    expectError(withDict("{'descr: '<f4', 'fortran_order': False, "
                         "'shape': (4,)}"),
                "expected 'key': value");
  }
  SECTION("shape") {
    for (const char *shape :
         {"(-1,)", "(2.5,)", "[4]", "(4", "(4 4)", "(99999999999999999999,)"}) {
      expectError(withDict(std::string("{'descr': '<f4', 'fortran_order': "
                                       "False, 'shape': ") +
                           shape + "}"),
                  "'shape' must be a tuple");
    }
    expectError(withDict("{'descr': '<f4', 'fortran_order': False, "
                         "'shape': (4294967296, 4294967296, 4294967296)}"),
                "too large");
  }
  SECTION("data size") {
    expectError(makeNpy(1, kDict2x2, data.substr(0, 15)), "truncated data");
    expectError(makeNpy(1, kDict2x2, data + "x"), "size mismatch");
    expectError(makeNpy(1,
                        "{'descr': '<f4', 'fortran_order': False, "
                        "'shape': (), }",
                        ""),
                "truncated data");
  }
}
