//===- DiskCache.h - On-disk cache of compiled kernels ----------*- C++ -*-===//
//
// The second level of the kernel cache: compiled kernels persisted across
// processes so a training job or a search worker does not recompile rules it
// has seen before. Plain C++ (no LLVM) so it can be tested on its own. Entries
// are checksummed and written atomically because many search workers share
// one directory and may be killed at any moment.
//
//===----------------------------------------------------------------------===//
#ifndef NOS_COMPILER_DISKCACHE_H
#define NOS_COMPILER_DISKCACHE_H

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace nos {

/// A directory of `<key>.nosk` files. Each file is: magic "NOSK", format
/// version (u32), payload length (u64), zlib crc32 of the payload (u32), all
/// little-endian, then the payload. Safe for concurrent readers and writers in
/// one or many processes.
class DiskCache {
public:
  /// Bump when the entry layout changes; older entries then read as misses.
  static constexpr uint32_t kFormatVersion = 1;

  /// An empty `dir` means defaultDir(). The directory is created on the
  /// first store.
  explicit DiskCache(std::string dir = {});

  /// $NOS_CACHE_DIR, else $XDG_CACHE_HOME/nos, else $HOME/.cache/nos; empty
  /// if none of those is set.
  static std::string defaultDir();

  const std::string &dir() const { return dir_; }
  /// Where the entry for `key` lives.
  std::string pathFor(const std::string &key) const;

  /// The payload stored under `key`, or nullopt with the reason in *whyNot
  /// (missing, truncated, corrupted, wrong magic or version, bad key).
  std::optional<std::string> load(const std::string &key,
                                  std::string *whyNot = nullptr) const;
  /// Writes the entry atomically (unique temporary file, fsync, rename); on
  /// failure returns false with a message in *error and leaves no entry.
  bool store(const std::string &key, std::string_view payload,
             std::string *error);

  /// Keys are non-empty hex strings of at most 128 digits, which keeps them
  /// from naming files outside the directory.
  static bool isValidKey(const std::string &key);

private:
  std::string dir_;
};

} // namespace nos

#endif // NOS_COMPILER_DISKCACHE_H
