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
#include "LoweringHash.h"
#include "Pipeline.h"

#include "nos/Builtins.h"
#include "nos/KernelABI.h"
#include "nos/Parser.h"
#include "nos/Printer.h"

#include "mlir/IR/Diagnostics.h"
#include "llvm/Config/llvm-config.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/xxhash.h"
#include "llvm/TargetParser/Host.h"

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <list>
#include <map>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <unordered_map>

using namespace mlir;

namespace nos {

#define NOS_STR(x) #x
#define NOS_XSTR(x) NOS_STR(x)
// The project version (CMake), KernelABI.h's ABI number and the hash of the
// lowering's sources: all are part of every cache key.
const char *compilerVersion() {
  return "nos-" NOS_PROJECT_VERSION
         "+abi" NOS_XSTR(NOS_ABI_VERSION) "+lowering." NOS_LOWERING_HASH;
}
#undef NOS_XSTR
#undef NOS_STR

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

/// Where libdevice is looked for when the options name no toolkit.
static std::string defaultCudaToolkit() {
  for (const char *var : {"CUDA_HOME", "CUDA_PATH"})
    if (const char *value = std::getenv(var); value && *value)
      return value;
  return llvm::sys::fs::is_directory("/usr/local/cuda") ? "/usr/local/cuda"
                                                        : "";
}

/// Collects diagnostics as "line:col: error: message" for the caller. The
/// context is shared by threads that canonicalize and compile at once:
/// another thread's diagnostics go on to that thread's collector.
class DiagnosticCollector {
public:
  explicit DiagnosticCollector(MLIRContext &ctx)
      : owner(std::this_thread::get_id()),
        handler(&ctx, [this](mlir::Diagnostic &diag) {
          if (std::this_thread::get_id() != owner)
            return failure();
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
  std::thread::id owner;
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
    if (options.cudaToolkit.empty())
      options.cudaToolkit = defaultCudaToolkit();
    cpuTarget = makeTargetId();
  }

  /// Builds and canonicalizes; fills `info`. Null module on error.
  OwningOpRef<ModuleOp> canonical(const Expr &rule, KernelInfo &info,
                                  std::string *error, bool stopBefore) {
    DiagnosticCollector diags(*context);
    OwningOpRef<ModuleOp> module = buildModule(*context, rule, "nos_rule");
    if (!stopBefore)
      ++canonicalizations;
    if (failed(module->verify()) ||
        (!stopBefore && failed(canonicalizeModule(*module)))) {
      setError(error, diags.take());
      return nullptr;
    }
    if (stopBefore)
      return module;
    auto ruleOp = *module->getOps<mlir::nos::RuleOp>().begin();
    info.canonical = printRule(*raiseRule(ruleOp));
    // The canonical text is the rule's identity, parsed again by the check,
    // the store and the search, so it must itself be a rule the parser
    // takes: it can be longer than the input, and a long chain mixing + and
    // - comes out parenthesised, one level per run of one sign.
    ParseResult back = parseRule(info.canonical);
    if (!back) {
      setError(error, "the rule's canonical form does not parse back: " +
                          back.error.str());
      return nullptr;
    }
    info.tree = back.expr;
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
    std::lock_guard<std::mutex> lock(targetMutex);
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

  /// Lowers a canonical module to PTX, or prints a GPU stage into *text.
  bool codegenGpu(ModuleOp module, std::string &ptx, std::string *error,
                  Stage stopAt = Stage::Ptx, std::string *text = nullptr) {
    DiagnosticCollector diags(*context);
    GpuTarget target = gpuTarget();
    auto print = [&] {
      llvm::raw_string_ostream os(*text);
      module.print(os);
      return true;
    };
    if (failed(lowerToGpuKernel(module, target))) {
      setError(error, diags.take());
      return false;
    }
    if (stopAt == Stage::GpuLowered)
      return print();
    if (failed(lowerToNVVM(module, target))) {
      setError(error, diags.take());
      return false;
    }
    if (stopAt == Stage::Nvvm)
      return print();
    if (failed(serializeToPtx(module, target, ptx))) {
      setError(error, "PTX generation failed: " + diags.take());
      return false;
    }
    return true;
  }

  GpuTarget gpuTarget() const {
    GpuTarget target;
    target.chip = options.gpuChip;
    target.features = options.gpuFeatures;
    target.toolkitPath = options.cudaToolkit;
    target.vectorWidth = options.gpuVectorWidth;
    return target;
  }

  std::string diskKey(const KernelInfo &info, const std::string &target) const {
    std::string material = std::string(compilerVersion()) + "\n" +
                           info.canonical + "\n" + target + "\nf32";
    return hex64(llvm::xxh3_64bits(material));
  }

  /// Fixed for the Compiler's life, and asked on every lookup: the host
  /// CPU's name costs ~20 us where cpuid traps to a hypervisor.
  const std::string &targetId() const { return cpuTarget; }

  /// LLVM's own version too: a point release may generate other code for
  /// the same IR, and what a kernel computes keys the level-results cache.
  std::string makeTargetId() const {
    return "llvm" LLVM_VERSION_STRING ":" + llvm::sys::getProcessTriple() +
           ":" + llvm::sys::getHostCPUName().str() + ":w" +
           std::to_string(options.vectorWidth) + ":O" +
           std::to_string(options.optLevel) + ":IR" +
           std::to_string(options.irOptLevel);
  }

  std::string gpuTargetId() const {
    return "nvptx64-nvidia-cuda:" + options.gpuChip + ":" +
           options.gpuFeatures + ":w" + std::to_string(options.gpuVectorWidth);
  }

  /// Memory caches of one target: by spelling (skips MLIR entirely, ~1 us)
  /// and by canonical form (different spellings of one rule share a
  /// kernel), the latter least-recently-used first out.
  /// Canonicalized IR by spelling, from canonicalize(), waiting for the
  /// compile that usually follows (the search canonicalizes every candidate
  /// to deduplicate it, then compiles the new ones). Bounded: a spelling
  /// that falls out only costs one more canonicalization.
  struct Canonicalized {
    OwningOpRef<ModuleOp> module;
    KernelInfo info;
  };
  static constexpr size_t kPendingModules = 256;

  bool canonicalizeAndKeep(const Expr &rule, KernelInfo &info,
                           std::string *error) {
    OwningOpRef<ModuleOp> module = canonical(rule, info, error, false);
    if (!module)
      return false;
    std::string spelling = printRule(rule);
    std::lock_guard<std::mutex> lock(mutex);
    if (pending
            .insert_or_assign(spelling, Canonicalized{std::move(module), info})
            .second)
      pendingOrder.push_back(spelling);
    while (pending.size() > kPendingModules) {
      pending.erase(pendingOrder.front());
      pendingOrder.pop_front();
    }
    return true;
  }

  /// The canonicalized IR of `rule`: kept by canonicalize() (and taken from
  /// there, since code generation consumes it) or made now.
  OwningOpRef<ModuleOp> takeCanonical(const Expr &rule,
                                      const std::string &spelling,
                                      KernelInfo &info, std::string *error) {
    {
      std::lock_guard<std::mutex> lock(mutex);
      if (auto it = pending.find(spelling); it != pending.end()) {
        OwningOpRef<ModuleOp> module = std::move(it->second.module);
        info = std::move(it->second.info);
        pending.erase(it);
        pendingOrder.remove(spelling);
        return module;
      }
    }
    return canonical(rule, info, error, false);
  }

  template <typename K> struct Cache {
    struct Entry {
      std::shared_ptr<const K> kernel;
      std::list<std::string>::iterator age;
    };
    std::map<std::string, Entry> byCanonical;
    std::list<std::string> lru; // most recently used first
    std::unordered_map<std::string, std::string> bySpelling; // -> canonical

    std::shared_ptr<const K> find(const std::string &canonical) {
      auto it = byCanonical.find(canonical);
      if (it == byCanonical.end())
        return nullptr;
      lru.splice(lru.begin(), lru, it->second.age);
      return it->second.kernel;
    }
    /// Adds a kernel; returns how many old ones it pushed out.
    unsigned add(const std::string &canonical, std::shared_ptr<const K> k,
                 size_t limit) {
      lru.push_front(canonical);
      byCanonical[canonical] = {std::move(k), lru.begin()};
      unsigned evicted = 0;
      for (; limit > 0 && byCanonical.size() > limit; ++evicted) {
        byCanonical.erase(lru.back());
        lru.pop_back();
      }
      if (limit > 0 && bySpelling.size() > 4 * limit)
        bySpelling.clear(); // stale spellings only cost a canonicalization
      return evicted;
    }
  };

  /// Libraries of CPU kernels nobody holds any more. A kernel's deleter may
  /// run on any thread, also inside compileCached, so it only leaves the
  /// name here; compileCached unloads them under its lock.
  struct Graveyard {
    std::mutex mutex;
    std::vector<std::string> libraries;
  };
  /// Deleter of every kernel: CPU kernels send their library to the
  /// graveyard.
  struct Retire {
    std::shared_ptr<Graveyard> graveyard;
    std::string library; // set once the kernel is loaded
    template <typename K> void operator()(K *kernel) const {
      if (!library.empty()) {
        std::lock_guard<std::mutex> lock(graveyard->mutex);
        graveyard->libraries.push_back(library);
      }
      delete kernel;
    }
  };

  void buryDead() {
    std::vector<std::string> dead;
    {
      std::lock_guard<std::mutex> lock(graveyard->mutex);
      dead.swap(graveyard->libraries);
    }
    for (const std::string &library : dead)
      jit->unload(library);
  }

  /// The cache walk both targets share. `build` turns a canonical module
  /// into the kernel's code (object file or PTX); `finish` makes it callable
  /// and names the JIT library it was loaded into, if any. The caches are
  /// under `mutex`, code generation under `codegenMutex` only, so a search
  /// canonicalizes its next proposals while a worker compiles.
  template <typename K, typename Build, typename Finish>
  std::shared_ptr<const K>
  compileCached(const Expr &rule, std::string *error, Cache<K> &cache,
                const std::string &target, Build build, Finish finish) {
    std::string spelling = printRule(rule);
    if (auto kernel = findBySpelling(cache, spelling))
      return kernel;
    auto start = std::chrono::steady_clock::now();
    KernelInfo info;
    OwningOpRef<ModuleOp> module = takeCanonical(rule, spelling, info, error);
    if (!module)
      return nullptr;
    std::unique_lock<std::mutex> lock(mutex);
    std::shared_ptr<const K> found = cache.find(info.canonical);
    if (found) {
      ++stats.memoryHits;
    } else {
      std::shared_ptr<K> kernel(new K, Retire{graveyard, {}});
      kernel->info = info;
      std::string code;
      std::string key = diskKey(info, target);
      if (loadFromDisk(key, info, code)) {
        kernel->origin = "disk";
        ++stats.diskHits;
      } else {
        lock.unlock();
        bool built;
        {
          std::lock_guard<std::mutex> codegenLock(codegenMutex);
          built = build(*module, code, error);
        }
        lock.lock();
        if (!built)
          return nullptr;
        storeOnDisk(key, info, code);
        kernel->origin = "compiled";
        ++stats.compiled;
      }
      // Another thread may have made the same kernel meanwhile: one wins.
      if (auto other = cache.find(info.canonical))
        return other;
      std::string library;
      if (!finish(*kernel, std::move(code), library, error))
        return nullptr;
      std::get_deleter<Retire>(kernel)->library = library;
      kernel->compileMs = std::chrono::duration<double, std::milli>(
                              std::chrono::steady_clock::now() - start)
                              .count();
      found = kernel;
      if (options.memoryCache)
        stats.evicted +=
            cache.add(info.canonical, found, options.memoryCacheKernels);
    }
    if (options.memoryCache)
      cache.bySpelling[spelling] = info.canonical;
    return found;
  }

  /// The kernel this spelling was compiled to, if it is still cached.
  template <typename K>
  std::shared_ptr<const K> findBySpelling(Cache<K> &cache,
                                          const std::string &spelling) {
    std::lock_guard<std::mutex> lock(mutex);
    buryDead();
    auto it = cache.bySpelling.find(spelling);
    if (it == cache.bySpelling.end())
      return nullptr;
    if (auto kernel = cache.find(it->second)) {
      ++stats.memoryHits;
      return kernel;
    }
    cache.bySpelling.erase(it); // its kernel was evicted
    return nullptr;
  }

  std::shared_ptr<const CpuKernel> compileCpu(const Expr &rule,
                                              std::string *error) {
    auto build = [&](ModuleOp module, std::string &object, std::string *err) {
      return codegen(module, object, err);
    };
    auto finish = [&](CpuKernel &kernel, std::string object,
                      std::string &library, std::string *err) {
      if (!ensureTarget(err))
        return false;
      std::string message;
      uint64_t address = jit->load(object, "nos_rule", library, message);
      if (!address) {
        setError(err, "cannot load the kernel: " + message);
        return false;
      }
      kernel.fn = reinterpret_cast<NosCpuKernelFn>(address);
      return true;
    };
    return compileCached(rule, error, cpuCache, targetId(), build, finish);
  }

  std::shared_ptr<const GpuKernel> compileGpu(const Expr &rule,
                                              std::string *error) {
    auto build = [&](ModuleOp module, std::string &ptx, std::string *err) {
      return codegenGpu(module, ptx, err);
    };
    auto finish = [](GpuKernel &kernel, std::string ptx, std::string &,
                     std::string *) {
      kernel.ptx = std::move(ptx);
      return true;
    };
    return compileCached(rule, error, gpuCache, gpuTargetId(), build, finish);
  }

  bool loadFromDisk(const std::string &key, const KernelInfo &info,
                    std::string &code) {
    if (!options.diskCache || disk.dir().empty())
      return false;
    std::string whyNot;
    std::optional<std::string> payload = disk.load(key, &whyNot);
    if (!payload)
      return false;
    KernelInfo stored;
    if (!decodePayload(*payload, stored, code) ||
        stored.canonical != info.canonical) {
      ++stats.diskRejected; // recompiled and overwritten
      return false;
    }
    return true;
  }

  void storeOnDisk(const std::string &key, const KernelInfo &info,
                   const std::string &code) {
    if (!options.diskCache || disk.dir().empty())
      return;
    std::string ignored; // a read-only cache only costs recompilation
    disk.store(key, encodePayload(info, code), &ignored);
  }

  CompileOptions options;
  std::string cpuTarget; // targetId()
  std::unique_ptr<MLIRContext> context;
  std::unique_ptr<llvm::TargetMachine> targetMachine;
  std::unique_ptr<Jit> jit;
  DiskCache disk;
  Cache<CpuKernel> cpuCache;
  Cache<GpuKernel> gpuCache;
  Stats stats;
  std::atomic<unsigned> canonicalizations{0};
  /// Caches, disk and JIT; code generation; the lazily made target.
  std::mutex mutex, codegenMutex, targetMutex;
  std::shared_ptr<Graveyard> graveyard = std::make_shared<Graveyard>();
  // After `context`, so the modules go before their context does.
  std::unordered_map<std::string, Canonicalized> pending;
  std::list<std::string> pendingOrder; // oldest first
};

Compiler::Compiler(CompileOptions options)
    : impl_(std::make_unique<Impl>(std::move(options))) {}
Compiler::~Compiler() = default;

Compiler &Compiler::shared() {
  static Compiler compiler;
  return compiler;
}

bool Compiler::canonicalize(const Expr &rule, KernelInfo &info,
                            std::string *error) {
  return impl_->canonicalizeAndKeep(rule, info, error);
}

CompiledRule Compiler::compileRule(const Expr &rule, std::string *error) {
  std::shared_ptr<const CpuKernel> kernel = compileCpu(rule, error);
  return kernel ? CompiledRule(std::move(kernel), *this) : CompiledRule();
}

CompiledRule CompiledRule::fromText(std::string_view nameOrRule,
                                    Compiler *compiler) {
  std::string text(nameOrRule);
  ParseResult parsed = parseRuleOrBuiltin(nameOrRule);
  if (!parsed)
    throw std::invalid_argument("bad rule '" + text +
                                "': " + parsed.error.str());
  std::string error;
  CompiledRule rule = (compiler ? *compiler : Compiler::shared())
                          .compileRule(*parsed.expr, &error);
  if (!rule)
    throw std::invalid_argument("cannot compile '" + text + "': " + error);
  return rule;
}

std::shared_ptr<const GpuKernel> CompiledRule::gpu() const {
  std::string error;
  auto kernel = compiler_->compileGpu(*info().tree, &error);
  if (!kernel)
    throw std::invalid_argument("cannot compile the GPU kernel of '" +
                                info().canonical + "': " + error);
  return kernel;
}

std::shared_ptr<const CpuKernel> Compiler::compileCpu(const Expr &rule,
                                                      std::string *error) {
  return impl_->compileCpu(rule, error);
}

std::shared_ptr<const GpuKernel> Compiler::compileGpu(const Expr &rule,
                                                      std::string *error) {
  return impl_->compileGpu(rule, error);
}

bool Compiler::emit(const Expr &rule, Stage stage, std::string &out,
                    std::string *error) {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  std::lock_guard<std::mutex> codegenLock(impl_->codegenMutex);
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
  std::string code;
  bool gpu =
      stage == Stage::GpuLowered || stage == Stage::Nvvm || stage == Stage::Ptx;
  if (gpu ? !impl_->codegenGpu(*module, code, error, stage, &out)
          : !impl_->codegen(*module, code, error, stage, &out))
    return false;
  if (stage == Stage::Obj || stage == Stage::Ptx)
    out = std::move(code);
  return true;
}

std::string Compiler::targetId() const { return impl_->targetId(); }

std::string Compiler::gpuTargetId() const { return impl_->gpuTargetId(); }

Compiler::Stats Compiler::stats() const {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  impl_->buryDead();
  Stats s = impl_->stats;
  s.canonicalizations = impl_->canonicalizations;
  s.loadedCpuKernels = impl_->jit ? unsigned(impl_->jit->loaded()) : 0;
  return s;
}

} // namespace nos
