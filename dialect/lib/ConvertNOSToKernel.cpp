//===- ConvertNOSToKernel.cpp - nos.rule to a multi-tensor kernel ---------===//
//
// Each nos.rule becomes func.func @R(%table: !llvm.ptr, %count: i64,
// %args: !llvm.ptr) following include/nos/KernelABI.h: a loop over the table,
// then per tensor a vector loop and a scalar tail over the elements. Memory is
// addressed with llvm.getelementptr on the ABI structs rather than memrefs so
// that the kernel is callable from C with no descriptors.
//
//===----------------------------------------------------------------------===//
#include "ElementLowering.h"

#include "nos/Dialect/Passes.h"
#include "nos/KernelABI.h"

#include "mlir/Dialect/SCF/IR/SCF.h"

namespace mlir::nos {
#define GEN_PASS_DEF_CONVERTNOSTOKERNEL
#include "nos/Dialect/Passes.h.inc"
} // namespace mlir::nos

using namespace mlir;
using namespace mlir::nos;

namespace {
/// LLVM struct types mirroring NosTensor and NosArgs.
struct AbiTypes {
  Type ptr, i64, f32, tensor, args;
  explicit AbiTypes(MLIRContext *ctx) {
    ptr = LLVM::LLVMPointerType::get(ctx);
    i64 = IntegerType::get(ctx, 64);
    f32 = Float32Type::get(ctx);
    tensor = LLVM::LLVMStructType::getLiteral(
        ctx,
        {ptr, ptr, LLVM::LLVMArrayType::get(ptr, NOS_MAX_STATE), i64, i64});
    args = LLVM::LLVMStructType::getLiteral(
        ctx, {f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32,
              LLVM::LLVMArrayType::get(f32, NOS_MAX_SCHEDULES), i64, i64, i64});
  }
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

class KernelBuilder {
public:
  KernelBuilder(OpBuilder &b, Location loc, const AbiTypes &t)
      : b(b), loc(loc), t(t) {}

  Value field(Value base, Type structType, ArrayRef<LLVM::GEPArg> path,
              Type type) {
    SmallVector<LLVM::GEPArg> indices{0};
    indices.append(path.begin(), path.end());
    Value ptr = b.create<LLVM::GEPOp>(loc, t.ptr, structType, base, indices);
    return b.create<LLVM::LoadOp>(loc, type, ptr);
  }

  Value argField(Value args, ArgField f, Type type) {
    return field(args, t.args, {int32_t(f)}, type);
  }

  KernelScalars loadScalars(Value args, const KernelLayout &layout) {
    KernelScalars s;
    s.lr = argField(args, Lr, t.f32);
    for (int k = 0; k < 3; ++k) {
      s.beta[k] = argField(args, ArgField(Beta1 + k), t.f32);
      s.bc[k] = argField(args, ArgField(Bc1 + k), t.f32);
      s.oneMinusBeta[k] = argField(args, ArgField(Omb1 + k), t.f32);
    }
    s.eps = argField(args, Eps, t.f32);
    s.delta = argField(args, Delta, t.f32);
    s.anoiseStd = argField(args, AStd, t.f32);
    for (size_t k = 0; k < layout.schedules.size(); ++k)
      s.sched.push_back(
          field(args, t.args, {int32_t(Sched), int32_t(k)}, t.f32));
    Type i32 = b.getI32Type();
    s.step32 = b.create<arith::TruncIOp>(loc, i32, argField(args, Step, t.i64));
    Value seed = argField(args, Seed, t.i64);
    s.seedLo = b.create<arith::TruncIOp>(loc, i32, seed);
    Value shift = b.create<arith::ConstantIntOp>(loc, 32, 64);
    s.seedHi = b.create<arith::TruncIOp>(
        loc, i32, b.create<arith::ShRUIOp>(loc, seed, shift));
    return s;
  }

  TensorPointers loadPointers(Value entry, unsigned slots) {
    TensorPointers p;
    p.w = field(entry, t.tensor, {0}, t.ptr);
    p.g = field(entry, t.tensor, {1}, t.ptr);
    for (unsigned k = 0; k < slots; ++k)
      p.state.push_back(field(entry, t.tensor, {2, int32_t(k)}, t.ptr));
    return p;
  }

  /// for i in [lb, ub) step: body(i).
  void loop(Value lb, Value ub, int64_t step, function_ref<void(Value)> body) {
    Value stepValue = b.create<arith::ConstantIntOp>(loc, step, 64);
    auto forOp = b.create<scf::ForOp>(loc, lb, ub, stepValue);
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(forOp.getBody());
    body(forOp.getInductionVar());
  }

private:
  OpBuilder &b;
  Location loc;
  const AbiTypes &t;
};

struct ConvertNOSToKernelPass
    : mlir::nos::impl::ConvertNOSToKernelBase<ConvertNOSToKernelPass> {
  using Base::Base;

  void runOnOperation() override {
    SmallVector<RuleOp> rules(getOperation().getOps<RuleOp>());
    for (RuleOp rule : rules)
      lowerRule(rule);
  }

  void lowerRule(RuleOp rule) {
    MLIRContext *ctx = &getContext();
    AbiTypes t(ctx);
    Location loc = rule.getLoc();
    OpBuilder b(rule);
    auto func = b.create<func::FuncOp>(
        loc, rule.getSymName(), b.getFunctionType({t.ptr, t.i64, t.ptr}, {}));
    KernelLayout layout = computeKernelLayout(rule);
    recordLayout(func, layout);
    b.setInsertionPointToStart(func.addEntryBlock());
    Value table = func.getArgument(0), count = func.getArgument(1);
    KernelBuilder kb(b, loc, t);
    KernelScalars scalars = kb.loadScalars(func.getArgument(2), layout);
    Value zero = b.create<arith::ConstantIntOp>(loc, 0, 64);
    kb.loop(zero, count, 1, [&](Value index) {
      Value entry = b.create<LLVM::GEPOp>(loc, t.ptr, t.tensor, table,
                                          ArrayRef<LLVM::GEPArg>{index});
      TensorPointers ptrs = kb.loadPointers(entry, layout.numStateSlots());
      Value n = kb.field(entry, t.tensor, {3}, t.i64);
      scalars.rngBase = kb.field(entry, t.tensor, {4}, t.i64);
      Value vectorEnd = zero;
      if (vectorWidth > 1) {
        Value lanes = b.create<arith::ConstantIntOp>(loc, vectorWidth, 64);
        Value rest = b.create<arith::RemSIOp>(loc, n, lanes);
        vectorEnd = b.create<arith::SubIOp>(loc, n, rest);
        kb.loop(zero, vectorEnd, vectorWidth, [&](Value i) {
          ElementEmitter(b, loc, vectorWidth, scalars, layout)
              .emit(rule, i, ptrs);
        });
      }
      kb.loop(vectorEnd, n, 1, [&](Value i) {
        ElementEmitter(b, loc, 1, scalars, layout).emit(rule, i, ptrs);
      });
    });
    b.create<func::ReturnOp>(loc);
    rule.erase();
  }

  /// The runtime needs the layout; it travels as attributes to the compiler.
  static void recordLayout(func::FuncOp func, const KernelLayout &layout) {
    Builder b(func.getContext());
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
    func->setAttr("nos.state_slots", b.getArrayAttr(slots));
    func->setAttr("nos.schedules", b.getArrayAttr(schedules));
    func->setAttr("nos.uses_random", b.getBoolAttr(!layout.stochastic.empty()));
  }
};
} // namespace
