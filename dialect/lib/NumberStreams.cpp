//===- NumberStreams.cpp - Canonical numbering of random ops --------------===//
//
// Gives each random op the pre-order index that the reference interpreter
// computes on the canonical text, so "same canonical form" implies "same
// random numbers" (language.md §7).
//
//===----------------------------------------------------------------------===//
#include "nos/Dialect/Passes.h"

namespace mlir::nos {
#define GEN_PASS_DEF_NOSNUMBERSTREAMS
#include "nos/Dialect/Passes.h.inc"
} // namespace mlir::nos

using namespace mlir;
using namespace mlir::nos;

namespace {
struct NumberStreams : mlir::nos::impl::NOSNumberStreamsBase<NumberStreams> {
  void runOnOperation() override {
    KernelLayout layout = computeKernelLayout(getOperation());
    Builder builder(&getContext());
    for (auto [index, op] : llvm::enumerate(layout.stochastic))
      op->setAttr("stream", builder.getI32IntegerAttr(int32_t(index)));
  }
};
} // namespace
