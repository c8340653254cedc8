//===- NOSDialect.h - The nos dialect ---------------------------*- C++ -*-===//
//
// Declares the dialect class generated from NOSDialect.td.
//
//===----------------------------------------------------------------------===//
#ifndef NOS_DIALECT_NOSDIALECT_H
#define NOS_DIALECT_NOSDIALECT_H

#include "mlir/IR/Dialect.h"

#include "nos/Dialect/NOSOpsDialect.h.inc"

#endif // NOS_DIALECT_NOSDIALECT_H
