//===- NOSDialect.td - The nos dialect ---------------------*- tablegen -*-===//
//
// The dialect that represents one update rule as an SSA expression over
// per-element f32 values. State (running averages) is implicit: an op such as
// nos.m reads the updated, bias-corrected average, and the lowering decides
// the buffers from the ops that remain after canonicalization.
//
//===----------------------------------------------------------------------===//
#ifndef NOS_DIALECT_TD
#define NOS_DIALECT_TD

include "mlir/IR/OpBase.td"

def NOS_Dialect : Dialect {
  let name = "nos";
  let summary = "Optimizer update rules of Neural Optimizer Search";
  let description = [{
    Each `nos.rule` holds one expression computing the update U of one
    parameter element; `w -= lr * U` and the state updates are implied.
  }];
  let cppNamespace = "::mlir::nos";
  let hasConstantMaterializer = 1;
}

class NOS_Op<string mnemonic, list<Trait> traits = []>
    : Op<NOS_Dialect, mnemonic, traits>;

#endif // NOS_DIALECT_TD
