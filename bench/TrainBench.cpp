//===- TrainBench.cpp - Optimizer step time on a real model ---------------===//
//
// Gradients are filled once with random values and only optimizer.step() is
// timed, so the forward and backward passes, which the optimizer does not
// change, do not dilute the ratio. The eager baseline is Adam as PyTorch's
// single-tensor CPU loop writes it, one parameter at a time.
//
//===----------------------------------------------------------------------===//
#include "TrainBench.h"

#include "nos/Statistics.h"
#include "nos/torch/Optimizer.h"
#include "nos/train/Trainer.h"

#include <torch/cuda.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <functional>
#include <memory>
#include <optional>
#include <sstream>
#include <thread>
#include <vector>

namespace nos::bench {

namespace {
torch::nn::Sequential makeModel(const TrainBenchOptions &o,
                                const torch::Device &device) {
  torch::manual_seed(0);
  torch::nn::Sequential model;
  int64_t in = 784;
  for (int64_t i = 0; i < o.layers; ++i) {
    model->push_back(torch::nn::Linear(in, o.width));
    model->push_back(torch::nn::ReLU());
    in = o.width;
  }
  model->push_back(torch::nn::Linear(in, 10));
  model->to(device); // drawn on the CPU: the same model on every device
  for (auto &p : model->parameters())
    p.mutable_grad() = torch::randn_like(p) * 1e-3;
  return model;
}

/// Waits for the device's queued work, so a GPU step is timed to its end.
void finish(const torch::Device &device) {
  if (device.is_cuda())
    torch::cuda::synchronize(device.index());
}

double medianMs(int reps, const std::function<void()> &run,
                const torch::Device &device = torch::kCPU) {
  auto step = [&] {
    run();
    finish(device);
  };
  step(); // warm-up: state allocation, compilation, first touch
  std::vector<double> times;
  for (int i = 0; i < reps; ++i) {
    auto start = std::chrono::steady_clock::now();
    step();
    times.push_back(std::chrono::duration<double, std::milli>(
                        std::chrono::steady_clock::now() - start)
                        .count());
  }
  return median(std::move(times));
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

std::string benchTrainStep(const TrainBenchOptions &o, std::string *error) {
  // nos::Optimizer's pool uses every core; torch gets as many threads.
  int threads =
      o.threads > 0 ? o.threads : int(std::thread::hardware_concurrency());
  at::set_num_threads(threads);
  std::optional<torch::Device> device;
  try {
    device.emplace(train::resolveDevice(o.device));
  } catch (const std::exception &e) {
    *error = e.what();
    return {};
  }
  auto nosModel = makeModel(o, *device), torchModel = makeModel(o, *device),
       eagerModel = makeModel(o, *device);
  int64_t params = 0;
  for (auto &p : nosModel->parameters())
    params += p.numel();
  nos::Optimizer nosAdam(nosModel->parameters(), "adam",
                         nos::OptimizerOptions(1e-3));
  torch::optim::Adam torchAdam(torchModel->parameters(),
                               torch::optim::AdamOptions(1e-3));
  EagerAdam eager(eagerModel->parameters());
  double nosMs = medianMs(
      o.reps, [&] { nosAdam.step(); }, *device);
  double torchMs = medianMs(
      o.reps, [&] { torchAdam.step(); }, *device);
  double eagerMs = medianMs(
      o.reps, [&] { eager(); }, *device);
  std::ostringstream os;
  os.precision(4);
  os << "{\"bench\":\"train\",\"rule\":\"adam\",\"device\":\"" << device->str()
     << "\",\"params\":" << params
     << ",\"tensors\":" << nosModel->parameters().size()
     << ",\"threads\":" << at::get_num_threads() << ",\"nos_ms\":" << nosMs
     << ",\"torch_adam_ms\":" << torchMs << ",\"eager_ms\":" << eagerMs
     << ",\"torch_optim_ratio\":" << torchMs / nosMs
     << ",\"eager_ratio\":" << eagerMs / nosMs << "}";
  return os.str();
}

namespace {
/// An MLP inputs-hidden-10 and one batch to train it on.
struct Lane {
  torch::Tensor w1, b1, w2, b2;
  std::unique_ptr<nos::Optimizer> optimizer;

  Lane(int64_t inputs, int64_t hidden, double lr) {
    w1 = (torch::randn({inputs, hidden}) * 0.05).requires_grad_();
    b1 = torch::zeros({hidden}).requires_grad_();
    w2 = (torch::randn({hidden, 10}) * 0.05).requires_grad_();
    b2 = torch::zeros({10}).requires_grad_();
    optimizer = std::make_unique<nos::Optimizer>(
        std::vector<torch::Tensor>{w1, b1, w2, b2}, "adam",
        nos::OptimizerOptions(lr));
  }
  void step(const torch::Tensor &x, const torch::Tensor &y) {
    optimizer->zero_grad();
    torch::Tensor h = torch::relu(torch::addmm(b1, x, w1));
    torch::nn::functional::cross_entropy(torch::addmm(b2, h, w2), y).backward();
    optimizer->step();
  }
};

/// Every lane's first layer as one [inputs, K * hidden] GEMM over the
/// shared batch, the heads as one bmm; each lane keeps its own leaf
/// tensors (and its own lr), joined by cat, so its gradients are its own.
void stackedStep(std::vector<Lane> &lanes, const torch::Tensor &x,
                 const torch::Tensor &y) {
  int64_t k = int64_t(lanes.size()), batch = x.size(0);
  std::vector<torch::Tensor> w1, b1, w2, b2;
  for (Lane &l : lanes) {
    l.optimizer->zero_grad();
    w1.push_back(l.w1), b1.push_back(l.b1);
    w2.push_back(l.w2), b2.push_back(l.b2.unsqueeze(0));
  }
  torch::Tensor h =
      torch::relu(torch::addmm(torch::cat(b1), x, torch::cat(w1, 1)));
  int64_t hidden = lanes[0].w1.size(1);
  torch::Tensor hk = h.view({batch, k, hidden}).transpose(0, 1);
  torch::Tensor logits =
      torch::baddbmm(torch::stack(b2), hk, torch::stack(w2)); // [k, B, 10]
  // Mean over the batch of each lane, summed over lanes: lane i's
  // gradients are those of its own loss.
  torch::nn::functional::cross_entropy(
      logits.reshape({k * batch, 10}), y.repeat({k}),
      torch::nn::functional::CrossEntropyFuncOptions().reduction(torch::kSum))
      .div(double(batch))
      .backward();
  for (Lane &l : lanes)
    l.optimizer->step();
}
} // namespace

bool benchProxyStep(int threads, int reps, StepFigures &out, std::string *) {
  at::set_num_threads(threads > 0 ? threads
                                  : int(std::thread::hardware_concurrency()));
  torch::manual_seed(0);
  torch::Tensor x = torch::randn({128, 784}), a = torch::randn({1024, 1024}),
                b = torch::randn({1024, 1024});
  torch::Tensor y = torch::randint(0, 10, {128}, torch::kLong);
  torch::nn::Sequential model;
  model->push_back(torch::nn::Linear(784, 128));
  model->push_back(torch::nn::ReLU());
  model->push_back(torch::nn::Linear(128, 10));
  nos::Optimizer sgd(model->parameters(), "sgd", nos::OptimizerOptions(0.01));
  out.stepMs = medianMs(reps * 10, [&] {
    sgd.zero_grad();
    torch::nn::functional::cross_entropy(model->forward(x), y).backward();
    sgd.step();
  });
  // Forward 2 * batch * weights; backward twice that (input and weight
  // gradients).
  double flops = 3.0 * 2 * 128 * (784 * 128 + 128 * 10);
  out.stepGflops = flops / (out.stepMs * 1e6);
  double mmMs = medianMs(reps, [&] { torch::mm(a, b); });
  out.mmGflops = 2.0 * 1024 * 1024 * 1024 / (mmMs * 1e6);
  return true;
}

std::string benchLanes(int lanes, int reps, int threads, std::string *) {
  at::set_num_threads(threads > 0 ? threads
                                  : int(std::thread::hardware_concurrency()));
  std::string out;
  struct Shape {
    const char *name;
    int64_t inputs, hidden;
  };
  for (Shape shape :
       {Shape{"784-128-10", 784, 128}, Shape{"196-128-10", 196, 128},
        Shape{"196-32-10", 196, 32}}) {
    torch::manual_seed(0);
    torch::Tensor x = torch::randn({128, shape.inputs});
    torch::Tensor y = torch::randint(0, 10, {128}, torch::kLong);
    std::vector<Lane> one, stacked;
    for (int k = 0; k < lanes; ++k) {
      double lr = 1e-4 * std::pow(2.0, k); // all stable: equal to compare

      torch::manual_seed(100 + k);
      one.emplace_back(shape.inputs, shape.hidden, lr);
      torch::manual_seed(100 + k);
      stacked.emplace_back(shape.inputs, shape.hidden, lr);
    }
    double sequentialMs = medianMs(reps, [&] {
      for (Lane &l : one)
        l.step(x, y);
    });
    double stackedMs = medianMs(reps, [&] { stackedStep(stacked, x, y); });
    // Equal fidelity: after the same steps both hold the same weights.
    double difference = 0;
    for (int k = 0; k < lanes; ++k)
      difference = std::max(
          difference, (one[k].w1 - stacked[k].w1).abs().max().item<double>());
    std::ostringstream os;
    os.precision(4);
    os << "{\"bench\":\"lanes\",\"shape\":\"" << shape.name
       << "\",\"lanes\":" << lanes << ",\"threads\":" << at::get_num_threads()
       << ",\"one_after_another_ms\":" << sequentialMs
       << ",\"stacked_ms\":" << stackedMs
       << ",\"stacked_speedup\":" << sequentialMs / stackedMs
       << ",\"max_weight_difference\":" << difference << "}\n";
    out += os.str();
  }
  return out;
}

} // namespace nos::bench
