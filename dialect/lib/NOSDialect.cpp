//===- NOSDialect.cpp - The nos dialect -----------------------------------===//
//
// Registers the ops and materializes folded constants as nos.constant.
//
//===----------------------------------------------------------------------===//
#include "nos/Dialect/NOSDialect.h"
#include "nos/Dialect/NOSOps.h"

#include "mlir/IR/Builders.h"

using namespace mlir;
using namespace mlir::nos;

#include "nos/Dialect/NOSOpsDialect.cpp.inc"

void NOSDialect::initialize() {
  addOperations<
#define GET_OP_LIST
#include "nos/Dialect/NOSOps.cpp.inc"
      >();
}

Operation *NOSDialect::materializeConstant(OpBuilder &builder, Attribute value,
                                           Type type, Location loc) {
  auto attr = dyn_cast<FloatAttr>(value);
  if (!attr || !type.isF32())
    return nullptr;
  return builder.create<ConstantOp>(
      loc, builder.getF64FloatAttr(attr.getValueAsDouble()));
}
