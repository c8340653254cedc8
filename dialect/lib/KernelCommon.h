//===- KernelCommon.h - ABI access shared by both lowerings ----*- C++ -*-===//
//
// The CPU and GPU lowerings read the same C structs (include/nos/KernelABI.h)
// and emit the same per-element body; only how elements are handed out
// differs. This header holds the struct types, field access and the layout
// attributes both lowerings record.
//
//===----------------------------------------------------------------------===//
#ifndef NOS_DIALECT_LIB_KERNELCOMMON_H
#define NOS_DIALECT_LIB_KERNELCOMMON_H

#include "ElementLowering.h"

#include "mlir/Dialect/LLVMIR/LLVMDialect.h"

namespace mlir::nos {

/// LLVM struct types mirroring NosTensor, NosArgs and NosChunk.
struct AbiTypes {
  Type ptr, i64, f32, tensor, args, chunk;
  explicit AbiTypes(MLIRContext *ctx);
};

/// Field numbers of NosArgs.
enum ArgField {
  Lr,
  Beta1,
  Beta2,
  Beta3,
  Eps,
  Delta,
  Bc1,
  Bc2,
  Bc3,
  Omb1,
  Omb2,
  Omb3,
  AStd,
  Sched,
  Step,
  Total,
  Seed
};

/// Builds loads of ABI fields and the element loops around them.
class KernelBuilder {
public:
  KernelBuilder(OpBuilder &b, Location loc, const AbiTypes &t)
      : b(b), loc(loc), t(t) {}

  /// Loads base->path (a GEP path below the struct) as `type`.
  Value field(Value base, Type structType, ArrayRef<LLVM::GEPArg> path,
              Type type);
  /// w, g and the state pointers of a NosTensor entry.
  TensorPointers loadPointers(Value entry, unsigned slots);
  /// Fills the derived i32 scalars (step and the two seed words).
  void splitStepAndSeed(KernelScalars &s, Value step, Value seed);
  /// for i in [lb, ub) step `step`: body(i), all i64.
  void loop(Value lb, Value ub, Value step, function_ref<void(Value)> body);
  Value constant(int64_t value);

private:
  OpBuilder &b;
  Location loc;
  const AbiTypes &t;
};

/// The runtime needs the layout; it travels as attributes to the compiler.
void recordLayout(Operation *kernel, const KernelLayout &layout);

} // namespace mlir::nos

#endif // NOS_DIALECT_LIB_KERNELCOMMON_H
