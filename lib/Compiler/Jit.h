//===- Jit.h - Loading object files into the process ------------*- C++ -*-===//
//
// A thin owner of one ORC LLJIT. Kernels arrive as object files, fresh from
// codegen or from the disk cache, so both paths load the same way; each gets
// its own JITDylib so every kernel may use the same symbol name.
//
//===----------------------------------------------------------------------===//
#ifndef NOS_LIB_COMPILER_JIT_H
#define NOS_LIB_COMPILER_JIT_H

#include "llvm/ExecutionEngine/Orc/LLJIT.h"
#include "llvm/Target/TargetMachine.h"

#include <memory>
#include <string>

namespace nos {

class Jit {
public:
  /// The host's target machine, created once and shared with codegen.
  static std::unique_ptr<llvm::TargetMachine>
  hostTargetMachine(int optLevel, std::string &error);
  static std::unique_ptr<Jit> create(std::string &error);

  /// Loads an object file into a new library and returns the address of
  /// `symbol`, or 0; `library` receives the library's name for unload().
  uint64_t load(const std::string &object, llvm::StringRef symbol,
                std::string &library, std::string &error);
  /// Frees a library's code and memory; its addresses become invalid.
  void unload(const std::string &library);
  /// Libraries loaded and not unloaded.
  size_t loaded() const { return loaded_; }

private:
  std::unique_ptr<llvm::orc::LLJIT> jit;
  unsigned nextLibrary = 0;
  size_t loaded_ = 0;
};

} // namespace nos

#endif // NOS_LIB_COMPILER_JIT_H
