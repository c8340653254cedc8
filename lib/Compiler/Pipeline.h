//===- Pipeline.h - The compiler's MLIR and LLVM stages ---------*- C++ -*-===//
//
// Each stage of rule compilation as a function over a module, so the facade
// can run them in order and nosc can stop after any of them.
//
//===----------------------------------------------------------------------===//
#ifndef NOS_LIB_COMPILER_PIPELINE_H
#define NOS_LIB_COMPILER_PIPELINE_H

#include "mlir/IR/BuiltinOps.h"
#include "llvm/IR/Module.h"
#include "llvm/Target/TargetMachine.h"

#include <memory>
#include <string>

namespace nos {

/// An MLIR context with every dialect, interface and translation the
/// pipeline needs registered once (about 2 ms; create it once per process).
std::unique_ptr<mlir::MLIRContext> createContext();

/// Canonicalize + CSE to a fixpoint, then number the random streams.
mlir::LogicalResult canonicalizeModule(mlir::ModuleOp module);

/// nos -> kernel function in scf/arith/math/vector with math expanded.
mlir::LogicalResult lowerToKernel(mlir::ModuleOp module, unsigned width);

/// The NVPTX target of the GPU path.
struct GpuTarget {
  std::string chip = "sm_90";
  std::string features = "+ptx80";
  /// CUDA toolkit root, for libdevice; empty links none.
  std::string toolkitPath;
  /// Adjacent elements a thread updates per iteration.
  unsigned vectorWidth = 1;
};

/// nos -> gpu.module with a gpu.func kernel in scf/arith/math, math expanded.
mlir::LogicalResult lowerToGpuKernel(mlir::ModuleOp module,
                                     const GpuTarget &target);

/// gpu.module -> NVVM and LLVM dialects, with the #nvvm.target attached.
mlir::LogicalResult lowerToNVVM(mlir::ModuleOp module, const GpuTarget &target);

/// NVVM gpu.module -> PTX text (libdevice linked when calls need it).
mlir::LogicalResult serializeToPtx(mlir::ModuleOp module,
                                   const GpuTarget &target, std::string &ptx);

/// Kernel function -> LLVM dialect.
mlir::LogicalResult lowerToLLVMDialect(mlir::ModuleOp module);

/// LLVM dialect -> optimized LLVM IR for `tm`.
std::unique_ptr<llvm::Module>
translateAndOptimize(mlir::ModuleOp module, llvm::LLVMContext &llvmCtx,
                     llvm::TargetMachine &tm, int optLevel, std::string &error);

/// Machine code for `module` as an object file or assembly text.
bool emitMachineCode(llvm::Module &module, llvm::TargetMachine &tm,
                     bool assembly, std::string &out, std::string &error);

} // namespace nos

#endif // NOS_LIB_COMPILER_PIPELINE_H
