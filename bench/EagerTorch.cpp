//===- EagerTorch.cpp - LibTorch baselines of the bench rules -------------===//
//
// The only torch translation unit of the benchmark. Eager steps are written
// the way a PyTorch user would write them (in-place ops where natural), with
// the same per-step scalars (bias corrections) nos's kernels receive, so the
// comparison is about fusion, not about formulas. torch::optim gives the
// library's own Adam, SGD and RMSprop for the rules that have one.
//
//===----------------------------------------------------------------------===//
#include "EagerTorch.h"

#include <ATen/Parallel.h>
#include <torch/optim/adam.h>
#include <torch/optim/rmsprop.h>
#include <torch/optim/sgd.h>

#include <functional>

namespace nos::bench {
namespace {

struct EagerState {
  at::Tensor w, g, m, v;
};

using EagerFn = std::function<void(EagerState &, const NosArgs &)>;

void updateM(EagerState &s, const NosArgs &a) {
  s.m.mul_(a.beta1).add_(s.g, a.omb1);
}

void updateV(EagerState &s, const NosArgs &a) {
  s.v.mul_(a.beta2).addcmul_(s.g, s.g, a.omb2);
}

at::Tensor correctedDenominator(const EagerState &s, const NosArgs &a) {
  return s.v.mul(a.bc2).sqrt_().add_(a.eps);
}

at::Tensor signProduct(const EagerState &s) {
  return at::sign(s.g).mul_(at::sign(s.m));
}

void sgd(EagerState &s, const NosArgs &a) { s.w.add_(s.g, -a.lr); }

// PyTorch's buffer b <- 0.9 b + g is 10 * ema(g, 0.9).
void momentum(EagerState &s, const NosArgs &a) {
  s.m.mul_(0.9).add_(s.g);
  s.w.add_(s.m, -a.lr);
}

void adam(EagerState &s, const NosArgs &a) {
  updateM(s, a);
  updateV(s, a);
  s.w.addcdiv_(s.m, correctedDenominator(s, a), -double(a.lr) * a.bc1);
}

// The built-in rmsprop, g / sqrt(ema(g2, 0.99)): PyTorch's RMSprop.
void rmsprop(EagerState &s, const NosArgs &a) {
  s.v.mul_(0.99).addcmul_(s.g, s.g, 0.01);
  s.w.addcdiv_(s.g, s.v.sqrt().add_(a.delta), -a.lr);
}

void powerSign(EagerState &s, const NosArgs &a) {
  updateM(s, a);
  s.w.addcmul_(signProduct(s).exp_(), s.g, -a.lr);
}

void addSign(EagerState &s, const NosArgs &a) {
  updateM(s, a);
  s.w.addcmul_(signProduct(s).add_(1.0), s.g, -a.lr);
}

EagerFn eagerFor(const std::string &rule) {
  if (rule == "sgd")
    return sgd;
  if (rule == "momentum")
    return momentum;
  if (rule == "adam")
    return adam;
  if (rule == "rmsprop")
    return rmsprop;
  if (rule == "powersign")
    return powerSign;
  if (rule == "addsign")
    return addSign;
  return nullptr;
}

std::unique_ptr<torch::optim::Optimizer>
optimizerFor(const std::string &rule, const at::Tensor &w, const Hyper &h) {
  std::vector<at::Tensor> params{w};
  if (rule == "adam")
    return std::make_unique<torch::optim::Adam>(
        params,
        torch::optim::AdamOptions(h.lr).betas({h.beta1, h.beta2}).eps(h.eps));
  if (rule == "sgd")
    return std::make_unique<torch::optim::SGD>(params,
                                               torch::optim::SGDOptions(h.lr));
  if (rule == "momentum")
    return std::make_unique<torch::optim::SGD>(
        params, torch::optim::SGDOptions(h.lr).momentum(0.9));
  if (rule == "rmsprop")
    return std::make_unique<torch::optim::RMSprop>(
        params, torch::optim::RMSpropOptions(h.lr).alpha(0.99).eps(h.delta));
  return nullptr;
}

at::Tensor copyOf(const float *p, int64_t n) {
  return torch::from_blob(const_cast<float *>(p), {n}, torch::kFloat).clone();
}

class Baseline final : public TorchBaseline {
public:
  Baseline(EagerFn fn, const std::string &rule, const float *w, const float *g,
           int64_t n, const Hyper &h)
      : fn_(std::move(fn)) {
    eager_ = {copyOf(w, n), copyOf(g, n), torch::zeros({n}), torch::zeros({n})};
    optimW_ = copyOf(w, n);
    optim_ = optimizerFor(rule, optimW_, h);
    if (optim_)
      optimW_.mutable_grad() = eager_.g;
  }

  void eagerStep(const NosArgs &args) override { fn_(eager_, args); }
  bool hasOptimizer() const override { return optim_ != nullptr; }
  void optimizerStep() override { optim_->step(); }
  const float *eagerWeights() const override {
    return eager_.w.data_ptr<float>();
  }

private:
  EagerFn fn_;
  EagerState eager_;
  at::Tensor optimW_;
  std::unique_ptr<torch::optim::Optimizer> optim_;
};

} // namespace

std::unique_ptr<TorchBaseline> makeTorchBaseline(const std::string &rule,
                                                 const float *w, const float *g,
                                                 int64_t n, const Hyper &hyper,
                                                 int threads) {
  EagerFn fn = eagerFor(rule);
  if (!fn)
    return nullptr;
  at::set_num_threads(threads);
  return std::make_unique<Baseline>(std::move(fn), rule, w, g, n, hyper);
}

} // namespace nos::bench
