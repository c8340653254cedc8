//===- TrainBench.cpp - Optimizer step time on a real model ---------------===//
//
// Gradients are filled once with random values and only optimizer.step() is
// timed, so the forward and backward passes, which the optimizer does not
// change, do not dilute the ratio. The eager baseline is Adam as PyTorch's
// single-tensor CPU loop writes it, one parameter at a time.
//
//===----------------------------------------------------------------------===//
#include "TrainBench.h"

#include "nos/torch/Optimizer.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <functional>
#include <sstream>
#include <thread>
#include <vector>

namespace nos::bench {

namespace {
torch::nn::Sequential makeModel(const TrainBenchOptions &o) {
  torch::manual_seed(0);
  torch::nn::Sequential model;
  int64_t in = 784;
  for (int64_t i = 0; i < o.layers; ++i) {
    model->push_back(torch::nn::Linear(in, o.width));
    model->push_back(torch::nn::ReLU());
    in = o.width;
  }
  model->push_back(torch::nn::Linear(in, 10));
  for (auto &p : model->parameters())
    p.mutable_grad() = torch::randn_like(p) * 1e-3;
  return model;
}

double medianMs(int reps, const std::function<void()> &step) {
  step(); // warm-up: state allocation, compilation, first touch
  std::vector<double> times;
  for (int i = 0; i < reps; ++i) {
    auto start = std::chrono::steady_clock::now();
    step();
    times.push_back(std::chrono::duration<double, std::milli>(
                        std::chrono::steady_clock::now() - start)
                        .count());
  }
  std::sort(times.begin(), times.end());
  return times[times.size() / 2];
}

/// Adam as eager tensor ops (bias-corrected, eps outside the root).
struct EagerAdam {
  std::vector<torch::Tensor> params, m, v;
  int64_t step = 0;
  double lr = 1e-3, b1 = 0.9, b2 = 0.999, eps = 1e-8;

  explicit EagerAdam(std::vector<torch::Tensor> ps) : params(std::move(ps)) {
    for (auto &p : params) {
      m.push_back(torch::zeros_like(p));
      v.push_back(torch::zeros_like(p));
    }
  }
  void operator()() {
    torch::NoGradGuard noGrad;
    ++step;
    double bc1 = 1 - std::pow(b1, double(step));
    double bc2 = 1 - std::pow(b2, double(step));
    for (size_t i = 0; i < params.size(); ++i) {
      const torch::Tensor &g = params[i].grad();
      m[i].mul_(b1).add_(g, 1 - b1);
      v[i].mul_(b2).addcmul_(g, g, 1 - b2);
      torch::Tensor denom = (v[i] / bc2).sqrt_().add_(eps);
      params[i].addcdiv_(m[i], denom, -lr / bc1);
    }
  }
};
} // namespace

std::string benchTrainStep(const TrainBenchOptions &o, std::string *) {
  // nos::Optimizer's pool uses every core; torch gets as many threads.
  int threads =
      o.threads > 0 ? o.threads : int(std::thread::hardware_concurrency());
  at::set_num_threads(threads);
  auto nosModel = makeModel(o), torchModel = makeModel(o),
       eagerModel = makeModel(o);
  int64_t params = 0;
  for (auto &p : nosModel->parameters())
    params += p.numel();
  nos::Optimizer nosAdam(nosModel->parameters(), "adam",
                         nos::OptimizerOptions(1e-3));
  torch::optim::Adam torchAdam(torchModel->parameters(),
                               torch::optim::AdamOptions(1e-3));
  EagerAdam eager(eagerModel->parameters());
  double nosMs = medianMs(o.reps, [&] { nosAdam.step(); });
  double torchMs = medianMs(o.reps, [&] { torchAdam.step(); });
  double eagerMs = medianMs(o.reps, [&] { eager(); });
  std::ostringstream os;
  os.precision(4);
  os << "{\"bench\":\"train\",\"rule\":\"adam\",\"params\":" << params
     << ",\"tensors\":" << nosModel->parameters().size()
     << ",\"threads\":" << at::get_num_threads() << ",\"nos_ms\":" << nosMs
     << ",\"torch_adam_ms\":" << torchMs << ",\"eager_ms\":" << eagerMs
     << ",\"torch_optim_ratio\":" << torchMs / nosMs
     << ",\"eager_ratio\":" << eagerMs / nosMs << "}";
  return os.str();
}

} // namespace nos::bench
