//===- DiskCache.cpp - On-disk cache of compiled kernels --------*- C++ -*-===//
//
// Reading validates everything (size, magic, version, length, checksum) so
// that a torn, truncated or bit-flipped file reads as a miss and the kernel is
// simply recompiled; writing goes through a unique temporary file and rename
// so readers only ever see complete entries, whoever wins a race.
//
//===----------------------------------------------------------------------===//
#include "DiskCache.h"

#include "nos/Files.h"

#include <cctype>
#include <cstring>
#include <filesystem>
#include <zlib.h>

namespace nos {
namespace {

constexpr char kMagic[4] = {'N', 'O', 'S', 'K'};
constexpr size_t kHeaderSize = 4 + 4 + 8 + 4;

void putLE(std::string &out, uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i, v >>= 8)
    out += char(v & 0xff);
}

uint64_t getLE(const char *p, int bytes) {
  uint64_t v = 0;
  for (int i = bytes - 1; i >= 0; --i)
    v = v << 8 | static_cast<unsigned char>(p[i]);
  return v;
}

uint32_t checksum(std::string_view payload) {
  return uint32_t(crc32_z(crc32_z(0, nullptr, 0),
                          reinterpret_cast<const Bytef *>(payload.data()),
                          payload.size()));
}

std::string encodeHeader(std::string_view payload) {
  std::string h(kMagic, sizeof kMagic);
  putLE(h, DiskCache::kFormatVersion, 4);
  putLE(h, payload.size(), 8);
  putLE(h, checksum(payload), 4);
  return h;
}

/// Returns "" if `bytes` is a complete, intact entry.
std::string checkEntry(const std::string &bytes) {
  if (bytes.size() < kHeaderSize)
    return "truncated header (" + std::to_string(bytes.size()) + " bytes)";
  if (std::memcmp(bytes.data(), kMagic, sizeof kMagic) != 0)
    return "bad magic (not a nos kernel cache entry)";
  uint64_t version = getLE(bytes.data() + 4, 4);
  if (version != DiskCache::kFormatVersion)
    return "format version " + std::to_string(version) + ", expected " +
           std::to_string(DiskCache::kFormatVersion);
  uint64_t length = getLE(bytes.data() + 8, 8);
  uint64_t have = bytes.size() - kHeaderSize;
  if (have != length)
    return (have < length ? "truncated payload: " : "size mismatch: ") +
           std::string("header says ") + std::to_string(length) +
           " bytes, file has " + std::to_string(have);
  uint32_t crc = uint32_t(getLE(bytes.data() + 16, 4));
  if (crc != checksum(std::string_view(bytes).substr(kHeaderSize)))
    return "checksum mismatch (corrupted entry)";
  return "";
}

} // namespace

DiskCache::DiskCache(std::string dir)
    : dir_(dir.empty() ? defaultDir() : std::move(dir)) {}

std::string DiskCache::defaultDir() { return cacheDir(); }

bool DiskCache::isValidKey(const std::string &key) {
  if (key.empty() || key.size() > 128)
    return false;
  for (char c : key)
    if (!std::isxdigit(static_cast<unsigned char>(c)))
      return false;
  return true;
}

std::string DiskCache::pathFor(const std::string &key) const {
  return dir_ + "/" + key + ".nosk";
}

std::optional<std::string> DiskCache::load(const std::string &key,
                                           std::string *whyNot) const {
  std::string why, bytes;
  if (dir_.empty()) {
    why = "no cache directory (set NOS_CACHE_DIR or HOME)";
  } else if (!isValidKey(key)) {
    why = "invalid cache key '" + key + "' (expected hex digits)";
  } else {
    std::string path = pathFor(key);
    bool missing = false;
    why = readWholeFile(path, bytes, &missing);
    if (missing)
      why = "no entry";
    else if (why.empty())
      why = checkEntry(bytes);
    if (!why.empty())
      why = path + ": " + why;
  }
  if (why.empty()) {
    bytes.erase(0, kHeaderSize);
    return bytes;
  }
  if (whyNot)
    *whyNot = why;
  return std::nullopt;
}

bool DiskCache::store(const std::string &key, std::string_view payload,
                      std::string *error) {
  std::string why;
  std::error_code ec;
  if (dir_.empty())
    why = "no cache directory (set NOS_CACHE_DIR or HOME)";
  else if (!isValidKey(key))
    why = "invalid cache key '" + key + "' (expected hex digits)";
  else if (std::filesystem::create_directories(dir_, ec), ec)
    why = "cannot create cache directory " + dir_ + ": " + ec.message();
  else if (std::string failure = writeFileAtomically(
               pathFor(key), {encodeHeader(payload), payload});
           !failure.empty())
    why = pathFor(key) + ": " + failure;
  if (error)
    *error = why;
  return why.empty();
}

} // namespace nos
