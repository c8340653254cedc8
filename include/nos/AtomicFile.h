//===- AtomicFile.h - Whole-or-nothing file writes --------------*- C++ -*-===//
//
// Every file nos writes (kernel cache entries, .npy outputs, reports, emitted
// stages) must appear complete or not at all, even with concurrent writers or
// a crash mid-write. One implementation serves them all.
//
//===----------------------------------------------------------------------===//
#ifndef NOS_ATOMICFILE_H
#define NOS_ATOMICFILE_H

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

} // namespace nos

#endif // NOS_ATOMICFILE_H
