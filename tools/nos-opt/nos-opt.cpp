//===- nos-opt.cpp - mlir-opt with the nos dialect and passes -------------===//
//
// A shim over MlirOptMain: registers the upstream dialects and passes the
// pipeline uses, plus the nos dialect and its passes, for lit tests and for
// experimenting with the pipeline by hand.
//
//===----------------------------------------------------------------------===//
#include "nos/Dialect/Passes.h"

#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/InitAllPasses.h"
#include "mlir/Target/LLVMIR/Dialect/All.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"

int main(int argc, char **argv) {
  mlir::DialectRegistry registry;
  mlir::registerAllDialects(registry);
  mlir::registerAllExtensions(registry);
  // gpu-module-to-binary translates gpu.module bodies to LLVM IR.
  mlir::registerAllToLLVMIRTranslations(registry);
  mlir::registerAllPasses();
  registry.insert<mlir::nos::NOSDialect>();
  mlir::nos::registerNOSPasses();
  return mlir::asMainReturnCode(
      mlir::MlirOptMain(argc, argv, "nos optimizer driver\n", registry));
}
