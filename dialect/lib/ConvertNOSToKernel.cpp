//===- ConvertNOSToKernel.cpp - nos.rule to a multi-tensor CPU kernel -----===//
//
// Each nos.rule becomes func.func @R(%table: !llvm.ptr, %count: i64,
// %args: !llvm.ptr) following include/nos/KernelABI.h: a loop over the table,
// then per tensor one vector loop over the elements. The update's body is
// emitted once: a last, partial chunk is copied into stack buffers, updated
// there and copied back, rather than run through a scalar copy of the body,
// which would double the code that LLVM selects instructions for (most of a
// compile's time) and compute the tail with different instructions.
//
//===----------------------------------------------------------------------===//
#include "KernelCommon.h"

#include "nos/Dialect/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/SCF/IR/SCF.h"

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

/// Stack buffers for one chunk of every stream (w, g, then the state slots),
/// zeroed once so that the lanes past a partial chunk compute on zeros.
SmallVector<Value> allocateChunkBuffers(OpBuilder &b, Location loc,
                                        const AbiTypes &t, KernelBuilder &kb,
                                        unsigned streams, unsigned width) {
  Value lanes = kb.constant(width);
  Value bytes = kb.constant(int64_t(width) * 4);
  Value zeroByte = b.create<LLVM::ConstantOp>(loc, b.getI8Type(), 0);
  SmallVector<Value> buffers;
  for (unsigned k = 0; k < streams; ++k) {
    Value buffer = b.create<LLVM::AllocaOp>(loc, t.ptr, t.f32, lanes, 64);
    b.create<LLVM::MemsetOp>(loc, buffer, zeroByte, bytes, false);
    buffers.push_back(buffer);
  }
  return buffers;
}

SmallVector<Value> streamsOf(const TensorPointers &ptrs) {
  SmallVector<Value> streams{ptrs.w, ptrs.g};
  streams.append(ptrs.state.begin(), ptrs.state.end());
  return streams;
}

/// Copies `bytes` between each pair of pointers when `partial` holds.
void copyIf(OpBuilder &b, Location loc, Value partial, ArrayRef<Value> to,
            ArrayRef<Value> from, Value bytes) {
  b.create<scf::IfOp>(loc, partial, [&](OpBuilder &nb, Location l) {
    for (auto [dst, src] : llvm::zip(to, from))
      nb.create<LLVM::MemcpyOp>(l, dst, src, bytes, false);
    nb.create<scf::YieldOp>(l);
  });
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
    SmallVector<Value> buffers;
    if (vectorWidth > 1)
      buffers = allocateChunkBuffers(b, loc, t, kb, 2 + layout.numStateSlots(),
                                     vectorWidth);
    Value zero = kb.constant(0), one = kb.constant(1);
    kb.loop(zero, count, one, [&](Value index) {
      Value entry = b.create<LLVM::GEPOp>(loc, t.ptr, t.tensor, table,
                                          ArrayRef<LLVM::GEPArg>{index});
      TensorPointers ptrs = kb.loadPointers(entry, layout.numStateSlots());
      Value n = kb.field(entry, t.tensor, {TensorN}, t.i64);
      scalars.rngBase = kb.field(entry, t.tensor, {TensorRngBase}, t.i64);
      if (vectorWidth <= 1) {
        kb.loop(zero, n, one, [&](Value i) {
          ElementEmitter(b, loc, 1, scalars, layout).emit(rule, i, ptrs);
        });
        return;
      }
      // Phase 0 runs the whole chunks in place, phase 1 the partial last
      // one in the stack buffers: one body, and a plain inner loop.
      kb.loop(zero, kb.constant(2), one, [&](Value phase) {
        emitPhase(b, loc, t, kb, rule, scalars, layout, ptrs, buffers, n,
                  phase);
      });
    });
    b.create<func::ReturnOp>(loc);
    rule.erase();
  }

  /// Phase 0: elements [0, whole) in place, whole = n rounded down to the
  /// width. Phase 1: [whole, n), if any, copied into the stack buffers,
  /// updated there and copied back.
  void emitPhase(OpBuilder &b, Location loc, const AbiTypes &t,
                 KernelBuilder &kb, RuleOp rule, const KernelScalars &scalars,
                 const KernelLayout &layout, const TensorPointers &ptrs,
                 ArrayRef<Value> buffers, Value n, Value phase) {
    using arith::CmpIPredicate;
    Value zero = kb.constant(0), lanes = kb.constant(vectorWidth);
    Value rest = b.create<arith::RemSIOp>(loc, n, lanes);
    Value whole = b.create<arith::SubIOp>(loc, n, rest);
    Value inBuffers =
        b.create<arith::CmpIOp>(loc, CmpIPredicate::ne, phase, zero);
    Value partial = b.create<arith::AndIOp>(
        loc, inBuffers,
        b.create<arith::CmpIOp>(loc, CmpIPredicate::ne, rest, zero));
    Value bytes = b.create<arith::MulIOp>(loc, rest, kb.constant(4));
    SmallVector<Value> tail, at;
    for (auto [base, buffer] : llvm::zip(streamsOf(ptrs), buffers)) {
      tail.push_back(b.create<LLVM::GEPOp>(loc, t.ptr, t.f32, base,
                                           ArrayRef<LLVM::GEPArg>{whole}));
      at.push_back(b.create<arith::SelectOp>(loc, inBuffers, buffer, base));
    }
    copyIf(b, loc, partial, buffers, tail, bytes);
    Value first = b.create<arith::SelectOp>(loc, inBuffers, whole, zero);
    Value end = b.create<arith::SelectOp>(
        loc, inBuffers, b.create<arith::SelectOp>(loc, partial, lanes, zero),
        whole);
    TensorPointers here{at[0], at[1],
                        SmallVector<Value>(at.begin() + 2, at.end())};
    kb.loop(zero, end, lanes, [&](Value j) {
      Value i = b.create<arith::AddIOp>(loc, first, j);
      ElementEmitter(b, loc, vectorWidth, scalars, layout)
          .emit(rule, i, here, j);
    });
    // g is only read; w and the state slots go back.
    SmallVector<Value> written{tail[0]}, from{buffers[0]};
    written.append(tail.begin() + 2, tail.end());
    from.append(buffers.begin() + 2, buffers.end());
    copyIf(b, loc, partial, written, from, bytes);
  }
};
} // namespace
