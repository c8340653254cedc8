//===- DiskCacheTest.cpp - Tests of the on-disk kernel cache ----*- C++ -*-===//
//
// Stores and loads entries, damages them on disk in every way a crash or a
// bad disk could (truncation, flipped bytes, wrong magic or version) and
// checks they read as misses, and races writers and readers on one key.
//
//===----------------------------------------------------------------------===//
#include "DiskCache.h"

#include <catch2/catch.hpp>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <dirent.h>
#include <fstream>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>

using namespace nos;

namespace {

const std::string kKey = "0123456789abcdef0123456789ABCDEF";

/// A fresh directory under /tmp, removed (two levels deep) at scope exit.
struct TempDir {
  std::string path;
  TempDir() {
    char name[] = "/tmp/nos-cache-XXXXXX";
    REQUIRE(::mkdtemp(name));
    path = name;
  }
  ~TempDir() { removeTree(path); }
  static std::vector<std::string> list(const std::string &dir) {
    std::vector<std::string> out;
    if (DIR *d = ::opendir(dir.c_str())) {
      while (dirent *e = ::readdir(d))
        if (std::strcmp(e->d_name, ".") && std::strcmp(e->d_name, ".."))
          out.push_back(e->d_name);
      ::closedir(d);
    }
    return out;
  }
  static void removeTree(const std::string &dir) {
    for (const std::string &f : list(dir)) {
      std::string p = dir + "/" + f;
      if (std::remove(p.c_str()) != 0)
        removeTree(p);
    }
    ::rmdir(dir.c_str());
  }
};

std::string readBytes(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void writeBytes(const std::string &path, const std::string &bytes) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
}

/// Stores `payload`, lets `damage` rewrite the file's bytes and expects the
/// load to miss with `reason` in the message.
template <typename Damage>
void expectMiss(const std::string &payload, Damage damage,
                const std::string &reason) {
  TempDir dir;
  DiskCache cache(dir.path);
  std::string error;
  REQUIRE(cache.store(kKey, payload, &error));
  std::string bytes = readBytes(cache.pathFor(kKey));
  damage(bytes);
  writeBytes(cache.pathFor(kKey), bytes);
  std::string why;
  CHECK_FALSE(cache.load(kKey, &why));
  INFO("why: " << why);
  CHECK(why.find(reason) != std::string::npos);
  CHECK(why.find(cache.pathFor(kKey)) != std::string::npos);
  CHECK_FALSE(cache.load(kKey)); // whyNot is optional
}

/// A payload of `n` bytes that differs per `seed` and contains NULs.
std::string payloadOf(size_t n, int seed) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i)
    s[i] = char((i * 131 + size_t(seed) * 7) % 251);
  return s;
}

} // namespace

TEST_CASE("DiskCache stores and loads entries", "[cache]") {
  TempDir dir;
  DiskCache cache(dir.path + "/a/b"); // created on demand
  std::string error, why;
  CHECK_FALSE(cache.load(kKey, &why));
  CHECK(why.find("no entry") != std::string::npos);
  for (size_t n : {size_t(0), size_t(1), size_t(1000), size_t(3) << 20}) {
    std::string payload = payloadOf(n, int(n));
    REQUIRE(cache.store(kKey, payload, &error));
    CHECK(error.empty());
    std::optional<std::string> got = cache.load(kKey, &why);
    REQUIRE(got);
    CHECK(*got == payload);
  }
  CHECK(readBytes(cache.pathFor(kKey)).compare(0, 4, "NOSK") == 0);
  CHECK(cache.pathFor("ff") == dir.path + "/a/b/ff.nosk");
  CHECK(TempDir::list(dir.path + "/a/b") ==
        std::vector<std::string>{kKey + ".nosk"});
}

TEST_CASE("DiskCache entry layout", "[cache]") {
  TempDir dir;
  DiskCache cache(dir.path);
  std::string error;
  REQUIRE(cache.store("abc", "xyz", &error));
  std::string bytes = readBytes(cache.pathFor("abc"));
  REQUIRE(bytes.size() == 20 + 3);
  CHECK(bytes.substr(0, 4) == "NOSK");
  CHECK(bytes.substr(4, 4) == std::string("\x01\0\0\0", 4));
  CHECK(bytes.substr(8, 8) == std::string("\x03\0\0\0\0\0\0\0", 8));
  CHECK(bytes.substr(16, 4) == std::string("\x67\xba\x8e\xeb", 4)); // crc32
  CHECK(bytes.substr(20) == "xyz");
}

TEST_CASE("DiskCache treats damaged entries as misses", "[cache]") {
  std::string payload = payloadOf(5000, 1);
  expectMiss(
      payload, [](std::string &b) { b.resize(10); }, "truncated header");
  expectMiss(
      payload, [](std::string &b) { b.resize(b.size() - 1); },
      "truncated payload");
  expectMiss(
      payload, [](std::string &b) { b += 'x'; }, "size mismatch");
  expectMiss(
      payload, [](std::string &b) { b[20 + 2500] ^= 0x10; },
      "checksum mismatch");
  expectMiss(
      payload, [](std::string &b) { b[17] ^= 1; }, "checksum mismatch");
  expectMiss(
      payload, [](std::string &b) { b[0] = 'X'; }, "bad magic");
  expectMiss(
      payload, [](std::string &b) { b[4] = 2; }, "format version 2");
  expectMiss(
      payload, [](std::string &b) { b.clear(); }, "truncated header");
}

