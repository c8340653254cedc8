//===- Models.h - Child networks for scoring update rules -------*- C++ -*-===//
//
// The small networks the search trains with each candidate optimizer, after
// Bello et al. (2017): a multilayer perceptron and a two-layer 3x3 ConvNet;
// and the suite's language model, a character-level LSTM.
// They are plain torch::nn::Sequential modules so that any torch optimizer,
// nos's own included, can train them; their initialisation draws only from
// torch's global generator, so torch::manual_seed fixes it.
//
//===----------------------------------------------------------------------===//
#ifndef NOS_MODELS_H
#define NOS_MODELS_H

#include <torch/nn/modules/container/sequential.h>

#include <cstdint>
#include <vector>

namespace nos::train {

/// Flatten, then Linear+ReLU for each width in `hidden`, then a Linear head
/// producing `classes` logits. Accepts [N, D] or [N, C, H, W] inputs with
/// C*H*W == `inputs`.
torch::nn::Sequential mlp(int64_t inputs, std::vector<int64_t> hidden,
                          int64_t classes);

/// Conv3x3(channels -> filters), ReLU, Conv3x3(filters -> filters), ReLU,
/// MaxPool 2x2, Flatten, Linear(filters * (height/2) * (width/2) -> classes).
/// The convolutions pad by one so they keep the image size.
torch::nn::Sequential convNet(int64_t channels, int64_t height, int64_t width,
                              int64_t classes, int64_t filters = 32);

/// A character-level language model: Embedding(classes -> embedding), a
/// one-layer LSTM of `hidden` units, and a Linear head. Takes int64
/// [N, T] characters and returns [N * T, classes] logits, one row per
/// position, to be scored against the [N, T] next characters flattened.
torch::nn::Sequential charLstm(int64_t classes, int64_t embedding = 32,
                               int64_t hidden = 128);

} // namespace nos::train

#endif // NOS_MODELS_H
