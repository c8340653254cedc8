//===- Jit.cpp - Loading object files into the process --------------------===//
//
// Without a TargetMachine from detectHost() the optimizer assumes a generic
// x86-64 and does not vectorize for the host; both codegen and the JIT use
// the host description built here.
//
//===----------------------------------------------------------------------===//
#include "Jit.h"

#include "llvm/ExecutionEngine/Orc/ExecutionUtils.h"
#include "llvm/ExecutionEngine/Orc/JITTargetMachineBuilder.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/TargetSelect.h"

#include <algorithm>

using namespace llvm;

namespace nos {

static void initializeNativeTarget() {
  static bool done = [] {
    InitializeNativeTarget();
    InitializeNativeTargetAsmPrinter();
    InitializeNativeTargetAsmParser();
    return true;
  }();
  (void)done;
}

std::unique_ptr<TargetMachine> Jit::hostTargetMachine(int optLevel,
                                                      std::string &error) {
  initializeNativeTarget();
  Expected<orc::JITTargetMachineBuilder> builder =
      orc::JITTargetMachineBuilder::detectHost();
  if (!builder) {
    error = toString(builder.takeError());
    return nullptr;
  }
  static const CodeGenOptLevel levels[] = {
      CodeGenOptLevel::None, CodeGenOptLevel::Less, CodeGenOptLevel::Default,
      CodeGenOptLevel::Aggressive};
  builder->setCodeGenOptLevel(levels[std::clamp(optLevel, 0, 3)]);
  Expected<std::unique_ptr<TargetMachine>> tm = builder->createTargetMachine();
  if (!tm) {
    error = toString(tm.takeError());
    return nullptr;
  }
  return std::move(*tm);
}

std::unique_ptr<Jit> Jit::create(std::string &error) {
  initializeNativeTarget();
  Expected<std::unique_ptr<orc::LLJIT>> jit = orc::LLJITBuilder().create();
  if (!jit) {
    error = toString(jit.takeError());
    return nullptr;
  }
  auto result = std::make_unique<Jit>();
  result->jit = std::move(*jit);
  return result;
}

uint64_t Jit::load(const std::string &object, StringRef symbol,
                   std::string &name, std::string &error) {
  name = "nos_kernel_" + std::to_string(nextLibrary++);
  Expected<orc::JITDylib &> library = jit->createJITDylib(name);
  if (!library) {
    error = toString(library.takeError());
    return 0;
  }
  auto generator = orc::DynamicLibrarySearchGenerator::GetForCurrentProcess(
      jit->getDataLayout().getGlobalPrefix());
  if (generator)
    library->addGenerator(std::move(*generator));
  else
    consumeError(generator.takeError());
  auto buffer = MemoryBuffer::getMemBufferCopy(object, name);
  if (Error err = jit->addObjectFile(*library, std::move(buffer))) {
    error = toString(std::move(err));
    return 0;
  }
  ++loaded_;
  Expected<orc::ExecutorAddr> address = jit->lookup(*library, symbol);
  if (!address) {
    error = toString(address.takeError());
    unload(name);
    return 0;
  }
  return address->getValue();
}

void Jit::unload(const std::string &name) {
  orc::JITDylib *library = jit->getJITDylibByName(name);
  if (!library)
    return;
  --loaded_;
  // Nothing can be done about a failed removal but to keep going: the
  // library's memory stays allocated, as it did before unloading existed.
  consumeError(jit->getExecutionSession().removeJITDylib(*library));
}

} // namespace nos