TEST_CASE("DiskCache rejects keys that are not hex", "[cache]") {
  TempDir dir;
  DiskCache cache(dir.path);
  std::string error, why;
  for (const std::string &key : std::vector<std::string>{
           "", "../etc", "ab/cd", "xyz", std::string(129, 'a')}) {
    CHECK_FALSE(cache.store(key, "p", &error));
    CHECK(error.find("invalid cache key") != std::string::npos);
    CHECK_FALSE(cache.load(key, &why));
    CHECK(why.find("invalid cache key") != std::string::npos);
  }
  CHECK(TempDir::list(dir.path).empty());
}

TEST_CASE("DiskCache survives concurrent writers and readers", "[cache]") {
  TempDir dir;
  DiskCache cache(dir.path);
  constexpr int kWriters = 6, kRounds = 30;
  std::atomic<int> badLoads{0}, failedStores{0};
  std::atomic<bool> writing{true};
  std::vector<std::thread> threads;
  for (int w = 0; w < kWriters; ++w)
    threads.emplace_back([&, w] {
      std::string error;
      for (int r = 0; r < kRounds; ++r)
        failedStores += !cache.store(kKey, payloadOf(100000, w), &error);
    });
  std::thread reader([&] {
    while (writing) {
      std::string why;
      std::optional<std::string> got = cache.load(kKey, &why);
      if (!got) {
        badLoads += why.find("no entry") == std::string::npos;
        continue;
      }
      bool known = false;
      for (int w = 0; w < kWriters; ++w)
        known |= *got == payloadOf(100000, w);
      badLoads += !known;
    }
  });
  for (std::thread &t : threads)
    t.join();
  writing = false;
  reader.join();
  CHECK(failedStores == 0);
  CHECK(badLoads == 0);
  CHECK(cache.load(kKey).has_value());
  CHECK(TempDir::list(dir.path) == std::vector<std::string>{kKey + ".nosk"});
}

TEST_CASE("DiskCache reports unwritable directories", "[cache]") {
  TempDir dir;
  std::string file = dir.path + "/plain";
  writeBytes(file, "not a directory");
  DiskCache underFile(file + "/cache"); // fails even for root
  std::string error, why;
  CHECK_FALSE(underFile.store(kKey, "p", &error));
  CHECK(error.find(file + "/cache") != std::string::npos);
  CHECK_FALSE(underFile.load(kKey, &why));

  std::string ro = dir.path + "/ro";
  REQUIRE(::mkdir(ro.c_str(), 0500) == 0);
  bool permissionsApply = ::access(ro.c_str(), W_OK) != 0; // not for root
  DiskCache readOnly(ro);
  bool stored = readOnly.store(kKey, "p", &error);
  if (permissionsApply) {
    CHECK_FALSE(stored);
    CHECK(error.find(ro) != std::string::npos);
  }
  CHECK(TempDir::list(ro).size() == (stored ? 1u : 0u)); // no temp file left
  ::chmod(ro.c_str(), 0700);
}

TEST_CASE("DiskCache default directory", "[cache]") {
  auto saved = [](const char *name) -> std::optional<std::string> {
    const char *v = std::getenv(name);
    return v ? std::optional<std::string>(v) : std::nullopt;
  };
  const char *names[] = {"NOS_CACHE_DIR", "XDG_CACHE_HOME", "HOME"};
  std::optional<std::string> old[3];
  for (int i = 0; i < 3; ++i)
    old[i] = saved(names[i]);

  ::setenv("NOS_CACHE_DIR", "/x/nos", 1);
  ::setenv("XDG_CACHE_HOME", "/xdg", 1);
  ::setenv("HOME", "/home/u", 1);
  CHECK(DiskCache::defaultDir() == "/x/nos");
  CHECK(DiskCache().dir() == "/x/nos");
  CHECK(DiskCache("/given").dir() == "/given");
  ::unsetenv("NOS_CACHE_DIR");
  CHECK(DiskCache::defaultDir() == "/xdg/nos");
  ::setenv("XDG_CACHE_HOME", "", 1);
  CHECK(DiskCache::defaultDir() == "/home/u/.cache/nos");
  ::unsetenv("XDG_CACHE_HOME");
  ::unsetenv("HOME");
  CHECK(DiskCache::defaultDir().empty());
  std::string error;
  CHECK_FALSE(DiskCache().store(kKey, "p", &error));
  CHECK(error.find("NOS_CACHE_DIR") != std::string::npos);

  for (int i = 0; i < 3; ++i)
    if (old[i])
      ::setenv(names[i], old[i]->c_str(), 1);
}
