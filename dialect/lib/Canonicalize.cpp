//===- Canonicalize.cpp - One spelling for associative-commutative chains -===//
//
// Sums and products are flattened through single-use links, their operands
// sorted by a structural key and rebuilt as a left-leaning chain with the
// folded literal last, so `sign(m) * sign(g) * g * 1` and
// `g * sign(g) * sign(m)` reach the same IR. Products also pull negations out
// (-a * b = -(a * b)) and merge powers of g into g2 / g3; x - -y becomes a
// sum. Reassociation changes f32 rounding, never a NaN: the canonical form is
// the rule's meaning.
//
//===----------------------------------------------------------------------===//
#include "nos/Dialect/NOSOps.h"

#include "mlir/IR/Matchers.h"
#include "mlir/IR/PatternMatch.h"

#include <algorithm>
#include <cmath>

using namespace mlir;
using namespace mlir::nos;

/// A spelling-independent key: op name, attributes but the random stream,
/// operands' keys. Rules are small, so recomputing it is cheap.
static std::string structuralKey(Value value) {
  Operation *op = value.getDefiningOp();
  if (!op)
    return "?";
  std::string key = op->getName().getStringRef().str();
  for (NamedAttribute attr : op->getAttrs()) {
    if (attr.getName() == "stream")
      continue;
    llvm::raw_string_ostream os(key);
    os << "{" << attr.getValue() << "}";
  }
  if (op->getNumOperands() == 0)
    return key;
  key += "(";
  for (Value operand : op->getOperands())
    key += structuralKey(operand) + ",";
  return key + ")";
}

