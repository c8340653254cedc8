//===- ElementLowering.cpp - One element's update in arith/math -----------===//
//
// The per-element semantics of docs/language.md in f32 arith/math ops. Every
// choice here mirrors the reference interpreter: log and sqrt of the
// magnitude, protected division, NaN-propagating clip and sign, pow with
// C's special cases, and Philox draws converted exactly to floats.
//
//===----------------------------------------------------------------------===//
#include "ElementLowering.h"

#include "nos/Philox.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

#include <cfloat>

using namespace mlir;
using namespace mlir::nos;
using Pred = arith::CmpFPredicate;

ElementEmitter::ElementEmitter(OpBuilder &builder, Location loc, unsigned width,
                               const KernelScalars &scalars,
                               const KernelLayout &layout)
    : b(builder), loc(loc), width(width), s(scalars), layout(layout) {}

Type ElementEmitter::floatType() const {
  Type f32 = b.getF32Type();
  return width == 1 ? f32 : VectorType::get({width}, f32);
}

Type ElementEmitter::intType(unsigned bits) const {
  Type i = b.getIntegerType(bits);
  return width == 1 ? i : VectorType::get({width}, i);
}

Value ElementEmitter::splat(Value scalar) {
  if (width == 1)
    return scalar;
  auto type = VectorType::get({width}, scalar.getType());
  return b.create<vector::BroadcastOp>(loc, type, scalar);
}

Value ElementEmitter::constant(double value) {
  auto attr = b.getF32FloatAttr(float(value));
  if (width == 1)
    return b.create<arith::ConstantOp>(loc, attr);
  auto type = cast<ShapedType>(floatType());
  return b.create<arith::ConstantOp>(loc, DenseElementsAttr::get(type, attr));
}

Value ElementEmitter::intConstant(uint64_t value, unsigned bits) {
  auto attr = b.getIntegerAttr(b.getIntegerType(bits), value);
  if (width == 1)
    return b.create<arith::ConstantOp>(loc, attr);
  auto type = cast<ShapedType>(intType(bits));
  return b.create<arith::ConstantOp>(loc, DenseElementsAttr::get(type, attr));
}

Value ElementEmitter::load(Value base) {
  Value i = address;
  Type ptrType = base.getType(); // the GPU kernel's are in the global space
  Value ptr = b.create<LLVM::GEPOp>(loc, ptrType, b.getF32Type(), base,
                                    ArrayRef<LLVM::GEPArg>{i});
  return b.create<LLVM::LoadOp>(loc, floatType(), ptr, /*alignment=*/4);
}

void ElementEmitter::store(Value value, Value base) {
  Value i = address;
  Type ptrType = base.getType();
  Value ptr = b.create<LLVM::GEPOp>(loc, ptrType, b.getF32Type(), base,
                                    ArrayRef<LLVM::GEPArg>{i});
  b.create<LLVM::StoreOp>(loc, value, ptr, /*alignment=*/4);
}

Value ElementEmitter::select(Value cond, Value a, Value c) {
  return b.create<arith::SelectOp>(loc, cond, a, c);
}

Value ElementEmitter::cmp(Pred pred, Value a, Value c) {
  return b.create<arith::CmpFOp>(loc, pred, a, c);
}

/// beta * old + (1 - beta) * x, with 1 - beta rounded once from double (as
/// torch::optim does), not formed from the rounded beta in f32.
Value ElementEmitter::runningAverage(Value oldValue, Value x, Value beta,
                                     Value oneMinus) {
  Value kept = b.create<arith::MulFOp>(loc, beta, oldValue);
  Value added = b.create<arith::MulFOp>(loc, oneMinus, x);
  return b.create<arith::AddFOp>(loc, kept, added);
}

Value ElementEmitter::updateSlot(unsigned slot, Value x, Value beta,
                                 Value oneMinus) {
  Value updated = runningAverage(load(ptrs->state[slot]), x, beta, oneMinus);
  store(updated, ptrs->state[slot]);
  return updated;
}

