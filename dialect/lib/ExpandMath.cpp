//===- ExpandMath.cpp - Vectorizable transcendental functions -------------===//
//
// math.exp, math.log and math.cos lowered to LLVM intrinsics become a libm
// call per element and stop the loop from vectorizing (~6 GB/s instead of
// memory bandwidth). MLIR's polynomial approximations turn them into plain
// arith code that works on vectors.
//
//===----------------------------------------------------------------------===//
#include "nos/Dialect/Passes.h"

#include "mlir/Dialect/Math/Transforms/Passes.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::nos {
#define GEN_PASS_DEF_NOSEXPANDMATH
#include "nos/Dialect/Passes.h.inc"
} // namespace mlir::nos

using namespace mlir;
using namespace mlir::nos;

void mlir::nos::populateExpandMathPatterns(RewritePatternSet &patterns) {
  MathPolynomialApproximationOptions options;
  options.enableAvx2 = false; // keep results identical on every x86 host
  populateMathPolynomialApproximationPatterns(patterns, options);
}

namespace {
struct ExpandMathPass : mlir::nos::impl::NOSExpandMathBase<ExpandMathPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    populateExpandMathPatterns(patterns);
    if (failed(
            applyPatternsAndFoldGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};
} // namespace
