//===- train.cpp - A small training loop with nos::Optimizer --------------===//
//
// Fits a two-layer network to a fixed random teacher with the update rule
// named on the command line (a built-in name or a rule string) and prints
// the loss before and after. Exits 1 if the loss did not fall to a quarter:
// the install test uses that to tell a working package from a broken one.
//
//===----------------------------------------------------------------------===//
#include "nos/torch/Optimizer.h"

#include <cstdio>
#include <exception>

int main(int argc, char **argv) {
  const char *rule = argc > 1 ? argv[1] : "powersign";
  torch::manual_seed(0);
  torch::Tensor x = torch::randn({256, 16});
  torch::Tensor y = x.matmul(torch::randn({16, 1})).tanh();
  torch::nn::Sequential model(torch::nn::Linear(16, 64), torch::nn::Tanh(),
                              torch::nn::Linear(64, 1));
  try {
    nos::Optimizer optimizer(model->parameters(), rule,
                             nos::OptimizerOptions(0.01));
    auto loss = [&] { return torch::mse_loss(model->forward(x), y); };
    double first = loss().item<double>(), last = first;
    for (int step = 0; step < 300; ++step) {
      optimizer.zero_grad();
      torch::Tensor l = loss();
      l.backward();
      optimizer.step();
      last = l.item<double>();
    }
    std::printf("rule %s (%s): loss %.4f -> %.4f\n", rule,
                optimizer.kernelInfo().canonical.c_str(), first, last);
    return last < first / 4 ? 0 : 1;
  } catch (const std::exception &e) {
    std::fprintf(stderr, "train-mlp: %s\n", e.what());
    return 2;
  }
}
