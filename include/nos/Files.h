//===- Files.h - Whole files and the environment ----------------*- C++ -*-===//
//
// Every file nos writes (kernel cache entries, .npy outputs, reports, emitted
// stages) must appear complete or not at all, even with concurrent writers or
// a crash mid-write; every file it reads whole is read the same way, with the
// reason on failure. One implementation serves them all, and the one lookup
// of settings from the environment.
//
//===----------------------------------------------------------------------===//
#ifndef NOS_FILES_H
#define NOS_FILES_H

#include <initializer_list>
#include <string>
#include <string_view>

namespace nos {

/// Writes the concatenated `pieces` to a unique temporary file beside
/// `path` (mode 0644), fsyncs it, renames it over `path` and fsyncs the
/// directory. Returns the empty string on success, else the reason (with
/// strerror); on failure nothing is left under `path` or the temporary name.
std::string writeFileAtomically(const std::string &path,
                                std::initializer_list<std::string_view> pieces);

/// Appends the whole file at `path` to `bytes`. Returns the empty string on
/// success, else the reason ("cannot open: No such file or directory");
/// *missing (if given) tells whether the file does not exist.
std::string readWholeFile(const std::string &path, std::string &bytes,
                          bool *missing = nullptr);

/// The environment variable `name`, or `fallback` when it is unset or empty.
std::string envOr(const char *name, const char *fallback = "");

/// Where nos keeps what it can recompute (kernels, level trainings):
/// $NOS_CACHE_DIR, else $XDG_CACHE_HOME/nos, else $HOME/.cache/nos; empty if
/// none of those is set.
std::string cacheDir();

} // namespace nos

#endif // NOS_FILES_H
