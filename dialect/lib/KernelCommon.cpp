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

#include <algorithm>
#include <cstddef>
#include <type_traits>

using namespace mlir;
using namespace mlir::nos;

namespace {
/// A member of an ABI struct as the C compiler laid it out.
struct CField {
  size_t offset, elementSize, count;
  bool pointer, integer;
};

template <typename T> constexpr CField cfield(size_t offset) {
  using E = std::remove_all_extents_t<T>;
  return {offset, sizeof(E), std::is_array_v<T> ? std::extent_v<T> : 1,
          std::is_pointer_v<E>, std::is_integral_v<E>};
}

#define NOS_ARGS_CFIELD(Name, member)                                          \
  cfield<decltype(NosArgs::member)>(offsetof(NosArgs, member)),
#define NOS_TENSOR_CFIELD(Name, member)                                        \
  cfield<decltype(NosTensor::member)>(offsetof(NosTensor, member)),
#define NOS_CHUNK_CFIELD(Name, member)                                         \
  cfield<decltype(NosChunk::member)>(offsetof(NosChunk, member)),
constexpr CField kArgFields[] = {NOS_ARGS_FIELDS(NOS_ARGS_CFIELD)};
constexpr CField kTensorFields[] = {NOS_TENSOR_FIELDS(NOS_TENSOR_CFIELD)};
constexpr CField kChunkFields[] = {NOS_CHUNK_FIELDS(NOS_CHUNK_CFIELD)};

constexpr size_t alignUp(size_t x, size_t a) { return (x + a - 1) / a * a; }

/// True when `fields` are every member of a struct of `size` bytes, in
/// declaration order: each starts where natural alignment puts it after the
/// one before, and the last ends the struct. A member missing from a list,
/// or two listed out of order, breaks the chain.
template <size_t N>
constexpr bool coversInOrder(const CField (&fields)[N], size_t size) {
  size_t end = 0, align = 1;
  for (const CField &f : fields) {
    if (f.offset != alignUp(end, f.elementSize))
      return false;
    end = f.offset + f.elementSize * f.count;
    align = std::max(align, f.elementSize);
  }
  return alignUp(end, align) == size;
}
static_assert(coversInOrder(kArgFields, sizeof(NosArgs)),
              "NOS_ARGS_FIELDS must list every NosArgs member in order");
static_assert(coversInOrder(kTensorFields, sizeof(NosTensor)),
              "NOS_TENSOR_FIELDS must list every NosTensor member in order");
static_assert(coversInOrder(kChunkFields, sizeof(NosChunk)),
              "NOS_CHUNK_FIELDS must list every NosChunk member in order");

/// Table, chunk list, chunk count: the GPU parameters before NosArgs.
constexpr unsigned kFirstArg = 3;

constexpr unsigned gpuParamsBefore(size_t field) {
  unsigned n = kFirstArg;
  for (size_t i = 0; i < field; ++i)
    n += kArgFields[i].count;
  return n;
}
static_assert(gpuParamsBefore(std::size(kArgFields)) == NOS_GPU_PARAMS,
              "NOS_GPU_PARAMS must count every NosArgs scalar");

Type elementType(MLIRContext *ctx, const CField &f) {
  if (f.pointer)
    return LLVM::LLVMPointerType::get(ctx);
  if (f.integer)
    return IntegerType::get(ctx, 8 * f.elementSize);
  assert(f.elementSize == 4 && "the ABI's floats are f32");
  return Float32Type::get(ctx);
}

template <size_t N>
Type structType(MLIRContext *ctx, const CField (&fields)[N]) {
  SmallVector<Type> members;
  for (const CField &f : fields) {
    Type e = elementType(ctx, f);
    members.push_back(f.count > 1 ? LLVM::LLVMArrayType::get(e, f.count) : e);
  }
  return LLVM::LLVMStructType::getLiteral(ctx, members);
}
} // namespace

AbiTypes::AbiTypes(MLIRContext *ctx) {
  ptr = LLVM::LLVMPointerType::get(ctx);
  i64 = IntegerType::get(ctx, 64);
  f32 = Float32Type::get(ctx);
  tensor = structType(ctx, kTensorFields);
  args = structType(ctx, kArgFields);
  chunk = structType(ctx, kChunkFields);
}

unsigned mlir::nos::gpuParamOf(ArgField f) { return gpuParamsBefore(f); }

SmallVector<Type> mlir::nos::gpuParamTypes(const AbiTypes &t) {
  SmallVector<Type> types{t.ptr, t.ptr, t.i64};
  for (const CField &f : kArgFields)
    types.append(f.count, elementType(t.f32.getContext(), f));
  return types;
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
  p.w = field(entry, t.tensor, {TensorW}, t.ptr);
  p.g = field(entry, t.tensor, {TensorG}, t.ptr);
  for (unsigned k = 0; k < slots; ++k)
    p.state.push_back(field(entry, t.tensor, {TensorState, int32_t(k)}, t.ptr));
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
