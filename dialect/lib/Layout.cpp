//===- Layout.cpp - State slots, schedules and random streams of a rule ---===//
//
// One pre-order walk from the yield (node before operands, lhs before rhs,
// each op at its first visit) orders everything the kernel ABI indexes. The
// reference interpreter walks the canonical text in the same order, which is
// what makes its state slots and random numbers line up with the kernel's.
//
//===----------------------------------------------------------------------===//
#include "nos/Dialect/NOSOps.h"

#include "llvm/ADT/SmallPtrSet.h"

using namespace mlir;
using namespace mlir::nos;

namespace {
struct Walker {
  KernelLayout &layout;
  llvm::SmallPtrSet<Operation *, 32> seen;

  void visit(Value value) {
    Operation *op = value.getDefiningOp();
    if (!op || !seen.insert(op).second)
      return;
    record(op);
    for (Value operand : op->getOperands())
      visit(operand);
  }

  void record(Operation *op) {
    if (std::optional<::nos::Operand> operand = operandOf(op)) {
      unsigned reads = ::nos::operandInfo(*operand).reads;
      layout.usesM |= (reads & ::nos::ReadsM) != 0;
      layout.usesV |= (reads & ::nos::ReadsV) != 0;
      layout.usesGamma |= (reads & ::nos::ReadsGamma) != 0;
    } else if (auto ema = dyn_cast<EmaOp>(op))
      layout.emas.push_back(ema);
    else if (isa<LDOp, CDOp, RDOp>(op))
      layout.schedules.push_back(op);
    if (isStochastic(op))
      layout.stochastic.push_back(op);
  }
};
} // namespace

KernelLayout mlir::nos::computeKernelLayout(RuleOp rule) {
  KernelLayout layout;
  Block &block = rule.getBody().front();
  if (block.empty() || !isa<YieldOp>(block.back()))
    return layout;
  Walker{layout, {}}.visit(rule.getUpdate());
  return layout;
}

unsigned KernelLayout::firstEmaSlot() const {
  return unsigned(usesM) + unsigned(usesV) + unsigned(usesGamma);
}

unsigned KernelLayout::numStateSlots() const {
  return firstEmaSlot() + emas.size();
}

SmallVector<std::string> KernelLayout::stateSlotNames() const {
  SmallVector<std::string> names;
  if (usesM)
    names.push_back("m");
  if (usesV)
    names.push_back("v");
  if (usesGamma)
    names.push_back("gamma");
  for (size_t i = 0; i < emas.size(); ++i)
    names.push_back("ema" + std::to_string(i));
  return names;
}
