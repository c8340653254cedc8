//===- ConvertNOSToKernel.cpp - nos.rule to a multi-tensor CPU kernel -----===//
//
// Each nos.rule becomes func.func @R(%table: !llvm.ptr, %count: i64,
// %args: !llvm.ptr) following include/nos/KernelABI.h: a loop over the table,
// then per tensor a vector loop and a scalar tail over the elements.
//
//===----------------------------------------------------------------------===//
#include "KernelCommon.h"

#include "nos/Dialect/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"

namespace mlir::nos {
#define GEN_PASS_DEF_CONVERTNOSTOKERNEL
#include "nos/Dialect/Passes.h.inc"
} // namespace mlir::nos

using namespace mlir;
using namespace mlir::nos;

namespace {
/// Per-call scalars are loaded once from the NosArgs pointer.
KernelScalars loadScalars(KernelBuilder &kb, const AbiTypes &t, Value args,
                          const KernelLayout &layout) {
  auto arg = [&](ArgField f, Type type) {
    return kb.field(args, t.args, {int32_t(f)}, type);
  };
  KernelScalars s;
  s.lr = arg(Lr, t.f32);
  for (int k = 0; k < 3; ++k) {
    s.beta[k] = arg(ArgField(Beta1 + k), t.f32);
    s.bc[k] = arg(ArgField(Bc1 + k), t.f32);
    s.oneMinusBeta[k] = arg(ArgField(Omb1 + k), t.f32);
  }
  s.eps = arg(Eps, t.f32);
  s.delta = arg(Delta, t.f32);
  s.anoiseStd = arg(AStd, t.f32);
  s.wscale = arg(WScale, t.f32);
  s.gscale = arg(GScale, t.f32);
  for (size_t k = 0; k < layout.schedules.size(); ++k)
    s.sched.push_back(
        kb.field(args, t.args, {int32_t(Sched), int32_t(k)}, t.f32));
  kb.splitStepAndSeed(s, arg(Step, t.i64), arg(Seed, t.i64));
  return s;
}

struct ConvertNOSToKernelPass
    : mlir::nos::impl::ConvertNOSToKernelBase<ConvertNOSToKernelPass> {
  using Base::Base;

  void runOnOperation() override {
    SmallVector<RuleOp> rules(getOperation().getOps<RuleOp>());
    for (RuleOp rule : rules)
      lowerRule(rule);
  }

  void lowerRule(RuleOp rule) {
    AbiTypes t(&getContext());
    Location loc = rule.getLoc();
    OpBuilder b(rule);
    auto func = b.create<func::FuncOp>(
        loc, rule.getSymName(), b.getFunctionType({t.ptr, t.i64, t.ptr}, {}));
    KernelLayout layout = computeKernelLayout(rule);
    recordLayout(func, layout);
    b.setInsertionPointToStart(func.addEntryBlock());
    Value table = func.getArgument(0), count = func.getArgument(1);
    KernelBuilder kb(b, loc, t);
    KernelScalars scalars = loadScalars(kb, t, func.getArgument(2), layout);
    Value zero = kb.constant(0), one = kb.constant(1);
    kb.loop(zero, count, one, [&](Value index) {
      Value entry = b.create<LLVM::GEPOp>(loc, t.ptr, t.tensor, table,
                                          ArrayRef<LLVM::GEPArg>{index});
      TensorPointers ptrs = kb.loadPointers(entry, layout.numStateSlots());
      Value n = kb.field(entry, t.tensor, {TensorN}, t.i64);
      scalars.rngBase = kb.field(entry, t.tensor, {TensorRngBase}, t.i64);
      Value vectorEnd = zero;
      if (vectorWidth > 1) {
        Value lanes = kb.constant(vectorWidth);
        Value rest = b.create<arith::RemSIOp>(loc, n, lanes);
        vectorEnd = b.create<arith::SubIOp>(loc, n, rest);
        kb.loop(zero, vectorEnd, lanes, [&](Value i) {
          ElementEmitter(b, loc, vectorWidth, scalars, layout)
              .emit(rule, i, ptrs);
        });
      }
      kb.loop(vectorEnd, n, one, [&](Value i) {
        ElementEmitter(b, loc, 1, scalars, layout).emit(rule, i, ptrs);
      });
    });
    b.create<func::ReturnOp>(loc);
    rule.erase();
  }
};
} // namespace
