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
  return isa<NoiseOp, ANoiseOp, DropOp>(op);
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
  if (layout.numStateSlots() > NOS_MAX_STATE)
    return emitOpError("needs ")
           << layout.numStateSlots() << " state buffers; at most "
           << NOS_MAX_STATE << " are supported";
  if (layout.schedules.size() > NOS_MAX_SCHEDULES)
    return emitOpError("uses ")
           << layout.schedules.size() << " distinct schedules; at most "
           << NOS_MAX_SCHEDULES << " are supported";
  return success();
}

template <typename Op> static LogicalResult verifyPeriod(Op op) {
  if (!(op.getN().convertToDouble() > 0))
    return op.emitOpError("period n must be > 0");
  return success();
}
LogicalResult CDOp::verify() { return verifyPeriod(*this); }
LogicalResult RDOp::verify() { return verifyPeriod(*this); }

LogicalResult ClipOp::verify() {
  if (!(getC().convertToDouble() > 0))
    return emitOpError("bound c must be > 0");
  return success();
}

LogicalResult DropOp::verify() {
  double p = getP().convertToDouble();
  if (!(p >= 0 && p < 1))
    return emitOpError("drop probability p must be in [0, 1)");
  return success();
}

LogicalResult EmaOp::verify() {
  double beta = getBeta().convertToDouble();
  if (!(beta >= 0 && beta < 1))
    return emitOpError("beta must be in [0, 1)");
  return success();
}