/// m, v and gamma are updated before the rule reads them (language.md §1).
void ElementEmitter::updateMoments(Value grad) {
  unsigned slot = 0;
  Value g2 = b.create<arith::MulFOp>(loc, grad, grad);
  auto moment = [&](bool used, Value x, int k) -> Value {
    if (!used)
      return {};
    Value raw =
        updateSlot(slot++, x, splat(s.beta[k]), splat(s.oneMinusBeta[k]));
    return b.create<arith::MulFOp>(loc, raw, splat(s.bc[k]));
  };
  m = moment(layout.usesM, grad, 0);
  v = moment(layout.usesV, g2, 1);
  Value g3 = layout.usesGamma ? b.create<arith::MulFOp>(loc, g2, grad) : g2;
  gamma = moment(layout.usesGamma, g3, 2);
}

void ElementEmitter::emit(RuleOp rule, Value i, const TensorPointers &pointers,
                          Value at) {
  ptrs = &pointers;
  address = at ? at : i;
  lowered.clear();
  // KernelABI.h: maximize negates g before anything reads it; decoupled
  // weight decay scales w as the update is applied (both 1 when unused,
  // which leaves every bit as it was).
  g = b.create<arith::MulFOp>(loc, splat(s.gscale), load(ptrs->g));
  w = load(ptrs->w);
  updateMoments(g);
  drawAll(rule, i);
  for (Operation &op : rule.getBody().front().without_terminator())
    lowered[op.getResult(0)] = lowerOp(&op);
  Value update = lowered.lookup(rule.getUpdate());
  Value step = b.create<arith::MulFOp>(loc, splat(s.lr), update);
  Value kept = b.create<arith::MulFOp>(loc, splat(s.wscale), w);
  store(b.create<arith::SubFOp>(loc, kept, step), ptrs->w);
}

Value ElementEmitter::lowerOp(Operation *op) {
  if (auto ema = dyn_cast<EmaOp>(op)) {
    auto position = llvm::find(layout.emas, ema) - layout.emas.begin();
    unsigned slot = layout.firstEmaSlot() + unsigned(position);
    double beta = ema.getBeta().convertToDouble();
    return updateSlot(slot, lowered.lookup(ema.getX()), constant(beta),
                      constant(1.0 - beta));
  }
  if (op->getNumOperands() == 0)
    return lowerLeaf(op);
  Value x = lowered.lookup(op->getOperand(0));
  if (op->getNumOperands() == 1)
    return lowerUnary(op, x);
  return lowerBinary(op, x, lowered.lookup(op->getOperand(1)));
}

Value ElementEmitter::sqrtPlusEps(Value x) {
  Value root = b.create<math::SqrtOp>(loc, x);
  return b.create<arith::AddFOp>(loc, root, splat(s.eps));
}

Value ElementEmitter::lowerLeaf(Operation *op) {
  if (isa<LDOp, CDOp, RDOp>(op)) {
    auto position = llvm::find(layout.schedules, op) - layout.schedules.begin();
    return splat(s.sched[position]);
  }
  if (auto c = dyn_cast<ConstantOp>(op))
    return constant(c.getValue().convertToDouble());
  std::optional<::nos::Operand> operand = operandOf(op);
  assert(operand && "unhandled nos leaf op");
  return lowerOperand(*operand, op);
}

