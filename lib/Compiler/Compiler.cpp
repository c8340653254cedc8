//===- Compiler.cpp - Rule strings to kernels (the facade) ----------------===//
//
// Owns the process-wide pieces that are expensive to make (MLIR context, host
// target machine, ORC JIT) and the two cache levels. A kernel's identity is
// its canonical text; the disk key adds what changes the machine code.
//
//===----------------------------------------------------------------------===//
#include "nos/Compiler.h"

#include "Bridge.h"
#include "DiskCache.h"
#include "Jit.h"
#include "KernelPayload.h"
#include "Pipeline.h"

#include "nos/Frontend.h"

#include "mlir/IR/Diagnostics.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/xxhash.h"
#include "llvm/TargetParser/Host.h"

#include <chrono>
#include <map>
#include <mutex>
#include <unordered_map>

using namespace mlir;

namespace nos {

const char *compilerVersion() { return "nos-0.1.0+abi2"; }

static std::string hex64(uint64_t value) {
  std::string out;
  llvm::raw_string_ostream os(out);
  os << llvm::format_hex_no_prefix(value, 16);
  return out;
}

static unsigned hostVectorWidth() {
  llvm::StringMap<bool> features = llvm::sys::getHostCPUFeatures();
  if (features.lookup("avx512f"))
    return 16;
  if (features.lookup("avx2") || features.lookup("avx"))
    return 8;
  return 4;
}

/// Collects diagnostics as "line:col: error: message" for the caller.
class DiagnosticCollector {
public:
  explicit DiagnosticCollector(MLIRContext &ctx)
      : handler(&ctx, [this](mlir::Diagnostic &diag) {
          append(diag);
          return success();
        }) {}
  std::string take() { return std::move(text); }

private:
  void append(mlir::Diagnostic &diag) {
    if (!text.empty())
      text += "\n";
    if (auto loc = dyn_cast<FileLineColLoc>(diag.getLocation()))
      text += std::to_string(loc.getLine()) + ":" +
              std::to_string(loc.getColumn()) + ": ";
    text += diag.getSeverity() == DiagnosticSeverity::Error ? "error: " : "";
    text += diag.str();
  }
  ScopedDiagnosticHandler handler;
  std::string text;
};

class Compiler::Impl {
public:
  explicit Impl(CompileOptions opts)
      : options(std::move(opts)), context(createContext()),
        disk(options.cacheDir) {
    if (options.vectorWidth == 0)
      options.vectorWidth = hostVectorWidth();
  }

  /// Builds and canonicalizes; fills `info`. Null module on error.
  OwningOpRef<ModuleOp> canonical(const Expr &rule, KernelInfo &info,
                                  std::string *error, bool stopBefore) {
    DiagnosticCollector diags(*context);
    OwningOpRef<ModuleOp> module = buildModule(*context, rule, "nos_rule");
    if (failed(module->verify()) ||
        (!stopBefore && failed(canonicalizeModule(*module)))) {
      setError(error, diags.take());
      return nullptr;
    }
    if (stopBefore)
      return module;
    auto ruleOp = *module->getOps<mlir::nos::RuleOp>().begin();
    info.canonical = printRule(*raiseRule(ruleOp));
    info.hash = hex64(llvm::xxh3_64bits(info.canonical));
    mlir::nos::KernelLayout layout = mlir::nos::computeKernelLayout(ruleOp);
    info.stateSlots.clear();
    for (const std::string &slot : layout.stateSlotNames())
      info.stateSlots.push_back(slot);
    info.schedules = schedulesOf(layout);
    info.usesRandom = !layout.stochastic.empty();
    return module;
  }

  static std::vector<ScheduleSpec>
  schedulesOf(const mlir::nos::KernelLayout &layout) {
    std::vector<ScheduleSpec> out;
    for (Operation *op : layout.schedules) {
      if (auto cd = dyn_cast<mlir::nos::CDOp>(op))
        out.push_back({Schedule::CD, cd.getN().convertToDouble()});
      else if (auto rd = dyn_cast<mlir::nos::RDOp>(op))
        out.push_back({Schedule::RD, rd.getN().convertToDouble()});
      else
        out.push_back({Schedule::LD, defaultScheduleN(Schedule::LD)});
    }
    return out;
  }

  static void setError(std::string *error, std::string message) {
    if (error)
      *error = message.empty() ? "compilation failed" : std::move(message);
  }

  bool ensureTarget(std::string *error) {
    std::string message;
    if (!targetMachine)
      targetMachine = Jit::hostTargetMachine(options.optLevel, message);
    if (targetMachine && !jit)
      jit = Jit::create(message);
    if (targetMachine && jit)
      return true;
    setError(error, "cannot set up the host JIT: " + message);
    return false;
  }

  /// Lowers a canonical module to an object file.
  bool codegen(ModuleOp module, std::string &object, std::string *error,
               Stage stopAt = Stage::Obj, std::string *text = nullptr) {
    DiagnosticCollector diags(*context);
    if (failed(lowerToKernel(module, options.vectorWidth))) {
      setError(error, diags.take());
      return false;
    }
    if (stopAt == Stage::Lowered) {
      llvm::raw_string_ostream os(*text);
      module.print(os);
      return true;
    }
    if (failed(lowerToLLVMDialect(module)) || !ensureTarget(error)) {
      setError(error, diags.take());
      return false;
    }
    llvm::LLVMContext llvmCtx;
    std::string message;
    auto llvmModule = translateAndOptimize(module, llvmCtx, *targetMachine,
                                           options.irOptLevel, message);
    if (!llvmModule) {
      setError(error, message);
      return false;
    }
    if (stopAt == Stage::LLVM) {
      llvm::raw_string_ostream os(*text);
      llvmModule->print(os, nullptr);
      return true;
    }
    bool asmText = stopAt == Stage::Asm;
    if (!emitMachineCode(*llvmModule, *targetMachine, asmText,
                         asmText ? *text : object, message)) {
      setError(error, message);
      return false;
    }
    return true;
  }

