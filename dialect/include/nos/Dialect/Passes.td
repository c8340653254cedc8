//===- Passes.td - Passes of the nos dialect ---------------*- tablegen -*-===//
//
// Canonical numbering, the lowering to a per-element kernel and the math
// expansion that keeps the kernel loop vectorized.
//
//===----------------------------------------------------------------------===//
#ifndef NOS_PASSES_TD
#define NOS_PASSES_TD

include "mlir/Pass/PassBase.td"

def NOSNumberStreams : Pass<"nos-number-streams", "RuleOp"> {
  let summary = "Number random ops in pre-order of the canonical rule";
  let description = [{
    Assigns each nos.noise, nos.anoise and nos.drop the index of its first
    pre-order visit from the yield (node before operands, lhs before rhs), so
    the random streams follow the canonical form, whatever the spelling.
  }];
}

def ConvertNOSToKernel : Pass<"convert-nos-to-kernel", "ModuleOp"> {
  let summary = "Lower each nos.rule to a fused multi-tensor kernel";
  let description = [{
    Replaces `nos.rule @R` by `func.func @R(%table, %count, %args)` following
    include/nos/KernelABI.h: a loop over the tensor table, then one vectorized
    loop over the elements (a partial last chunk goes through stack
    buffers, so the body is emitted once), each updating the rule's state,
    computing U in arith/math ops and storing w - lr * U. Records the state
    layout and schedules on the function as attributes.
  }];
  let dependentDialects = ["mlir::arith::ArithDialect",
    "mlir::math::MathDialect", "mlir::scf::SCFDialect",
    "mlir::func::FuncDialect", "mlir::vector::VectorDialect",
    "mlir::LLVM::LLVMDialect"];
  let options = [
    Option<"vectorWidth", "vector-width", "unsigned", /*default=*/"8",
           "f32 lanes per vector iteration (1 disables the vector loop)">,
  ];
}

def ConvertNOSToGPU : Pass<"convert-nos-to-gpu", "ModuleOp"> {
  let summary = "Lower each nos.rule to a multi-tensor gpu.func kernel";
  let description = [{
    Replaces `nos.rule @R` by `gpu.func @R` in a `gpu.module @nos_kernels`
    following the GPU part of include/nos/KernelABI.h: blocks stride over a
    list of chunks, threads over the elements of a chunk, and the NosArgs
    fields arrive as scalar kernel parameters. The element body is the CPU
    kernel's scalar one. Marks the module as a GPU container module.
  }];
  let dependentDialects = ["mlir::arith::ArithDialect",
    "mlir::math::MathDialect", "mlir::scf::SCFDialect",
    "mlir::gpu::GPUDialect", "mlir::vector::VectorDialect",
    "mlir::LLVM::LLVMDialect"];
  let options = [
    Option<"vectorWidth", "vector-width", "unsigned", /*default=*/"1",
           "adjacent elements per thread and iteration (1: one)">,
  ];
}

def NOSExpandMath : Pass<"nos-expand-math", "ModuleOp"> {
  let summary = "Expand math ops into polynomial approximations";
  let description = [{
    Rewrites exp, log, cos and friends into arith ops so the loop stays
    vectorized instead of calling libm per element.
  }];
  let dependentDialects = ["mlir::arith::ArithDialect",
    "mlir::vector::VectorDialect", "mlir::math::MathDialect"];
}

#endif // NOS_PASSES_TD
