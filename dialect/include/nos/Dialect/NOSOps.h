//===- NOSOps.h - Operations of the nos dialect -----------------*- C++ -*-===//
//
// Declares the ops generated from NOSOps.td and the small queries on them
// that the passes and the compiler share.
//
//===----------------------------------------------------------------------===//
#ifndef NOS_DIALECT_NOSOPS_H
#define NOS_DIALECT_NOSOPS_H

#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/Interfaces/ControlFlowInterfaces.h"
#include "mlir/Interfaces/InferTypeOpInterface.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "nos/Dialect/NOSDialect.h"
#include "nos/Function.h"
#include "nos/Operand.h"

#include <optional>

namespace mlir::nos {
// The generated function ops verify their literal and fold through these
// (NOSOps.cpp, Folds.cpp).
LogicalResult verifyBound(Operation *op, double c);
LogicalResult verifyProbability(Operation *op, double p);
} // namespace mlir::nos

#define GET_OP_CLASSES
#include "nos/Dialect/NOSOps.h.inc"

namespace mlir::nos {

/// Identities and constant folding of a function op (Folds.cpp), the
/// folder of every op of nos/Functions.def.
template <typename Op>
OpFoldResult foldFunction(Op op, typename Op::FoldAdaptor adaptor);

/// True for the ops that draw random numbers (noise, anoise, drop).
bool isStochastic(Operation *op);

/// The operand a leaf op stands for; nothing for any other op.
std::optional<::nos::Operand> operandOf(Operation *op);
/// Creates the leaf op of `operand`; one that draws random numbers takes
/// Philox stream `stream`, the others ignore it.
Operation *createOperandOp(OpBuilder &b, Location loc, ::nos::Operand operand,
                           uint32_t stream);

/// The function a function op computes; nothing for any other op.
std::optional<::nos::UnaryFn> unaryFnOf(Operation *op);
std::optional<::nos::BinaryFn> binaryFnOf(Operation *op);
/// The literal parameter of a unary function op (c, p), or 0.
double unaryParamOf(Operation *op);
/// Creates the op of `fn` on x; `param` is its literal (if it takes one),
/// `stream` its Philox stream (if it draws random numbers).
Operation *createUnaryOp(OpBuilder &b, Location loc, ::nos::UnaryFn fn, Value x,
                         double param, uint32_t stream);
Operation *createBinaryOp(OpBuilder &b, Location loc, ::nos::BinaryFn fn,
                          Value lhs, Value rhs);

/// What a rule needs at run time, in the order the kernel ABI uses. Computed
/// by one pre-order walk from the yield, so the compiler, the lowering and the
/// reference interpreter (on the canonical text) agree.
struct KernelLayout {
  bool usesM = false, usesV = false, usesGamma = false;
  SmallVector<EmaOp> emas;            // one state slot each, after m, v, gamma
  SmallVector<Operation *> schedules; // ld/cd/rd, deduplicated by CSE
  SmallVector<Operation *> stochastic;
  SmallVector<std::string> stateSlotNames() const;
  unsigned numStateSlots() const;
  /// Slot index of the first ema.
  unsigned firstEmaSlot() const;
};
KernelLayout computeKernelLayout(RuleOp rule);

} // namespace mlir::nos

#endif // NOS_DIALECT_NOSOPS_H
