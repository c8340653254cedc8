//===- Bridge.h - Between the rule AST and the nos dialect ------*- C++ -*-===//
//
// Building a nos.rule from the AST, and raising a canonical nos.rule back to
// an AST so it can be printed as the canonical rule text.
//
//===----------------------------------------------------------------------===//
#ifndef NOS_LIB_COMPILER_BRIDGE_H
#define NOS_LIB_COMPILER_BRIDGE_H

#include "nos/AST.h"
#include "nos/Dialect/NOSOps.h"

namespace nos {

/// A module holding `nos.rule @name` computing `rule`. Random ops are
/// numbered in the source's pre-order until nos-number-streams renumbers
/// them in the canonical one.
mlir::OwningOpRef<mlir::ModuleOp>
buildModule(mlir::MLIRContext &ctx, const Expr &rule, llvm::StringRef name);

/// The AST of a rule's update (shared values become shared subtrees).
ExprPtr raiseRule(mlir::nos::RuleOp rule);

} // namespace nos

#endif // NOS_LIB_COMPILER_BRIDGE_H
