//===- ElementLowering.h - One element's update in arith/math ---*- C++ -*-===//
//
// Emits the body of the kernel loop for one element (scalar f32) or one
// vector of elements: state updates, the rule, the Philox draws and
// w -= lr * U. The CPU kernel emits it at the host's vector width, the GPU
// kernel at its own.
//
//===----------------------------------------------------------------------===//
#ifndef NOS_DIALECT_LIB_ELEMENTLOWERING_H
#define NOS_DIALECT_LIB_ELEMENTLOWERING_H

#include "nos/Dialect/NOSOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/Builders.h"

namespace mlir::nos {

/// Per-call scalars read once from NosArgs and NosTensor.
struct KernelScalars {
  Value lr, beta[3], oneMinusBeta[3], eps, delta, bc[3], anoiseStd;
  Value wscale, gscale;         // decoupled weight decay, maximize
  SmallVector<Value> sched;     // in KernelLayout::schedules order
  Value step32, seedLo, seedHi; // i32
  Value rngBase;                // i64, of the current tensor
};

/// Pointers of the current tensor.
struct TensorPointers {
  Value w, g;
  SmallVector<Value> state; // KernelLayout slot order
};

class ElementEmitter {
public:
  ElementEmitter(OpBuilder &builder, Location loc, unsigned width,
                 const KernelScalars &scalars, const KernelLayout &layout);

  /// Emits the update of elements [i, i + width): their random draws are
  /// those of index i, their memory at ptrs[at] (at defaults to i; the CPU
  /// kernel passes 0 with pointers already moved to the chunk).
  void emit(RuleOp rule, Value i, const TensorPointers &ptrs, Value at = {});

private:
  Type floatType() const;
  Type intType(unsigned bits) const;
  Value splat(Value scalar);
  Value constant(double value);
  Value intConstant(uint64_t value, unsigned bits);
  Value load(Value base);
  void store(Value value, Value base);
  Value runningAverage(Value oldValue, Value x, Value beta, Value oneMinus);
  Value updateSlot(unsigned slot, Value x, Value beta, Value oneMinus);
  void updateMoments(Value g);
  Value sqrtPlusEps(Value x);
  Value laneIndices(Value i);
  Value lowerOp(Operation *op);
  Value lowerLeaf(Operation *op);
  Value lowerOperand(::nos::Operand operand, Operation *op);
  Value lowerUnary(Operation *op, Value x);
  Value lowerBinary(Operation *op, Value x, Value y);
  Value sign(Value x);
  Value logAbs(Value x);
  Value pow(Value x, Value y);
  Value select(Value cond, Value a, Value b);
  Value cmp(arith::CmpFPredicate pred, Value a, Value b);
  /// Philox-4x32-10 of every draw of the rule for the elements at i, into
  /// `draws`; philox(node) is then the node's four words.
  void drawAll(RuleOp rule, Value i);
  void philoxRound(MutableArrayRef<Value> c, Value k0, Value k1);
  SmallVector<Value, 4> philox(uint32_t node);
  Value uniform(Value bits, bool openAtZero);
  Value normal(uint32_t node);

  OpBuilder &b;
  Location loc;
  unsigned width;
  const KernelScalars &s;
  const KernelLayout &layout;
  const TensorPointers *ptrs = nullptr;
  Value address; // the element index of ptrs' loads and stores
  DenseMap<Value, Value> lowered;
  DenseMap<uint32_t, SmallVector<Value, 4>> draws; // by stream
  Value g, w, m, v, gamma; // this element's inputs and updated moments
};

} // namespace mlir::nos

#endif // NOS_DIALECT_LIB_ELEMENTLOWERING_H
