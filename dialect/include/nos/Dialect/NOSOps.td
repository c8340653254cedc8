//===- NOSOps.td - Operations of the nos dialect -----------*- tablegen -*-===//
//
// One op per operand (from nos/Operands.def), schedule and function (from
// nos/Functions.def) of the rule language, plus the stateful nos.ema,
// literals and the nos.rule container. Shared base classes keep each op to a line or two; every value
// is an f32 element.
//
//===----------------------------------------------------------------------===//
#ifndef NOS_OPS_TD
#define NOS_OPS_TD

include "nos/Dialect/NOSDialect.td"
include "mlir/IR/SymbolInterfaces.td"
include "mlir/IR/OpBase.td"
include "mlir/Interfaces/ControlFlowInterfaces.td"
include "mlir/Interfaces/InferTypeOpInterface.td"
include "mlir/Interfaces/SideEffectInterfaces.td"

//===----------------------------------------------------------------------===//
// Container
//===----------------------------------------------------------------------===//

def NOS_RuleOp : NOS_Op<"rule", [IsolatedFromAbove, Symbol]> {
  let summary = "An update rule: a region computing U for one element";
  let description = [{
    The single block takes no arguments and ends in `nos.yield` of the update.
    Example:
    ```mlir
    nos.rule @powersign {
      %0 = nos.g
      %1 = nos.sign %0
      %2 = nos.m
      %3 = nos.sign %2
      %4 = nos.mul %1, %3
      %5 = nos.exp %4
      %6 = nos.mul %5, %0
      nos.yield %6
    }
    ```
  }];
  let arguments = (ins SymbolNameAttr:$sym_name);
  let regions = (region SizedRegion<1>:$body);
  let assemblyFormat = "$sym_name attr-dict-with-keyword $body";
  let hasRegionVerifier = 1;
  let extraClassDeclaration = [{
    /// The value the rule yields.
    ::mlir::Value getUpdate();
  }];
}

def NOS_YieldOp : NOS_Op<"yield", [Pure, Terminator, ReturnLike,
                                   HasParent<"RuleOp">]> {
  let summary = "Returns the update from a nos.rule";
  let arguments = (ins F32:$update);
  let assemblyFormat = "$update attr-dict";
}

//===----------------------------------------------------------------------===//
// Leaves: operands, schedules, literals
//===----------------------------------------------------------------------===//

class NOS_LeafOp<string mnemonic, string desc, list<Trait> traits = []>
    : NOS_Op<mnemonic, !listconcat([Pure], traits)> {
  let summary = desc;
  let results = (outs F32:$result);
  let assemblyFormat = "attr-dict";
  let builders = [OpBuilder<(ins), [{
    build($_builder, $_state, $_builder.getF32Type());
  }]>];
}

def NOS_LDOp : NOS_LeafOp<"ld", "Linear decay max(0, 1 - t/T)">;

class NOS_StochasticLeafOp<string mnemonic, string desc>
    : NOS_LeafOp<mnemonic, desc> {
  let description = [{
    `stream` is the node word of the Philox counter: the pre-order index of
    the op among the rule's random ops once canonical (nos-number-streams).
  }];
  let arguments = (ins I32Attr:$stream);
  let assemblyFormat = "`[` $stream `]` attr-dict";
  let builders = [OpBuilder<(ins "uint32_t":$stream), [{
    build($_builder, $_state, $_builder.getF32Type(), stream);
  }]>];
}

// One op per row of nos/Operands.def (g, m, noise, adam, ...).
include "nos/Dialect/NOSOperandOps.td"

class NOS_PeriodicScheduleOp<string mnemonic, string desc>
    : NOS_LeafOp<mnemonic, desc> {
  let arguments = (ins F64Attr:$n);
  let assemblyFormat = "$n attr-dict";
  let builders = [OpBuilder<(ins "double":$n), [{
    build($_builder, $_state, $_builder.getF32Type(), $_builder.getF64FloatAttr(n));
  }]>];
  let hasVerifier = 1;
}

def NOS_CDOp : NOS_PeriodicScheduleOp<"cd",
    "Cosine decay 0.5 (1 + cos(2 pi n t / T))">;
def NOS_RDOp : NOS_PeriodicScheduleOp<"rd",
    "Restart decay 0.5 (1 + cos(pi ((n t) mod T) / T))">;

