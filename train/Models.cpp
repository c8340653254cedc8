//===- Models.cpp - Child networks for scoring update rules ---------------===//
//
// Builds the child networks from torch::nn modules. Arguments are checked
// here because a wrong size otherwise surfaces only at the first forward
// pass, deep inside a search worker, as a shape mismatch.
//
//===----------------------------------------------------------------------===//

#include "nos/train/Models.h"

#include <torch/nn/modules/activation.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/embedding.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/pooling.h>
#include <torch/nn/modules/rnn.h>

#include <stdexcept>
#include <string>

namespace nos::train {
namespace {

void requirePositive(int64_t value, const char *what) {
  if (value <= 0)
    throw std::invalid_argument(std::string(what) + " must be positive, got " +
                                std::to_string(value));
}

torch::nn::Conv2d conv3x3(int64_t in, int64_t out) {
  return torch::nn::Conv2d(
      torch::nn::Conv2dOptions(in, out, 3).stride(1).padding(1));
}

/// An LSTM as a Sequential stage: its outputs at every position, without
/// the final states that torch's module also returns.
class LstmOutputsImpl : public torch::nn::Module {
public:
  LstmOutputsImpl(int64_t inputs, int64_t hidden)
      : lstm(register_module(
            "lstm",
            torch::nn::LSTM(
                torch::nn::LSTMOptions(inputs, hidden).batch_first(true)))) {}
  torch::Tensor forward(const torch::Tensor &x) {
    return std::get<0>(lstm->forward(x));
  }

private:
  torch::nn::LSTM lstm;
};
TORCH_MODULE(LstmOutputs);

} // namespace

torch::nn::Sequential mlp(int64_t inputs, std::vector<int64_t> hidden,
                          int64_t classes) {
  requirePositive(inputs, "input count");
  requirePositive(classes, "class count");
  torch::nn::Sequential net;
  net->push_back(torch::nn::Flatten());
  int64_t width = inputs;
  for (int64_t next : hidden) {
    requirePositive(next, "hidden width");
    net->push_back(torch::nn::Linear(width, next));
    net->push_back(torch::nn::ReLU());
    width = next;
  }
  net->push_back(torch::nn::Linear(width, classes));
  return net;
}

torch::nn::Sequential convNet(int64_t channels, int64_t height, int64_t width,
                              int64_t classes, int64_t filters) {
  requirePositive(channels, "channel count");
  requirePositive(classes, "class count");
  requirePositive(filters, "filter count");
  if (height < 2 || width < 2)
    throw std::invalid_argument("images must be at least 2x2 to pool, got " +
                                std::to_string(height) + "x" +
                                std::to_string(width));
  int64_t pooled = filters * (height / 2) * (width / 2);
  return torch::nn::Sequential(
      conv3x3(channels, filters), torch::nn::ReLU(), conv3x3(filters, filters),
      torch::nn::ReLU(), torch::nn::MaxPool2d(torch::nn::MaxPool2dOptions(2)),
      torch::nn::Flatten(), torch::nn::Linear(pooled, classes));
}

torch::nn::Sequential charLstm(int64_t classes, int64_t embedding,
                               int64_t hidden) {
  requirePositive(classes, "class count");
  requirePositive(embedding, "embedding size");
  requirePositive(hidden, "hidden width");
  return torch::nn::Sequential(
      torch::nn::Embedding(classes, embedding), LstmOutputs(embedding, hidden),
      torch::nn::Linear(hidden, classes),
      torch::nn::Flatten(torch::nn::FlattenOptions().start_dim(0).end_dim(1)));
}

} // namespace nos::train