// Exhaustive, so an operand added to Operands.def without a meaning here
// stops the build (-Werror=switch).
Value ElementEmitter::lowerOperand(::nos::Operand operand, Operation *op) {
  using ::nos::Operand;
  switch (operand) {
  case Operand::G:
    return g;
  case Operand::G2:
    return b.create<arith::MulFOp>(loc, g, g);
  case Operand::G3:
    return b.create<arith::MulFOp>(loc, b.create<arith::MulFOp>(loc, g, g), g);
  case Operand::M:
    return m;
  case Operand::V:
    return v;
  case Operand::Gamma:
    return gamma;
  case Operand::W:
    return w;
  case Operand::Noise:
    return b.create<arith::MulFOp>(loc, normal(cast<NoiseOp>(op).getStream()),
                                   constant(0.1));
  case Operand::ANoise:
    return b.create<arith::MulFOp>(loc, normal(cast<ANoiseOp>(op).getStream()),
                                   splat(s.anoiseStd));
  case Operand::Adam:
    return b.create<arith::DivFOp>(loc, m, sqrtPlusEps(v));
  case Operand::RMSProp:
    return b.create<arith::DivFOp>(loc, g, sqrtPlusEps(v));
  }
  llvm_unreachable("unknown operand");
}

// Exhaustive over Functions.def, so a function without a meaning here stops
// the build (-Werror=switch).
Value ElementEmitter::lowerUnary(Operation *op, Value x) {
  using ::nos::UnaryFn;
  std::optional<UnaryFn> fn = unaryFnOf(op);
  assert(fn && "unhandled nos unary op");
  switch (*fn) {
  case UnaryFn::Neg:
    return b.create<arith::NegFOp>(loc, x);
  case UnaryFn::Exp:
    return b.create<math::ExpOp>(loc, x);
  case UnaryFn::Log:
    return logAbs(x);
  case UnaryFn::Sqrt:
    return b.create<math::SqrtOp>(loc, b.create<math::AbsFOp>(loc, x));
  case UnaryFn::Sign:
    return sign(x);
  case UnaryFn::Clip: {
    double c = unaryParamOf(op);
    Value low = b.create<arith::MaximumFOp>(loc, x, constant(-c));
    return b.create<arith::MinimumFOp>(loc, low, constant(c));
  }
  case UnaryFn::Drop: {
    auto drop = cast<DropOp>(op);
    Value u = uniform(philox(drop.getStream())[0], /*openAtZero=*/false);
    Value p = constant(unaryParamOf(op));
    return select(cmp(Pred::OGE, u, p), x, constant(0.0));
  }
  }
  llvm_unreachable("unknown unary function");
}

Value ElementEmitter::lowerBinary(Operation *op, Value x, Value y) {
  using ::nos::BinaryFn;
  std::optional<BinaryFn> fn = binaryFnOf(op);
  assert(fn && "unhandled nos binary op");
  switch (*fn) {
  case BinaryFn::Add:
    return b.create<arith::AddFOp>(loc, x, y);
  case BinaryFn::Sub:
    return b.create<arith::SubFOp>(loc, x, y);
  case BinaryFn::Mul:
    return b.create<arith::MulFOp>(loc, x, y);
  case BinaryFn::Div:
    return b.create<arith::DivFOp>(
        loc, x, b.create<arith::AddFOp>(loc, y, splat(s.delta)));
  case BinaryFn::Pow:
    return pow(x, y);
  case BinaryFn::Left:
    return x;
  }
  llvm_unreachable("unknown binary function");
}

/// -1, 0 or 1; NaN (and -0) pass through unchanged.
Value ElementEmitter::sign(Value x) {
  Value zero = constant(0.0);
  Value negOrSelf = select(cmp(Pred::OLT, x, zero), constant(-1.0), x);
  return select(cmp(Pred::OGT, x, zero), constant(1.0), negOrSelf);
}

/// log|x|. The polynomial log clamps subnormal inputs to the smallest normal
/// number, so they are scaled up by 2^24 first and the logarithm corrected.
Value ElementEmitter::logAbs(Value x) {
  Value magnitude = b.create<math::AbsFOp>(loc, x);
  Value tiny = cmp(Pred::OLT, magnitude, constant(FLT_MIN));
  Value scaled = b.create<arith::MulFOp>(loc, magnitude, constant(16777216.0));
  Value log = b.create<math::LogOp>(loc, select(tiny, scaled, magnitude));
  Value corrected = b.create<arith::SubFOp>(loc, log, constant(24 * M_LN2));
  return select(tiny, corrected, log);
}