  std::string diskKey(const KernelInfo &info) const {
    std::string material = std::string(compilerVersion()) + "\n" +
                           info.canonical + "\n" + targetId() + "\nf32";
    return hex64(llvm::xxh3_64bits(material));
  }

  std::string targetId() const {
    return llvm::sys::getProcessTriple() + ":" +
           llvm::sys::getHostCPUName().str() + ":w" +
           std::to_string(options.vectorWidth) + ":O" +
           std::to_string(options.optLevel) + ":IR" +
           std::to_string(options.irOptLevel);
  }

  std::shared_ptr<const CpuKernel> compile(const Expr &rule,
                                           std::string *error) {
    std::lock_guard<std::mutex> lock(mutex);
    // Fast path: a spelling seen before skips MLIR entirely (~1 us).
    std::string spelling = printRule(rule);
    if (auto it = bySpelling.find(spelling); it != bySpelling.end()) {
      ++stats.memoryHits;
      return it->second;
    }
    auto kernel = compileCanonical(rule, error);
    if (kernel && options.memoryCache)
      bySpelling[spelling] = kernel;
    return kernel;
  }

  std::shared_ptr<const CpuKernel> compileCanonical(const Expr &rule,
                                                    std::string *error) {
    auto start = std::chrono::steady_clock::now();
    KernelInfo info;
    OwningOpRef<ModuleOp> module = canonical(rule, info, error, false);
    if (!module)
      return nullptr;
    if (auto it = memory.find(info.canonical); it != memory.end()) {
      ++stats.memoryHits;
      return it->second;
    }
    auto kernel = std::make_shared<CpuKernel>();
    kernel->info = info;
    std::string object;
    if (!loadFromDisk(info, object)) {
      if (!codegen(*module, object, error))
        return nullptr;
      storeOnDisk(info, object);
      kernel->origin = "compiled";
      ++stats.compiled;
    } else {
      kernel->origin = "disk";
      ++stats.diskHits;
    }
    if (!ensureTarget(error))
      return nullptr;
    std::string message;
    uint64_t address = jit->load(object, "nos_rule", message);
    if (!address) {
      setError(error, "cannot load the kernel: " + message);
      return nullptr;
    }
    kernel->fn = reinterpret_cast<NosCpuKernelFn>(address);
    kernel->compileMs = std::chrono::duration<double, std::milli>(
                            std::chrono::steady_clock::now() - start)
                            .count();
    if (options.memoryCache)
      memory[info.canonical] = kernel;
    return kernel;
  }

  bool loadFromDisk(const KernelInfo &info, std::string &object) {
    if (!options.diskCache || disk.dir().empty())
      return false;
    std::string whyNot;
    std::optional<std::string> payload = disk.load(diskKey(info), &whyNot);
    if (!payload)
      return false;
    KernelInfo stored;
    if (!decodePayload(*payload, stored, object) ||
        stored.canonical != info.canonical) {
      ++stats.diskRejected; // recompiled and overwritten below
      return false;
    }
    return true;
  }

  void storeOnDisk(const KernelInfo &info, const std::string &object) {
    if (!options.diskCache || disk.dir().empty())
      return;
    std::string ignored; // a read-only cache only costs recompilation
    disk.store(diskKey(info), encodePayload(info, object), &ignored);
  }

  CompileOptions options;
  std::unique_ptr<MLIRContext> context;
  std::unique_ptr<llvm::TargetMachine> targetMachine;
  std::unique_ptr<Jit> jit;
  DiskCache disk;
  std::map<std::string, std::shared_ptr<const CpuKernel>> memory;
  std::unordered_map<std::string, std::shared_ptr<const CpuKernel>> bySpelling;
  Stats stats;
  std::mutex mutex;
};

Compiler::Compiler(CompileOptions options)
    : impl_(std::make_unique<Impl>(std::move(options))) {}
Compiler::~Compiler() = default;

bool Compiler::canonicalize(const Expr &rule, KernelInfo &info,
                            std::string *error) {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  return bool(impl_->canonical(rule, info, error, false));
}

std::shared_ptr<const CpuKernel> Compiler::compileCpu(const Expr &rule,
                                                      std::string *error) {
  return impl_->compile(rule, error);
}

bool Compiler::emit(const Expr &rule, Stage stage, std::string &out,
                    std::string *error) {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  out.clear();
  if (stage == Stage::AST) {
    out = dumpTree(rule);
    return true;
  }
  KernelInfo info;
  bool raw = stage == Stage::MLIR;
  OwningOpRef<ModuleOp> module = impl_->canonical(rule, info, error, raw);
  if (!module)
    return false;
  if (stage == Stage::Canonical) {
    out = info.canonical + "\n";
    return true;
  }
  if (raw || stage == Stage::CanonicalMLIR) {
    llvm::raw_string_ostream os(out);
    module->print(os);
    return true;
  }
  std::string object;
  if (!impl_->codegen(*module, object, error, stage, &out))
    return false;
  if (stage == Stage::Obj)
    out = std::move(object);
  return true;
}

std::string Compiler::targetId() const { return impl_->targetId(); }

Compiler::Stats Compiler::stats() const { return impl_->stats; }

} // namespace nos