def NOS_ConstantOp : NOS_LeafOp<"constant", "A numeric literal",
                                [ConstantLike]> {
  let arguments = (ins F64Attr:$value);
  let assemblyFormat = "$value attr-dict";
  let builders = [];
  let hasFolder = 1;
}

//===----------------------------------------------------------------------===//
// Functions
//===----------------------------------------------------------------------===//

// One base class per Param of nos/Functions.def. Each generated op has a
// folder (Folds.cpp: foldFunction) and the literal a verifier.
class NOS_UnaryOp<string mnemonic, string desc, list<Trait> traits = []>
    : NOS_Op<mnemonic, !listconcat([Pure, SameOperandsAndResultType], traits)> {
  let summary = desc;
  let arguments = (ins F32:$x);
  let results = (outs F32:$result);
  let assemblyFormat = "$x attr-dict";
  let hasFolder = 1;
  let extraClassDefinition = [{
    ::mlir::OpFoldResult $cppClass::fold(FoldAdaptor adaptor) {
      return foldFunction(*this, adaptor);
    }
  }];
}

class NOS_NoParamUnaryOp<string mnemonic, string desc>
    : NOS_UnaryOp<mnemonic, desc>;

class NOS_BoundUnaryOp<string mnemonic, string desc>
    : NOS_UnaryOp<mnemonic, desc> {
  let arguments = (ins F32:$x, F64Attr:$c);
  let assemblyFormat = "$x `,` $c attr-dict";
  let hasVerifier = 1;
  let extraClassDefinition = [{
    ::mlir::OpFoldResult $cppClass::fold(FoldAdaptor adaptor) {
      return foldFunction(*this, adaptor);
    }
    ::mlir::LogicalResult $cppClass::verify() {
      return verifyBound(getOperation(), getC().convertToDouble());
    }
  }];
}

class NOS_ProbabilityUnaryOp<string mnemonic, string desc>
    : NOS_UnaryOp<mnemonic, desc> {
  let description = [{
    Keeps x where a uniform draw u in [0, 1) satisfies u >= p, else 0; no
    rescaling. `stream` is the Philox node word (see nos.noise).
  }];
  let arguments = (ins F32:$x, F64Attr:$p, I32Attr:$stream);
  let assemblyFormat = "$x `,` $p `[` $stream `]` attr-dict";
  let hasVerifier = 1;
  let extraClassDefinition = [{
    ::mlir::OpFoldResult $cppClass::fold(FoldAdaptor adaptor) {
      return foldFunction(*this, adaptor);
    }
    ::mlir::LogicalResult $cppClass::verify() {
      return verifyProbability(getOperation(), getP().convertToDouble());
    }
  }];
}

def NOS_EmaOp : NOS_Op<"ema", [Pure, SameOperandsAndResultType]> {
  let summary = "Raw running average of x with a literal beta";
  let description = [{
    e <- beta e + (1 - beta) x, updated before use, starting at 0 and not
    bias-corrected. Each nos.ema op owns one state buffer; Pure lets CSE
    merge two emas of the same x and beta, so `ema(g, 0.9) + ema(g, 0.9)`
    keeps one buffer.
  }];
  let arguments = (ins F32:$x, F64Attr:$beta);
  let results = (outs F32:$result);
  let assemblyFormat = "$x `,` $beta attr-dict";
  let hasVerifier = 1;
}

class NOS_BinaryOp<string mnemonic, string desc, list<Trait> traits = []>
    : NOS_Op<mnemonic, !listconcat([Pure, SameOperandsAndResultType], traits)> {
  let summary = desc;
  let arguments = (ins F32:$lhs, F32:$rhs);
  let results = (outs F32:$result);
  let assemblyFormat = "$lhs `,` $rhs attr-dict";
  let hasFolder = 1;
  let extraClassDefinition = [{
    ::mlir::OpFoldResult $cppClass::fold(FoldAdaptor adaptor) {
      return foldFunction(*this, adaptor);
    }
  }];
}

// One base class per Kind of nos/Functions.def.
class NOS_PlainBinaryOp<string mnemonic, string desc>
    : NOS_BinaryOp<mnemonic, desc>;
class NOS_ChainBinaryOp<string mnemonic, string desc>
    : NOS_BinaryOp<mnemonic, desc, [Commutative]> {
  let hasCanonicalizer = 1;
}

//===----------------------------------------------------------------------===//
// Functions: one op per row of nos/Functions.def (neg, clip, add, ...)
//===----------------------------------------------------------------------===//

include "nos/Dialect/NOSFunctionOps.td"

#endif // NOS_OPS_TD
