//===- NOSOps.cpp - Operations of the nos dialect -------------------------===//
//
// Verifiers: each states the literal ranges of docs/language.md, and the rule
// verifier the limits of the kernel ABI (state slots, schedules).
//
//===----------------------------------------------------------------------===//
#include "nos/Dialect/NOSOps.h"

#include "nos/KernelABI.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/OpImplementation.h"

using namespace mlir;
using namespace mlir::nos;

#define GET_OP_CLASSES
#include "nos/Dialect/NOSOps.cpp.inc"

bool mlir::nos::isStochastic(Operation *op) {
  if (std::optional<::nos::Operand> operand = operandOf(op))
    return ::nos::operandInfo(*operand).random;
  if (std::optional<::nos::UnaryFn> fn = unaryFnOf(op))
    return ::nos::unaryInfo(*fn).param == ::nos::FnParam::Probability;
  return false;
}

std::optional<::nos::UnaryFn> mlir::nos::unaryFnOf(Operation *op) {
#define NOS_UNARY(Name, Mnemonic, Spelling, Param, TokenParams, Summary)       \
  if (isa<Name##Op>(op))                                                       \
    return ::nos::UnaryFn::Name;
#define NOS_BINARY(Name, Mnemonic, Spelling, Syntax, Kind, Summary)
#include "nos/Functions.def"
  return std::nullopt;
}

std::optional<::nos::BinaryFn> mlir::nos::binaryFnOf(Operation *op) {
#define NOS_UNARY(Name, Mnemonic, Spelling, Param, TokenParams, Summary)
#define NOS_BINARY(Name, Mnemonic, Spelling, Syntax, Kind, Summary)            \
  if (isa<Name##Op>(op))                                                       \
    return ::nos::BinaryFn::Name;
#include "nos/Functions.def"
  return std::nullopt;
}

double mlir::nos::unaryParamOf(Operation *op) {
  for (const char *name : {"c", "p"})
    if (auto attr = op->getAttrOfType<FloatAttr>(name))
      return attr.getValueAsDouble();
  return 0;
}

namespace {
// One per Param of Functions.def.
template <typename OpT>
Operation *createNoParam(OpBuilder &b, Location loc, Value x, double,
                         uint32_t) {
  return b.create<OpT>(loc, x);
}
template <typename OpT>
Operation *createBound(OpBuilder &b, Location loc, Value x, double c,
                       uint32_t) {
  return b.create<OpT>(loc, x, b.getF64FloatAttr(c));
}
template <typename OpT>
Operation *createProbability(OpBuilder &b, Location loc, Value x, double p,
                             uint32_t stream) {
  return b.create<OpT>(loc, x, b.getF64FloatAttr(p),
                       b.getI32IntegerAttr(stream));
}
} // namespace

Operation *mlir::nos::createUnaryOp(OpBuilder &b, Location loc,
                                    ::nos::UnaryFn fn, Value x, double param,
                                    uint32_t stream) {
  switch (fn) {
#define NOS_UNARY(Name, Mnemonic, Spelling, Param, TokenParams, Summary)       \
  case ::nos::UnaryFn::Name:                                                   \
    return create##Param<Name##Op>(b, loc, x, param, stream);
#define NOS_BINARY(Name, Mnemonic, Spelling, Syntax, Kind, Summary)
#include "nos/Functions.def"
  }
  llvm_unreachable("unknown unary function");
}

Operation *mlir::nos::createBinaryOp(OpBuilder &b, Location loc,
                                     ::nos::BinaryFn fn, Value lhs, Value rhs) {
  switch (fn) {
#define NOS_UNARY(Name, Mnemonic, Spelling, Param, TokenParams, Summary)
#define NOS_BINARY(Name, Mnemonic, Spelling, Syntax, Kind, Summary)            \
  case ::nos::BinaryFn::Name:                                                  \
    return b.create<Name##Op>(loc, lhs, rhs);
#include "nos/Functions.def"
  }
  llvm_unreachable("unknown binary function");
}

std::optional<::nos::Operand> mlir::nos::operandOf(Operation *op) {
#define NOS_OPERAND(Name, Spelling, Kind, Reads, Token, Summary)               \
  if (isa<Name##Op>(op))                                                       \
    return ::nos::Operand::Name;
#include "nos/Operands.def"
  return std::nullopt;
}

namespace {
// One per Kind of Operands.def.
template <typename OpT>
Operation *createLeaf(OpBuilder &b, Location loc, uint32_t) {
  return b.create<OpT>(loc);
}
template <typename OpT>
Operation *createStochasticLeaf(OpBuilder &b, Location loc, uint32_t stream) {
  return b.create<OpT>(loc, stream);
}
} // namespace

Operation *mlir::nos::createOperandOp(OpBuilder &b, Location loc,
                                      ::nos::Operand operand, uint32_t stream) {
  switch (operand) {
#define NOS_OPERAND(Name, Spelling, Kind, Reads, Token, Summary)               \
  case ::nos::Operand::Name:                                                   \
    return create##Kind<Name##Op>(b, loc, stream);
#include "nos/Operands.def"
  }
  llvm_unreachable("unknown operand");
}

Value RuleOp::getUpdate() {
  return cast<YieldOp>(getBody().front().getTerminator()).getUpdate();
}

LogicalResult RuleOp::verifyRegions() {
  Block &block = getBody().front();
  if (block.getNumArguments() != 0)
    return emitOpError("body must take no arguments");
  for (Operation &op : block)
    if (op.getDialect() != getOperation()->getDialect())
      return op.emitOpError("is not allowed in a nos.rule");
  KernelLayout layout = computeKernelLayout(*this);
  // Errors point at the first ema or schedule past the limit, so the user
  // sees which one to drop.
  if (layout.numStateSlots() > NOS_MAX_STATE)
    return layout.emas[NOS_MAX_STATE - layout.firstEmaSlot()].emitOpError(
               "would be state buffer ")
           << NOS_MAX_STATE + 1 << " of " << layout.numStateSlots()
           << "; at most " << NOS_MAX_STATE << " are supported";
  if (layout.schedules.size() > NOS_MAX_SCHEDULES)
    return layout.schedules[NOS_MAX_SCHEDULES]->emitOpError(
               "would be distinct schedule ")
           << NOS_MAX_SCHEDULES + 1 << " of " << layout.schedules.size()
           << "; at most " << NOS_MAX_SCHEDULES << " are supported";
  return success();
}

template <typename Op> static LogicalResult verifyPeriod(Op op) {
  if (!(op.getN().convertToDouble() > 0))
    return op.emitOpError("period n must be > 0");
  return success();
}
LogicalResult CDOp::verify() { return verifyPeriod(*this); }
LogicalResult RDOp::verify() { return verifyPeriod(*this); }

LogicalResult mlir::nos::verifyBound(Operation *op, double c) {
  if (!(c > 0))
    return op->emitOpError("bound c must be > 0");
  return success();
}

LogicalResult mlir::nos::verifyProbability(Operation *op, double p) {
  if (!(p >= 0 && p < 1))
    return op->emitOpError("probability p must be in [0, 1)");
  return success();
}

LogicalResult EmaOp::verify() {
  double beta = getBeta().convertToDouble();
  if (!(beta >= 0 && beta < 1))
    return emitOpError("beta must be in [0, 1)");
  return success();
}