/// C's pow: exp(y log|x|), negated for x < 0 and odd integer y, NaN for x < 0
/// and non-integer y, 1 when y = 0 or x = 1.
Value ElementEmitter::pow(Value x, Value y) {
  Value product = b.create<arith::MulFOp>(loc, y, logAbs(x));
  Value magnitude = b.create<math::ExpOp>(loc, product);
  Value isInteger = cmp(Pred::OEQ, b.create<math::FloorOp>(loc, y), y);
  Value half = b.create<arith::MulFOp>(loc, y, constant(0.5));
  Value isOdd = b.create<arith::AndIOp>(
      loc, isInteger, cmp(Pred::ONE, b.create<math::FloorOp>(loc, half), half));
  Value negated = b.create<arith::NegFOp>(loc, magnitude);
  Value nan = constant(std::numeric_limits<float>::quiet_NaN());
  Value ofNegative = select(isInteger, select(isOdd, negated, magnitude), nan);
  Value result =
      select(cmp(Pred::OLT, x, constant(0.0)), ofNegative, magnitude);
  Value isOne = b.create<arith::OrIOp>(loc, cmp(Pred::OEQ, y, constant(0.0)),
                                       cmp(Pred::OEQ, x, constant(1.0)));
  return select(isOne, constant(1.0), result);
}

Value ElementEmitter::laneIndices(Value i) {
  if (width == 1)
    return i;
  SmallVector<int64_t> lanes;
  for (unsigned lane = 0; lane < width; ++lane)
    lanes.push_back(lane);
  auto type = cast<ShapedType>(intType(64));
  Value offsets = b.create<arith::ConstantOp>(
      loc, DenseElementsAttr::get(type, ArrayRef<int64_t>(lanes)));
  return b.create<arith::AddIOp>(loc, splat(i), offsets);
}

/// One Philox round of a counter {c0, c1, c2, c3} under key (k0, k1).
void ElementEmitter::philoxRound(MutableArrayRef<Value> c, Value k0, Value k1) {
  auto p0 = b.create<arith::MulUIExtendedOp>(loc, c[0],
                                             intConstant(::nos::kPhiloxM0, 32));
  auto p1 = b.create<arith::MulUIExtendedOp>(loc, c[2],
                                             intConstant(::nos::kPhiloxM1, 32));
  Value n0 = b.create<arith::XOrIOp>(
      loc, b.create<arith::XOrIOp>(loc, p1.getHigh(), c[1]), k0);
  Value n2 = b.create<arith::XOrIOp>(
      loc, b.create<arith::XOrIOp>(loc, p0.getHigh(), c[3]), k1);
  c[0] = n0, c[1] = p1.getLow(), c[2] = n2, c[3] = p0.getLow();
}

/// The stream of a random draw (noise, anoise, drop), if `op` is one.
static std::optional<uint32_t> streamOf(Operation *op) {
  if (auto noise = dyn_cast<NoiseOp>(op))
    return noise.getStream();
  if (auto anoise = dyn_cast<ANoiseOp>(op))
    return anoise.getStream();
  if (auto drop = dyn_cast<DropOp>(op))
    return drop.getStream();
  return std::nullopt;
}

