//===- Pipeline.cpp - The compiler's MLIR and LLVM stages -----------------===//
//
// Programmatic pipelines need the registrations mlir-opt does implicitly:
// the LLVM IR translation interfaces and the dialects the conversions create.
// Missing ones fail late, at translation, so they are all made here.
//
//===----------------------------------------------------------------------===//
#include "Pipeline.h"

#include "nos/Dialect/Passes.h"

#include "mlir/Conversion/ArithToLLVM/ArithToLLVM.h"
#include "mlir/Conversion/ControlFlowToLLVM/ControlFlowToLLVM.h"
#include "mlir/Conversion/FuncToLLVM/ConvertFuncToLLVMPass.h"
#include "mlir/Conversion/GPUToNVVM/GPUToNVVMPass.h"
#include "mlir/Conversion/MathToLLVM/MathToLLVM.h"
#include "mlir/Conversion/ReconcileUnrealizedCasts/ReconcileUnrealizedCasts.h"
#include "mlir/Conversion/SCFToControlFlow/SCFToControlFlow.h"
#include "mlir/Conversion/VectorToLLVM/ConvertVectorToLLVMPass.h"
#include "mlir/Dialect/ControlFlow/IR/ControlFlow.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/GPU/Transforms/Passes.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/ExecutionEngine/OptUtils.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Target/LLVM/NVVM/Target.h"
#include "mlir/Target/LLVMIR/Dialect/Builtin/BuiltinToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/GPU/GPUToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/LLVMIR/LLVMToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/NVVM/NVVMToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Export.h"
#include "mlir/Transforms/Passes.h"
#include "llvm/IR/LegacyPassManager.h"
#include "llvm/Support/raw_ostream.h"

#include <functional>
#include <vector>

using namespace mlir;

