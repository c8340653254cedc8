//===- KernelCommon.cpp - ABI access shared by the CPU and GPU kernels ----===//
//
// Struct types and loads for include/nos/KernelABI.h. Memory is addressed
// with llvm.getelementptr on the ABI structs rather than memrefs so that the
// kernels are callable from C (and cuLaunchKernel) with no descriptors.
//
//===----------------------------------------------------------------------===//
#include "KernelCommon.h"

#include "nos/KernelABI.h"

#include "mlir/Dialect/SCF/IR/SCF.h"

using namespace mlir;
using namespace mlir::nos;

AbiTypes::AbiTypes(MLIRContext *ctx) {
  ptr = LLVM::LLVMPointerType::get(ctx);
  i64 = IntegerType::get(ctx, 64);
  f32 = Float32Type::get(ctx);
  tensor = LLVM::LLVMStructType::getLiteral(
      ctx, {ptr, ptr, LLVM::LLVMArrayType::get(ptr, NOS_MAX_STATE), i64, i64});
  args = LLVM::LLVMStructType::getLiteral(
      ctx, {f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32,
            LLVM::LLVMArrayType::get(f32, NOS_MAX_SCHEDULES), i64, i64, i64});
  chunk = LLVM::LLVMStructType::getLiteral(ctx, {i64, i64, i64});
}

Value KernelBuilder::field(Value base, Type structType,
                           ArrayRef<LLVM::GEPArg> path, Type type) {
  SmallVector<LLVM::GEPArg> indices{0};
  indices.append(path.begin(), path.end());
  Value ptr = b.create<LLVM::GEPOp>(loc, t.ptr, structType, base, indices);
  return b.create<LLVM::LoadOp>(loc, type, ptr);
}

TensorPointers KernelBuilder::loadPointers(Value entry, unsigned slots) {
  TensorPointers p;
  p.w = field(entry, t.tensor, {0}, t.ptr);
  p.g = field(entry, t.tensor, {1}, t.ptr);
  for (unsigned k = 0; k < slots; ++k)
    p.state.push_back(field(entry, t.tensor, {2, int32_t(k)}, t.ptr));
  return p;
}

void KernelBuilder::splitStepAndSeed(KernelScalars &s, Value step, Value seed) {
  Type i32 = b.getI32Type();
  s.step32 = b.create<arith::TruncIOp>(loc, i32, step);
  s.seedLo = b.create<arith::TruncIOp>(loc, i32, seed);
  Value shift = b.create<arith::ConstantIntOp>(loc, 32, 64);
  s.seedHi = b.create<arith::TruncIOp>(
      loc, i32, b.create<arith::ShRUIOp>(loc, seed, shift));
}

void KernelBuilder::loop(Value lb, Value ub, Value step,
                         function_ref<void(Value)> body) {
  auto forOp = b.create<scf::ForOp>(loc, lb, ub, step);
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(forOp.getBody());
  body(forOp.getInductionVar());
}

Value KernelBuilder::constant(int64_t value) {
  return b.create<arith::ConstantIntOp>(loc, value, 64);
}

void mlir::nos::recordLayout(Operation *kernel, const KernelLayout &layout) {
  Builder b(kernel->getContext());
  SmallVector<Attribute> slots, schedules;
  for (const std::string &name : layout.stateSlotNames())
    slots.push_back(b.getStringAttr(name));
  for (Operation *op : layout.schedules) {
    double n = 0;
    if (auto cd = dyn_cast<CDOp>(op))
      n = cd.getN().convertToDouble();
    if (auto rd = dyn_cast<RDOp>(op))
      n = rd.getN().convertToDouble();
    std::string name = op->getName().stripDialect().str();
    schedules.push_back(
        b.getArrayAttr({b.getStringAttr(name), b.getF64FloatAttr(n)}));
  }
  kernel->setAttr("nos.state_slots", b.getArrayAttr(slots));
  kernel->setAttr("nos.schedules", b.getArrayAttr(schedules));
  kernel->setAttr("nos.uses_random", b.getBoolAttr(!layout.stochastic.empty()));
}