/// Philox-4x32-10 with counter (index lo, index hi, step, node) and key seed,
/// round for round as nos::philox4x32 in include/nos/Philox.h, for every
/// draw of the rule at once. The rounds are a loop of two rounds a trip,
/// not ten copies per draw: unrolled, they were most of a stochastic rule's
/// code, and instruction selection cost ~9 ms per draw (docs/search.md).
/// One loop for all draws keeps independent draws' rounds interleaved, as
/// the unrolled code had them; a loop per draw ran ~40% slower with three.
void ElementEmitter::drawAll(RuleOp rule, Value i) {
  draws.clear();
  SmallVector<uint32_t> streams;
  for (Operation &op : rule.getBody().front().without_terminator())
    if (std::optional<uint32_t> stream = streamOf(&op))
      if (!llvm::is_contained(streams, *stream))
        streams.push_back(*stream);
  if (streams.empty())
    return;
  Value index = b.create<arith::AddIOp>(loc, laneIndices(i), splat(s.rngBase));
  Type i32 = intType(32);
  Value lo = b.create<arith::TruncIOp>(loc, i32, index);
  Value hi = b.create<arith::TruncIOp>(
      loc, i32, b.create<arith::ShRUIOp>(loc, index, intConstant(32, 64)));
  SmallVector<Value> init = {splat(s.seedLo), splat(s.seedHi)};
  for (uint32_t stream : streams)
    init.append({lo, hi, splat(s.step32), intConstant(stream, 32)});
  constexpr int64_t kRounds = 10, kRoundsPerTrip = 2;
  auto bound = [&](int64_t v) {
    return b.create<arith::ConstantIntOp>(loc, v, 64).getResult();
  };
  auto loop = b.create<scf::ForOp>(
      loc, bound(0), bound(kRounds / kRoundsPerTrip), bound(1), init,
      [&](OpBuilder &nested, Location, Value, ValueRange args) {
        OpBuilder::InsertionGuard guard(b);
        b.setInsertionPoint(nested.getInsertionBlock(),
                            nested.getInsertionPoint());
        SmallVector<Value> c(args.begin(), args.end());
        for (int64_t r = 0; r < kRoundsPerTrip; ++r) {
          for (size_t d = 0; d < streams.size(); ++d)
            philoxRound(MutableArrayRef<Value>(c).slice(2 + 4 * d, 4), c[0],
                        c[1]);
          c[0] = b.create<arith::AddIOp>(loc, c[0],
                                         intConstant(::nos::kPhiloxW0, 32));
          c[1] = b.create<arith::AddIOp>(loc, c[1],
                                         intConstant(::nos::kPhiloxW1, 32));
        }
        b.create<scf::YieldOp>(loc, c);
      });
  for (auto [d, stream] : llvm::enumerate(streams)) {
    ValueRange words = loop.getResults().slice(2 + 4 * d, 4);
    draws[stream].assign(words.begin(), words.end());
  }
}

SmallVector<Value, 4> ElementEmitter::philox(uint32_t node) {
  auto found = draws.find(node);
  assert(found != draws.end() && "a draw drawAll did not see");
  return found->second;
}

/// (bits >> 8) * 2^-24, or ((bits >> 8) + 1) * 2^-24: exact in f32.
Value ElementEmitter::uniform(Value bits, bool openAtZero) {
  Value top = b.create<arith::ShRUIOp>(loc, bits, intConstant(8, 32));
  if (openAtZero)
    top = b.create<arith::AddIOp>(loc, top, intConstant(1, 32));
  Value asFloat = b.create<arith::UIToFPOp>(loc, floatType(), top);
  return b.create<arith::MulFOp>(loc, asFloat, constant(1.0 / 16777216.0));
}

/// Box-Muller from the first two Philox words.
Value ElementEmitter::normal(uint32_t node) {
  SmallVector<Value, 4> bits = philox(node);
  Value u1 = uniform(bits[0], true), u2 = uniform(bits[1], false);
  Value logU1 = b.create<math::LogOp>(loc, u1);
  Value radius = b.create<math::SqrtOp>(
      loc, b.create<arith::MulFOp>(loc, constant(-2.0), logU1));
  Value angle = b.create<arith::MulFOp>(loc, u2, constant(2.0 * M_PI));
  return b.create<arith::MulFOp>(loc, radius,
                                 b.create<math::CosOp>(loc, angle));
}