namespace {
/// A flattened chain: its non-literal operands and the folded literal.
struct Chain {
  SmallVector<Value> terms;
  double literal;
  unsigned numLiterals = 0;
  bool leftLeaning = true;
};

template <typename OpTy> struct ChainTraits;
template <> struct ChainTraits<AddOp> {
  static constexpr double identity = 0;
  static double combine(double a, double b) { return a + b; }
};
template <> struct ChainTraits<MulOp> {
  static constexpr double identity = 1;
  static double combine(double a, double b) { return a * b; }
};

template <typename OpTy> static bool isLink(Value value) {
  auto op = value.getDefiningOp<OpTy>();
  return op && value.hasOneUse();
}

template <typename OpTy>
static void collect(Value value, Chain &chain, bool isRoot) {
  if (isRoot || isLink<OpTy>(value)) {
    auto op = value.getDefiningOp<OpTy>();
    if (isLink<OpTy>(op.getRhs()))
      chain.leftLeaning = false;
    collect<OpTy>(op.getLhs(), chain, false);
    collect<OpTy>(op.getRhs(), chain, false);
    return;
  }
  FloatAttr attr;
  if (matchPattern(value, m_Constant(&attr))) {
    chain.literal =
        ChainTraits<OpTy>::combine(chain.literal, attr.getValueAsDouble());
    ++chain.numLiterals;
    return;
  }
  chain.terms.push_back(value);
}

static void sortTerms(SmallVectorImpl<Value> &terms) {
  SmallVector<std::pair<std::string, Value>> keyed;
  for (Value term : terms)
    keyed.push_back({structuralKey(term), term});
  std::stable_sort(keyed.begin(), keyed.end(),
                   [](auto &a, auto &b) { return a.first < b.first; });
  for (auto [i, entry] : llvm::enumerate(keyed))
    terms[i] = entry.second;
}

/// Products: -a * b = -(a * b); a literal -1 is a negation too.
static bool extractNegations(Chain &chain) {
  bool negate = false;
  for (Value &term : chain.terms)
    while (auto neg = term.getDefiningOp<NegOp>()) {
      term = neg.getX();
      negate = !negate;
    }
  if (chain.literal < 0) {
    chain.literal = -chain.literal;
    negate = !negate;
  }
  return negate;
}

/// Products: g * g = g2, g2 * g = g3.
static bool mergePowersOfG(Chain &chain, PatternRewriter &rewriter,
                           Location loc) {
  unsigned g = 0, g2 = 0;
  SmallVector<Value> rest;
  for (Value term : chain.terms) {
    if (term.getDefiningOp<GOp>())
      ++g;
    else if (term.getDefiningOp<G2Op>())
      ++g2;
    else
      rest.push_back(term);
  }
  if (g < 2 && !(g == 1 && g2 >= 1))
    return false;
  unsigned g3 = 0;
  for (; g >= 2; g -= 2)
    ++g2;
  for (; g >= 1 && g2 >= 1; --g, --g2)
    ++g3;
  auto add = [&](auto tag, unsigned count) {
    for (unsigned i = 0; i < count; ++i)
      rest.push_back(rewriter.create<decltype(tag)>(loc));
  };
  add(GOp(), g);
  add(G2Op(), g2);
  add(G3Op(), g3);
  chain.terms = std::move(rest);
  return true;
}

template <typename OpTy> struct CanonicalChain : OpRewritePattern<OpTy> {
  using OpRewritePattern<OpTy>::OpRewritePattern;

  LogicalResult matchAndRewrite(OpTy op,
                                PatternRewriter &rewriter) const override {
    // Only the root of a chain rewrites; inner links are rebuilt with it.
    if (isLink<OpTy>(op.getResult()) &&
        isa<OpTy>(*op.getResult().getUsers().begin()))
      return failure();
    Chain chain{{}, ChainTraits<OpTy>::identity};
    collect<OpTy>(op.getResult(), chain, /*isRoot=*/true);
    if (!std::isfinite(chain.literal))
      return failure(); // an infinite literal has no rule text
    SmallVector<Value> before = chain.terms;
    bool negate = false, merged = false;
    if constexpr (std::is_same_v<OpTy, MulOp>) {
      negate = extractNegations(chain);
      merged = mergePowersOfG(chain, rewriter, op.getLoc());
    }
    sortTerms(chain.terms);
    bool literalCanonical = chain.numLiterals == 0 ||
                            (chain.numLiterals == 1 &&
                             chain.literal != ChainTraits<OpTy>::identity &&
                             !negate && before == chain.terms);
    if (!negate && !merged && chain.leftLeaning && before == chain.terms &&
        literalCanonical)
      return failure();
    rewriter.replaceOp(op, rebuild(chain, negate, rewriter, op.getLoc()));
    return success();
  }

  static Value rebuild(const Chain &chain, bool negate,
                       PatternRewriter &rewriter, Location loc) {
    Value result;
    auto append = [&](Value term) {
      result =
          result ? rewriter.create<OpTy>(loc, result, term).getResult() : term;
    };
    for (Value term : chain.terms)
      append(term);
    if (chain.numLiterals &&
        (chain.literal != ChainTraits<OpTy>::identity || !result))
      append(rewriter.create<ConstantOp>(
          loc, rewriter.getF64FloatAttr(chain.literal)));
    if (!result)
      result = rewriter.create<ConstantOp>(
          loc, rewriter.getF64FloatAttr(ChainTraits<OpTy>::identity));
    if (negate)
      result = rewriter.create<NegOp>(loc, result);
    return result;
  }
};
} // namespace

/// x - -y = x + y, bit for bit (IEEE defines x - z as x + (-z)), so the
/// sum then joins its chain: `a - -m` and `m + a` are one rule. Without it
/// a search trained both (two strategies' chosen rules differed only so).
struct SubtractNegation : OpRewritePattern<SubOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(SubOp op,
                                PatternRewriter &rewriter) const override {
    auto neg = op.getRhs().getDefiningOp<NegOp>();
    if (!neg)
      return failure();
    rewriter.replaceOpWithNewOp<AddOp>(op, op.getLhs(), neg.getX());
    return success();
  }
};

// Sub has no canonicalizer of its own (its Kind is Plain); its one rewrite
// produces a sum, so it is registered with the sums'.
void AddOp::getCanonicalizationPatterns(RewritePatternSet &patterns,
                                        MLIRContext *context) {
  patterns.add<CanonicalChain<AddOp>, SubtractNegation>(context);
}

void MulOp::getCanonicalizationPatterns(RewritePatternSet &patterns,
                                        MLIRContext *context) {
  patterns.add<CanonicalChain<MulOp>>(context);
}
