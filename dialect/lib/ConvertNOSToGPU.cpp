//===- ConvertNOSToGPU.cpp - nos.rule to a multi-tensor GPU kernel --------===//
//
// Each nos.rule becomes a gpu.func kernel in a gpu.module, following the GPU
// part of include/nos/KernelABI.h: blocks stride over a chunk list (as
// PyTorch's multi_tensor_apply does) and threads over the elements of their
// chunk, so one launch updates every parameter. NosArgs arrive by value as
// scalar kernel parameters. The per-element body is the CPU kernel's
// (ElementEmitter), which is what keeps a GPU and a CPU step numerically
// alike.
//
//===----------------------------------------------------------------------===//
#include "KernelCommon.h"

#include "nos/Dialect/Passes.h"
#include "nos/KernelABI.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"

namespace mlir::nos {
#define GEN_PASS_DEF_CONVERTNOSTOGPU
#include "nos/Dialect/Passes.h.inc"
} // namespace mlir::nos

using namespace mlir;
using namespace mlir::nos;

namespace {
KernelScalars scalarsFromParams(KernelBuilder &kb, gpu::GPUFuncOp func,
                                const KernelLayout &layout) {
  auto arg = [&](ArgField f) { return func.getArgument(gpuParamOf(f)); };
  KernelScalars s;
  s.lr = arg(Lr);
  for (int k = 0; k < 3; ++k) {
    s.beta[k] = arg(ArgField(Beta1 + k));
    s.bc[k] = arg(ArgField(Bc1 + k));
    s.oneMinusBeta[k] = arg(ArgField(Omb1 + k));
  }
  s.eps = arg(Eps);
  s.delta = arg(Delta);
  s.anoiseStd = arg(AStd);
  s.wscale = arg(WScale);
  s.gscale = arg(GScale);
  for (size_t k = 0; k < layout.schedules.size(); ++k)
    s.sched.push_back(func.getArgument(gpuParamOf(Sched) + k));
  kb.splitStepAndSeed(s, arg(Step), arg(Seed));
  return s;
}

/// The table holds generic pointers; saying they point to global memory
/// lets NVPTX emit ld.global/st.global instead of generic accesses.
TensorPointers toGlobal(OpBuilder &b, Location loc, TensorPointers p) {
  auto global = LLVM::LLVMPointerType::get(b.getContext(), 1);
  auto cast = [&](Value &ptr) {
    ptr = b.create<LLVM::AddrSpaceCastOp>(loc, global, ptr);
  };
  cast(p.w);
  cast(p.g);
  for (Value &s : p.state)
    cast(s);
  return p;
}

struct ConvertNOSToGPUPass
    : mlir::nos::impl::ConvertNOSToGPUBase<ConvertNOSToGPUPass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    SmallVector<RuleOp> rules(module.getOps<RuleOp>());
    if (rules.empty())
      return;
    module->setAttr(gpu::GPUDialect::getContainerModuleAttrName(),
                    UnitAttr::get(&getContext()));
    OpBuilder b(rules.front());
    auto gpuModule = b.create<gpu::GPUModuleOp>(module.getLoc(), "nos_kernels");
    for (RuleOp rule : rules)
      lowerRule(rule, gpuModule);
  }

  void lowerRule(RuleOp rule, gpu::GPUModuleOp gpuModule) {
    AbiTypes t(&getContext());
    Location loc = rule.getLoc();
    OpBuilder b = OpBuilder::atBlockTerminator(gpuModule.getBody());
    auto func = b.create<gpu::GPUFuncOp>(
        loc, rule.getSymName(), b.getFunctionType(gpuParamTypes(t), {}));
    func->setAttr(gpu::GPUDialect::getKernelFuncAttrName(), b.getUnitAttr());
    func->setAttr("nvvm.maxntid",
                  b.getDenseI32ArrayAttr({NOS_GPU_BLOCK, 1, 1}));
    KernelLayout layout = computeKernelLayout(rule);
    recordLayout(func, layout);
    b.setInsertionPointToStart(&func.getBody().front());
    KernelBuilder kb(b, loc, t);
    KernelScalars scalars = scalarsFromParams(kb, func, layout);
    auto id = [&](Value index) {
      return b.create<arith::IndexCastOp>(loc, t.i64, index).getResult();
    };
    Value block = id(b.create<gpu::BlockIdOp>(loc, gpu::Dimension::x));
    Value grid = id(b.create<gpu::GridDimOp>(loc, gpu::Dimension::x));
    Value thread = id(b.create<gpu::ThreadIdOp>(loc, gpu::Dimension::x));
    Value threads = id(b.create<gpu::BlockDimOp>(loc, gpu::Dimension::x));
    Value table = func.getArgument(0), chunks = func.getArgument(1);
    kb.loop(block, func.getArgument(2), grid, [&](Value c) {
      Value chunk = b.create<LLVM::GEPOp>(loc, t.ptr, t.chunk, chunks,
                                          ArrayRef<LLVM::GEPArg>{c});
      Value tensor = kb.field(chunk, t.chunk, {ChunkTensor}, t.i64);
      Value begin = kb.field(chunk, t.chunk, {ChunkBegin}, t.i64);
      Value end = kb.field(chunk, t.chunk, {ChunkEnd}, t.i64);
      Value entry = b.create<LLVM::GEPOp>(loc, t.ptr, t.tensor, table,
                                          ArrayRef<LLVM::GEPArg>{tensor});
      TensorPointers ptrs =
          toGlobal(b, loc, kb.loadPointers(entry, layout.numStateSlots()));
      scalars.rngBase = kb.field(entry, t.tensor, {TensorRngBase}, t.i64);
      Value scalarBegin = begin;
      if (vectorWidth > 1) {
        // Each thread takes vectorWidth adjacent elements per iteration: as
        // many independent loads per array in flight, which a streaming
        // kernel needs to reach memory bandwidth.
        Value lanes = kb.constant(vectorWidth);
        Value span = b.create<arith::SubIOp>(loc, end, begin);
        Value rest = b.create<arith::RemSIOp>(loc, span, lanes);
        scalarBegin = b.create<arith::SubIOp>(loc, end, rest);
        Value first = b.create<arith::AddIOp>(
            loc, begin, b.create<arith::MulIOp>(loc, thread, lanes));
        Value stride = b.create<arith::MulIOp>(loc, threads, lanes);
        kb.loop(first, scalarBegin, stride, [&](Value i) {
          ElementEmitter(b, loc, vectorWidth, scalars, layout)
              .emit(rule, i, ptrs);
        });
      }
      Value first = b.create<arith::AddIOp>(loc, scalarBegin, thread);
      kb.loop(first, end, threads, [&](Value i) {
        ElementEmitter(b, loc, 1, scalars, layout).emit(rule, i, ptrs);
      });
    });
    b.create<gpu::ReturnOp>(loc);
    rule.erase();
  }
};
} // namespace
