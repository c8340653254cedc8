//===- Passes.h - Passes of the nos dialect ---------------------*- C++ -*-===//
//
// Pass constructors and registration, generated from Passes.td, plus the
// pattern sets other pipelines reuse.
//
//===----------------------------------------------------------------------===//
#ifndef NOS_DIALECT_PASSES_H
#define NOS_DIALECT_PASSES_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/Pass/Pass.h"
#include "nos/Dialect/NOSOps.h"

namespace mlir::nos {

#define GEN_PASS_DECL
#include "nos/Dialect/Passes.h.inc"

/// Rewrites math ops the kernel uses into vectorizable arith code.
void populateExpandMathPatterns(RewritePatternSet &patterns);

#define GEN_PASS_REGISTRATION
#include "nos/Dialect/Passes.h.inc"

} // namespace mlir::nos

#endif // NOS_DIALECT_PASSES_H
