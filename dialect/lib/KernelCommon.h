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

/// The fields of the ABI structs in declaration order, each enumerator with
/// the C member it names; KernelCommon.cpp checks each list against the C
/// struct at compile time and builds the LLVM struct types from it.
// clang-format off
#define NOS_ARGS_FIELDS(X)                                                     \
  X(Lr, lr)                                                                    \
  X(Beta1, beta1) X(Beta2, beta2) X(Beta3, beta3)                              \
  X(Eps, eps) X(Delta, delta)                                                  \
  X(Bc1, bc1) X(Bc2, bc2) X(Bc3, bc3)                                          \
  X(Omb1, omb1) X(Omb2, omb2) X(Omb3, omb3)                                    \
  X(AStd, anoise_std) X(WScale, wscale) X(GScale, gscale)                      \
  X(Sched, sched)                                                              \
  X(Step, step) X(Total, total_steps) X(Seed, seed)
#define NOS_TENSOR_FIELDS(X)                                                   \
  X(TensorW, w) X(TensorG, g) X(TensorState, state) X(TensorN, n)              \
  X(TensorRngBase, rng_base)
#define NOS_CHUNK_FIELDS(X)                                                    \
  X(ChunkTensor, tensor) X(ChunkBegin, begin) X(ChunkEnd, end)
// clang-format on

#define NOS_ENUMERATOR(Name, member) Name,
/// Field numbers of NosArgs, NosTensor and NosChunk.
enum ArgField { NOS_ARGS_FIELDS(NOS_ENUMERATOR) };
enum TensorField { NOS_TENSOR_FIELDS(NOS_ENUMERATOR) };
enum ChunkField { NOS_CHUNK_FIELDS(NOS_ENUMERATOR) };
#undef NOS_ENUMERATOR

/// The GPU kernel's parameter number of NosArgs field `f`: table, chunks and
/// chunk count come first, then every field, arrays spelled out.
unsigned gpuParamOf(ArgField f);
/// The GPU kernel's parameter types, NOS_GPU_PARAMS of them.
SmallVector<Type> gpuParamTypes(const AbiTypes &t);

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