namespace nos {

/// Runs the passes `build` adds, verifying the module once at the end
/// instead of after every pass (MLIR's default): verifying after each pass
/// was 8% of a trivial rule's compile. Invalid IR is still refused, named
/// by the stage rather than the pass; nos-opt still verifies each pass.
static LogicalResult
runVerifiedAtEnd(ModuleOp module,
                 const std::function<void(OpPassManager &)> &build) {
  PassManager pm(module.getContext());
  pm.enableVerifier(false);
  build(pm);
  if (failed(pm.run(module)))
    return failure();
  return mlir::verify(module);
}

static void addCanonicalization(OpPassManager &pm) {
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
  pm.addPass(createCanonicalizerPass());
  pm.addNestedPass<mlir::nos::RuleOp>(mlir::nos::createNOSNumberStreams());
}

LogicalResult canonicalizeModule(ModuleOp module) {
  return runVerifiedAtEnd(module, addCanonicalization);
}

/// What both lowerings run after converting the rule. The same polynomial
/// expansions on both targets, so they compute exp/log/cos alike instead of
/// libdevice's versions on one side; then splats of per-step scalars and
/// constants leave the element loops, which is most of what LLVM's middle
/// end would otherwise be run for.
static void addKernelCleanup(OpPassManager &pm) {
  pm.addPass(mlir::nos::createNOSExpandMath());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
  pm.addPass(createLoopInvariantCodeMotionPass());
}

static void addKernelLowering(OpPassManager &pm, unsigned width) {
  mlir::nos::ConvertNOSToKernelOptions options;
  options.vectorWidth = width;
  pm.addPass(mlir::nos::createConvertNOSToKernel(options));
  addKernelCleanup(pm);
}

LogicalResult lowerToKernel(ModuleOp module, unsigned width) {
  return runVerifiedAtEnd(
      module, [&](OpPassManager &pm) { addKernelLowering(pm, width); });
}

static void addGpuKernelLowering(OpPassManager &pm, const GpuTarget &target) {
  mlir::nos::ConvertNOSToGPUOptions options;
  options.vectorWidth = target.vectorWidth;
  pm.addPass(mlir::nos::createConvertNOSToGPU(options));
  addKernelCleanup(pm);
}

LogicalResult lowerToGpuKernel(ModuleOp module, const GpuTarget &target) {
  return runVerifiedAtEnd(
      module, [&](OpPassManager &pm) { addGpuKernelLowering(pm, target); });
}

/// convert-gpu-to-nvvm turns math ops into libdevice calls. Those with an
/// exact PTX instruction become LLVM intrinsics again, so the PTX needs no
/// libdevice (nor a toolkit to build it): floor is cvt.rmi, fabs is abs.f32,
/// and sqrt is sqrt.rn, where libdevice's __nv_sqrtf would be sqrt.approx
/// (LLVM 19's NVVMReflect cannot set __CUDA_PREC_SQRT) and disagree with the
/// CPU's correctly rounded sqrtps.
static Value exactInstruction(OpBuilder &b, Location loc, StringRef callee,
                              Value x) {
  if (callee == "__nv_sqrtf")
    return b.create<LLVM::SqrtOp>(loc, x);
  if (callee == "__nv_floorf")
    return b.create<LLVM::FFloorOp>(loc, x);
  if (callee == "__nv_fabsf")
    return b.create<LLVM::FAbsOp>(loc, x);
  return nullptr;
}

static void useExactInstructions(ModuleOp module) {
  SmallVector<LLVM::CallOp> calls;
  module.walk([&](LLVM::CallOp call) { calls.push_back(call); });
  for (LLVM::CallOp call : calls) {
    std::optional<StringRef> callee = call.getCallee();
    if (!callee || call.getNumOperands() != 1)
      continue;
    OpBuilder b(call);
    if (Value exact =
            exactInstruction(b, call.getLoc(), *callee, call.getOperand(0))) {
      call.getResult().replaceAllUsesWith(exact);
      call.erase();
    }
  }
  // Their declarations, now unused, would otherwise print as .extern.
  SmallVector<LLVM::LLVMFuncOp> unused;
  module.walk([&](LLVM::LLVMFuncOp decl) {
    if (decl.isExternal() && decl.getName().starts_with("__nv_") &&
        decl.symbolKnownUseEmpty(decl->getParentOp()))
      unused.push_back(decl);
  });
  for (LLVM::LLVMFuncOp decl : unused)
    decl.erase();
}

static void addNVVMLowering(OpPassManager &pm, const GpuTarget &target) {
  GpuNVVMAttachTargetOptions attach;
  attach.chip = target.chip;
  attach.features = target.features;
  attach.optLevel = 3;
  pm.addPass(createGpuNVVMAttachTarget(attach));
  OpPassManager &gpuPm = pm.nest<gpu::GPUModuleOp>();
  gpuPm.addPass(createConvertSCFToCFPass());
  gpuPm.addPass(createConvertVectorToLLVMPass());
  ConvertGpuOpsToNVVMOpsOptions nvvm;
  nvvm.indexBitwidth = 64;
  gpuPm.addPass(createConvertGpuOpsToNVVMOps(nvvm));
  // What it leaves (math.fma, math.absf) maps to NVPTX instructions.
  gpuPm.addPass(createConvertMathToLLVMPass());
  pm.addPass(createReconcileUnrealizedCastsPass());
}

LogicalResult lowerToNVVM(ModuleOp module, const GpuTarget &target) {
  if (failed(runVerifiedAtEnd(
          module, [&](OpPassManager &pm) { addNVVMLowering(pm, target); })))
    return failure();
  useExactInstructions(module);
  return success();
}

static void addPtxSerialization(OpPassManager &pm, const GpuTarget &target) {
  GpuModuleToBinaryPassOptions options;
  options.toolkitPath = target.toolkitPath;
  options.compilationTarget = "isa";
  pm.addPass(createGpuModuleToBinaryPass(options));
}

LogicalResult serializeToPtx(ModuleOp module, const GpuTarget &target,
                             std::string &ptx) {
  if (failed(runVerifiedAtEnd(
          module, [&](OpPassManager &pm) { addPtxSerialization(pm, target); })))
    return failure();
  for (auto binary : module.getOps<gpu::BinaryOp>()) {
    auto object = cast<gpu::ObjectAttr>(binary.getObjects()[0]);
    ptx = object.getObject().getValue().str();
    // The serializer NUL-terminates the text for cuModuleLoadData.
    while (!ptx.empty() && ptx.back() == '\0')
      ptx.pop_back();
    return success();
  }
  return module.emitError("no gpu.binary after serialization");
}

static void addLLVMDialectLowering(OpPassManager &pm) {
  pm.addPass(createConvertSCFToCFPass());
  pm.addPass(createConvertVectorToLLVMPass());
  pm.addPass(createConvertMathToLLVMPass());
  pm.addPass(createArithToLLVMConversionPass());
  pm.addPass(createConvertFuncToLLVMPass());
  pm.addPass(createConvertControlFlowToLLVMPass());
  pm.addPass(createReconcileUnrealizedCastsPass());
}

LogicalResult lowerToLLVMDialect(ModuleOp module) {
  return runVerifiedAtEnd(module, addLLVMDialectLowering);
}

using PassBuilder = std::function<void(OpPassManager &)>;

/// Every pass pipeline a stage runs, with default options (the options
/// change no pass's dependent dialects).
static std::vector<PassBuilder> passBuilders() {
  GpuTarget gpu;
  return {addCanonicalization,
          [](OpPassManager &pm) { addKernelLowering(pm, 1); },
          addLLVMDialectLowering,
          [gpu](OpPassManager &pm) { addGpuKernelLowering(pm, gpu); },
          [gpu](OpPassManager &pm) { addNVVMLowering(pm, gpu); },
          [gpu](OpPassManager &pm) { addPtxSerialization(pm, gpu); }};
}

std::unique_ptr<MLIRContext> createContext() {
  DialectRegistry registry;
  registry.insert<mlir::nos::NOSDialect, arith::ArithDialect, math::MathDialect,
                  scf::SCFDialect, func::FuncDialect, vector::VectorDialect,
                  cf::ControlFlowDialect, LLVM::LLVMDialect, gpu::GPUDialect,
                  NVVM::NVVMDialect>();
  registerBuiltinDialectTranslation(registry);
  registerLLVMDialectTranslation(registry);
  // The GPU path: #nvvm.target serializes gpu.module through these.
  NVVM::registerNVVMTargetInterfaceExternalModels(registry);
  registerGPUDialectTranslation(registry);
  registerNVVMDialectTranslation(registry);
  auto ctx = std::make_unique<MLIRContext>(registry);
  // A pass manager loads its passes' dependent dialects when it first runs,
  // which mutates the context while other threads use it (the search
  // canonicalizes while workers compile): load them all now instead.
  DialectRegistry dependencies;
  for (const PassBuilder &build : passBuilders()) {
    OpPassManager pm(ModuleOp::getOperationName());
    build(pm);
    pm.getDependentDialects(dependencies);
  }
  ctx->appendDialectRegistry(dependencies);
  ctx->loadAllAvailableDialects();
  return ctx;
}

std::unique_ptr<llvm::Module> translateAndOptimize(ModuleOp module,
                                                   llvm::LLVMContext &llvmCtx,
                                                   llvm::TargetMachine &tm,
                                                   int optLevel,
                                                   std::string &error) {
  std::unique_ptr<llvm::Module> llvmModule =
      translateModuleToLLVMIR(module, llvmCtx, "nos");
  if (!llvmModule) {
    error = "translation to LLVM IR failed";
    return nullptr;
  }
  llvmModule->setDataLayout(tm.createDataLayout());
  llvmModule->setTargetTriple(tm.getTargetTriple().str());
  auto optimize = makeOptimizingTransformer(optLevel, 0, &tm);
  if (llvm::Error err = optimize(llvmModule.get())) {
    error = llvm::toString(std::move(err));
    return nullptr;
  }
  return llvmModule;
}

bool emitMachineCode(llvm::Module &module, llvm::TargetMachine &tm,
                     bool assembly, std::string &out, std::string &error) {
  llvm::SmallVector<char, 0> buffer;
  llvm::raw_svector_ostream os(buffer);
  llvm::legacy::PassManager pm;
  auto type = assembly ? llvm::CodeGenFileType::AssemblyFile
                       : llvm::CodeGenFileType::ObjectFile;
  if (tm.addPassesToEmitFile(pm, os, nullptr, type)) {
    error = "the target cannot emit this file type";
    return false;
  }
  pm.run(module);
  out.assign(buffer.begin(), buffer.end());
  return true;
}

} // namespace nos
