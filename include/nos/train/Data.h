//===- Data.h - Datasets and objectives for child training ------*- C++ -*-===//
//
// The search scores a candidate update rule by training small child networks,
// so it needs problems that load quickly, fail loudly when their files are
// damaged, and are reproducible from a seed: Fashion-MNIST (Debian's
// dataset-fashion-mnist package), CIFAR-10 (binary version), synthetic
// logistic regression, and direct minimisation of a quadratic or Rosenbrock
// objective. Every random choice here is derived from an explicit seed with
// a generator whose output the C++ standard fixes, so a split, a batch order
// or a synthetic problem is the same on every machine and LibTorch version.
//
//===----------------------------------------------------------------------===//
#ifndef NOS_DATA_H
#define NOS_DATA_H

#include <torch/types.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace nos::train {

/// A supervised classification problem held in memory. Images are float32
/// [N, C, H, W], scaled to [0, 1] and normalised per channel with the
/// training set's mean and standard deviation; tabular inputs are [N, D].
/// Labels are int64 [N] in [0, classes); a language task's are [N, T], the
/// next character at every position of its [N, T] inputs.
struct Dataset {
  torch::Tensor inputs;
  torch::Tensor labels;
  int64_t classes = 0;
  std::string name;

  int64_t size() const;
};

/// Reads Fashion-MNIST from `dir`, which holds the gzipped IDX files
/// {train,t10k}-{images-idx3,labels-idx1}-ubyte.gz. A missing, truncated or
/// corrupt file throws std::runtime_error naming the file and the reason.
Dataset loadFashionMnist(const std::string &dir, bool train);

/// $NOS_FASHION_MNIST_DIR if set, else where Debian installs the files.
std::string defaultFashionMnistDir();

/// Reads CIFAR-10 (binary version) from `dir`: data_batch_1..5.bin for
/// training, test_batch.bin otherwise; each record is one label byte and
/// 3072 pixel bytes (channel-major 3x32x32). Errors as for Fashion-MNIST.
Dataset loadCifar10(const std::string &dir, bool train);

/// $NOS_CIFAR10_DIR if set, else "cifar-10-batches-bin" (the archive's
/// folder name, relative to the working directory).
std::string defaultCifar10Dir();

struct Split {
  Dataset train, validation;
};

/// Holds out `validationSize` examples chosen by a permutation fixed by
/// `seed`; the two parts are disjoint and together cover `all`. Throws
/// std::invalid_argument if `validationSize` is not in [0, all.size()].
Split splitTrainValidation(const Dataset &all, int64_t validationSize,
                           uint64_t seed);

/// `n` points in `dim` dimensions with standard normal features, labelled
/// by the side of the hyperplane logisticHyperplane(dim, seed) they fall on,
/// with 5% of the labels flipped. Another `sample` draws other points of the
/// same problem (a test set); sample 0 is what the function always drew.
Dataset logisticRegression(int64_t n, int64_t dim, uint64_t seed,
                           uint64_t sample = 0);

/// `text` cut into back-to-back windows of `length` characters: inputs
/// int64 [N, length] of charClass (Text.h), labels the [N, length]
/// characters that follow each one, N = (text.size() - 1) / length.
/// Throws std::invalid_argument when the text is shorter than one window.
Dataset textSequences(const std::string &text, int64_t length,
                      const std::string &name);

/// The generating hyperplane of logisticRegression(_, dim, seed): float32
/// [dim + 1], the weights followed by the bias; label 1 where w.x + b > 0.
torch::Tensor logisticHyperplane(int64_t dim, uint64_t seed);

/// A function to minimise directly. `init` is a fresh starting point
/// (clone it and set requires_grad before optimising); `loss` maps a point of
/// init's shape to a scalar and is differentiable by autograd.
struct Objective {
  std::string name;
  torch::Tensor init;
  std::function<torch::Tensor(const torch::Tensor &)> loss;
};

/// 0.5 x^T A x with A symmetric positive definite, eigenvalues spread
/// log-uniformly over [0.01, 1] (condition number 100) in a rotated basis.
/// Minimum 0 at x = 0; `init` is standard normal.
Objective quadratic(int64_t dim, uint64_t seed,
                    torch::Device device = torch::kCPU);

/// The same problem as plain arrays, for loops without autograd (the
/// search's hurdle): A row-major dim x dim (f32), the f32 starting point.
struct QuadraticProblem {
  int64_t dim = 0;
  std::vector<float> a, init;
  /// 0.5 x^T A x, and A x into `grad` (when given), summed in double.
  double lossAndGradient(const float *x, float *grad) const;
};
QuadraticProblem quadraticProblem(int64_t dim, uint64_t seed);

/// Extended Rosenbrock sum_i 100 (x_{i+1} - x_i^2)^2 + (1 - x_i)^2, dim >= 2;
/// minimum 0 at all ones, `init` the classic (-1.2, 1, -1.2, 1, ...).
Objective rosenbrock(int64_t dim, torch::Device device = torch::kCPU);

/// Standard normal noise of `shape` for step `step` of a run with `seed`
/// (a stochastic objective's gradient noise), the same on every machine.
torch::Tensor gradientNoise(std::vector<int64_t> shape, uint64_t seed,
                            int64_t step);

struct Batch {
  torch::Tensor inputs;
  torch::Tensor labels;
};

/// One epoch of shuffled mini-batches. The order depends only on `seed`
/// and `epoch`, so two runs of a child training see the same batches. The
/// last batch is smaller unless `dropLast`. Iterable with range-for.
class Batches {
public:
  Batches(Dataset data, int64_t batchSize, uint64_t seed, int64_t epoch = 0,
          bool dropLast = false);

  /// The number of batches in the epoch.
  int64_t size() const;
  Batch operator[](int64_t i) const;

  class Iterator {
  public:
    Iterator(const Batches *owner, int64_t i) : owner(owner), i(i) {}
    Batch operator*() const { return (*owner)[i]; }
    Iterator &operator++() {
      ++i;
      return *this;
    }
    bool operator!=(const Iterator &other) const { return i != other.i; }

  private:
    const Batches *owner;
    int64_t i;
  };
  Iterator begin() const { return {this, 0}; }
  Iterator end() const { return {this, size()}; }

private:
  Dataset data;
  torch::Tensor order; // int64 permutation of [0, data.size())
  int64_t batchSize;
  bool dropLast;
};

} // namespace nos::train

#endif // NOS_DATA_H
