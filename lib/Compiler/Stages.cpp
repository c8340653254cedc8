//===- Stages.cpp - The names of the pipeline's stages --------------------===//
//
// One table of stage names for every front end: `nosc --emit NAME` and the
// Python nos.Kernel.emit(NAME) accept the same words in the same order.
//
//===----------------------------------------------------------------------===//
#include "nos/Compiler.h"

#include <utility>

namespace nos {

static const std::pair<const char *, Stage> kStages[] = {
    {"ast", Stage::AST},
    {"mlir", Stage::MLIR},
    {"canonical", Stage::Canonical},
    {"canonical-mlir", Stage::CanonicalMLIR},
    {"lowered", Stage::Lowered},
    {"llvm", Stage::LLVM},
    {"asm", Stage::Asm},
    {"obj", Stage::Obj},
    {"gpu", Stage::GpuLowered},
    {"nvvm", Stage::Nvvm},
    {"ptx", Stage::Ptx}};

bool stageFromName(std::string_view name, Stage &stage) {
  for (const auto &[spelling, value] : kStages)
    if (name == spelling) {
      stage = value;
      return true;
    }
  return false;
}

std::string stageNames() {
  std::string names;
  for (const auto &entry : kStages)
    names += (names.empty() ? "" : ", ") + std::string(entry.first);
  return names;
}

} // namespace nos
