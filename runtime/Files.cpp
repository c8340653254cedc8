//===- Files.cpp - Whole files and the environment ------------------------===//
//
// mkstemp gives each writer its own temporary name, so two processes writing
// the same path never interleave; rename is atomic within a directory.
//
//===----------------------------------------------------------------------===//
#include "nos/Files.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace nos {

namespace {
std::string osError(const char *what) {
  return std::string(what) + ": " + std::strerror(errno);
}

bool writeAll(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t w = ::write(fd, data.data(), data.size());
    if (w < 0 && errno == EINTR)
      continue;
    if (w <= 0)
      return false;
    data.remove_prefix(size_t(w));
  }
  return true;
}

/// Best effort: makes the rename itself durable.
void syncParentDir(const std::string &path) {
  size_t slash = path.rfind('/');
  std::string dir = slash == std::string::npos ? "." : path.substr(0, slash);
  int fd = ::open(dir.empty() ? "/" : dir.c_str(),
                  O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd >= 0) {
    ::fsync(fd);
    ::close(fd);
  }
}
} // namespace

std::string
writeFileAtomically(const std::string &path,
                    std::initializer_list<std::string_view> pieces) {
  std::string tmp = path + ".tmpXXXXXX";
  int fd = ::mkstemp(tmp.data());
  if (fd < 0)
    return osError("cannot create a temporary file");
  bool ok = true;
  for (std::string_view piece : pieces)
    ok = ok && writeAll(fd, piece);
  ok = ok && ::fchmod(fd, 0644) == 0 && ::fsync(fd) == 0;
  std::string why = ok ? "" : osError("write failed");
  if (::close(fd) != 0 && ok) {
    ok = false;
    why = osError("write failed");
  }
  if (ok && ::rename(tmp.c_str(), path.c_str()) != 0) {
    ok = false;
    why = osError("cannot rename the temporary file");
  }
  if (!ok) {
    ::unlink(tmp.c_str());
    return why;
  }
  syncParentDir(path);
  return {};
}

std::string readWholeFile(const std::string &path, std::string &bytes,
                          bool *missing) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (missing)
    *missing = fd < 0 && errno == ENOENT;
  if (fd < 0)
    return osError("cannot open");
  char buf[1 << 16];
  ssize_t got;
  while ((got = ::read(fd, buf, sizeof buf)) != 0) {
    if (got < 0 && errno == EINTR)
      continue;
    if (got < 0) {
      std::string why = osError("read failed");
      ::close(fd);
      return why;
    }
    bytes.append(buf, size_t(got));
  }
  ::close(fd);
  return {};
}

std::string envOr(const char *name, const char *fallback) {
  const char *value = std::getenv(name);
  return value && *value ? value : fallback;
}

std::string cacheDir() {
  if (std::string d = envOr("NOS_CACHE_DIR"); !d.empty())
    return d;
  if (std::string d = envOr("XDG_CACHE_HOME"); !d.empty())
    return d + "/nos";
  if (std::string d = envOr("HOME"); !d.empty())
    return d + "/.cache/nos";
  return "";
}

} // namespace nos
