//===- KernelPayload.h - What a disk cache entry holds ----------*- C++ -*-===//
//
// A cache entry must be enough to call the kernel without recompiling: the
// canonical text (checked against the request, so a hash collision is a miss),
// the state and schedule layout, and the object file.
//
//===----------------------------------------------------------------------===//
#ifndef NOS_LIB_COMPILER_KERNELPAYLOAD_H
#define NOS_LIB_COMPILER_KERNELPAYLOAD_H

#include "nos/Compiler.h"

#include <string>

namespace nos {

std::string encodePayload(const KernelInfo &info, const std::string &object);
/// False on any malformed field; never reads past the payload.
bool decodePayload(const std::string &payload, KernelInfo &info,
                   std::string &object);

} // namespace nos

#endif // NOS_LIB_COMPILER_KERNELPAYLOAD_H
