//===- Compiler.h - Rule strings to kernels (the facade) --------*- C++ -*-===//
//
// The one entry point from training code and tools into the compiler. It
// carries no MLIR, LLVM or torch types (a pimpl hides them), so torch code,
// built with exceptions, can include it; failures come back as messages.
//
//===----------------------------------------------------------------------===//
#ifndef NOS_COMPILER_H
#define NOS_COMPILER_H

#include "nos/AST.h"
#include "nos/Hyper.h"
#include "nos/KernelABI.h"

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace nos {

/// Stages `nosc --emit` can print.
enum class Stage {
  AST,
  MLIR,
  Canonical,
  CanonicalMLIR,
  Lowered,
  LLVM,
  Asm,
  Obj,
  GpuLowered, // gpu.module with the kernel, before NVVM
  Nvvm,       // NVVM and LLVM dialects
  Ptx
};

struct CompileOptions {
  /// LLVM code generation level (instruction selection, scheduling).
  int optLevel = 3;
  /// LLVM IR optimization level. Kernels arrive explicitly vectorized with
  /// invariants hoisted by MLIR, so 0 loses no speed here and saves ~10 ms
  /// of compile time (docs/benchmarks.md).
  int irOptLevel = 0;
  /// f32 lanes of the vector loop; 0 picks the host's widest (16 with
  /// AVX-512, 8 with AVX2, 4 otherwise).
  unsigned vectorWidth = 0;
  /// Disk cache folder; empty means $NOS_CACHE_DIR or ~/.cache/nos.
  std::string cacheDir;
  bool diskCache = true;
  /// Keep compiled kernels in memory (off only to measure cold compiles).
  bool memoryCache = true;
  /// Kernels the memory cache holds per target, least recently used out
  /// first; 0 means no limit. A kernel out of the cache and out of every
  /// caller's hands is unloaded from the JIT, so a search that compiles
  /// hundreds of thousands of rules runs in bounded memory (an evicted rule
  /// comes back from the disk cache in about a millisecond).
  size_t memoryCacheKernels = 256;
  /// NVPTX target of compileGpu: LLVM 19 knows up to sm_90; newer GPUs JIT
  /// the PTX in the driver.
  std::string gpuChip = "sm_90";
  std::string gpuFeatures = "+ptx80";
  /// Adjacent elements each GPU thread updates per loop iteration (1, 2 or
  /// 4): more independent loads in flight per thread.
  unsigned gpuVectorWidth = 1;
  /// CUDA toolkit root (for libdevice); empty means $CUDA_HOME, $CUDA_PATH
  /// or /usr/local/cuda, whichever exists first.
  std::string cudaToolkit;
};

/// What the runtime needs to call a kernel.
struct KernelInfo {
  std::string canonical;               // canonical rule text (the identity)
  std::string hash;                    // 16 hex digits of its structural hash
  std::vector<std::string> stateSlots; // ABI order
  std::vector<ScheduleSpec> schedules; // NosArgs::sched order
  bool usesRandom = false;
  /// The canonical form as a tree (the parse of `canonical`), so that code
  /// handed the kernel never parses its text again. Not stored on disk.
  ExprPtr tree;
};

struct CpuKernel {
  NosCpuKernelFn fn = nullptr;
  KernelInfo info;
  /// Where it came from: "compiled" or "disk". A memory-cache hit returns
  /// the kernel as it was first made, origin included.

  std::string origin;
  double compileMs = 0;
};

/// A GPU kernel as PTX text for the "nos_rule" entry (KernelABI.h).
struct GpuKernel {
  std::string ptx;
  KernelInfo info;
  std::string origin;
  double compileMs = 0;
};

class Compiler;

/// A rule checked and compiled once, handed down whole: nos::Optimizer, the
/// hurdle, the trainer, the Python extension and nosc take it instead of the
/// rule's text, so nothing below the first compile parses or canonicalizes
/// the rule again. Cheap to copy (the kernels are shared); an empty one
/// (default-constructed) holds no rule.
class CompiledRule {
public:
  CompiledRule() = default;
  CompiledRule(std::shared_ptr<const CpuKernel> cpu, Compiler &compiler)
      : cpu_(std::move(cpu)), compiler_(&compiler) {}
  /// A built-in name or rule text, parsed, canonicalized and compiled by
  /// `compiler` (Compiler::shared() when null). Throws std::invalid_argument
  /// naming the rule and the parser's or compiler's reason.
  static CompiledRule fromText(std::string_view nameOrRule,
                               Compiler *compiler = nullptr);

  explicit operator bool() const { return cpu_ != nullptr; }
  /// Canonical text, hash, state layout, schedules and canonical tree.
  const KernelInfo &info() const { return cpu_->info; }
  const std::shared_ptr<const CpuKernel> &cpu() const { return cpu_; }
  /// The GPU kernel of the same rule (compiled on the first call and cached
  /// by the compiler); throws std::invalid_argument on failure.
  std::shared_ptr<const GpuKernel> gpu() const;

private:
  std::shared_ptr<const CpuKernel> cpu_;
  Compiler *compiler_ = nullptr;
};

class Compiler {
public:
  explicit Compiler(CompileOptions options = {});
  ~Compiler();
  /// The process's compiler for training code (nos::Optimizer, the search):
  /// contexts and the JIT are expensive, and its memory cache is shared.
  static Compiler &shared();
  Compiler(const Compiler &) = delete;
  Compiler &operator=(const Compiler &) = delete;

  /// The canonical form of a rule (and its hash and layout) without code
  /// generation. Returns false and sets *error on failure. The canonicalized
  /// IR is kept for a while, so compiling the same rule next does not
  /// canonicalize it again.
  bool canonicalize(const Expr &rule, KernelInfo &info, std::string *error);

  /// compileCpu as the value that is handed down; empty on failure.
  CompiledRule compileRule(const Expr &rule, std::string *error);

  /// Compiles (or finds in the memory or disk cache) the CPU kernel of a
  /// rule. Its code stays loaded while the result (or the memory cache)
  /// holds it, and at most as long as the Compiler. Null on failure.
  std::shared_ptr<const CpuKernel> compileCpu(const Expr &rule,
                                              std::string *error);

  /// Compiles (or finds in the caches) the PTX of a rule's GPU kernel.
  std::shared_ptr<const GpuKernel> compileGpu(const Expr &rule,
                                              std::string *error);

  /// Prints one stage of the pipeline (Obj is the raw object file bytes).
  bool emit(const Expr &rule, Stage stage, std::string &out,
            std::string *error);

  /// Target description the cache key uses, e.g.
  /// "llvm19.1.7:x86_64-...:znver4:w16".
  std::string targetId() const;
  /// The same for the GPU target, e.g. "nvptx64-nvidia-cuda:sm_90:+ptx80".
  std::string gpuTargetId() const;

  /// Statistics: kernels compiled / loaded from disk / found in memory, and
  /// disk entries found invalid and recompiled.
  struct Stats {
    unsigned compiled = 0, diskHits = 0, memoryHits = 0, diskRejected = 0;
    /// Rules taken through the MLIR canonicalization pipeline (canonicalize,
    /// and every compile or lookup, which needs the canonical form first).
    unsigned canonicalizations = 0;
    /// Kernels dropped from the memory cache; CPU kernels whose code is
    /// loaded in the JIT now.
    unsigned evicted = 0, loadedCpuKernels = 0;
  };
  Stats stats() const;

  class Impl;

private:
  std::unique_ptr<Impl> impl_;
};

/// The stage named NAME (as `nosc --emit NAME` spells it); false if none is.
bool stageFromName(std::string_view name, Stage &stage);
/// Every stage name, comma-separated, in pipeline order.
std::string stageNames();

/// The compiler version that is part of every cache key.
const char *compilerVersion();

} // namespace nos

#endif // NOS_COMPILER_H
