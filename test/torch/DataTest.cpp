//===- DataTest.cpp - Tests of datasets, objectives and child models ------===//
//
// The loaders are tested on small files written here in the real formats
// (gzipped IDX, CIFAR-10 binary records), including damaged ones, and on the
// real Fashion-MNIST files when Debian's package is installed. The synthetic
// problems are checked against their defining properties and the models
// against parameter counts worked out by hand.
//
//===----------------------------------------------------------------------===//

#include "nos/train/Data.h"
#include "nos/train/Models.h"

#include "TempDir.h"

#include <catch2/catch.hpp>
#include <torch/torch.h>
#include <zlib.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

using namespace nos;
using Catch::Matchers::Contains;
using nos::test::TempDir;

namespace {

namespace fs = std::filesystem;
using Bytes = std::vector<uint8_t>;

void writeGz(const std::string &path, const Bytes &bytes) {
  gzFile file = gzopen(path.c_str(), "wb");
  REQUIRE(file != nullptr);
  REQUIRE(gzwrite(file, bytes.data(), unsigned(bytes.size())) ==
          int(bytes.size()));
  REQUIRE(gzclose(file) == Z_OK);
}

void writeRaw(const std::string &path, const Bytes &bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char *>(bytes.data()), bytes.size());
  REQUIRE(out.good());
}

Bytes readRaw(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  return Bytes(std::istreambuf_iterator<char>(in), {});
}

void appendBigEndian(Bytes &out, uint32_t value) {
  for (int shift = 24; shift >= 0; shift -= 8)
    out.push_back(uint8_t(value >> shift));
}

uint8_t mnistPixel(int64_t image, int64_t row, int64_t col) {
  return uint8_t((image * 31 + row * 28 + col) % 256);
}

Bytes idxImages(int64_t n, uint32_t magic = 0x803, int64_t side = 28) {
  Bytes out;
  for (uint32_t field : {magic, uint32_t(n), uint32_t(side), uint32_t(side)})
    appendBigEndian(out, field);
  for (int64_t i = 0; i < n; ++i)
    for (int64_t r = 0; r < side; ++r)
      for (int64_t c = 0; c < side; ++c)
        out.push_back(mnistPixel(i, r, c));
  return out;
}

Bytes idxLabels(int64_t n, uint32_t count) {
  Bytes out;
  appendBigEndian(out, 0x801);
  appendBigEndian(out, count);
  for (int64_t i = 0; i < n; ++i)
    out.push_back(uint8_t((i * 3) % 10));
  return out;
}

/// Writes a valid 20-image Fashion-MNIST test set into `dir`.
struct FakeMnist {
  explicit FakeMnist(const TempDir &dir)
      : images(dir.file("t10k-images-idx3-ubyte.gz")),
        labels(dir.file("t10k-labels-idx1-ubyte.gz")) {
    writeGz(images, idxImages(20));
    writeGz(labels, idxLabels(20, 20));
  }
  std::string images, labels;
};

uint8_t cifarPixel(int64_t record, int64_t byte) {
  return uint8_t((record * 7 + byte * 13) % 256);
}

Bytes cifarRecords(int64_t n, int64_t first = 0) {
  Bytes out;
  for (int64_t i = first; i < first + n; ++i) {
    out.push_back(uint8_t(i % 10));
    for (int64_t p = 0; p < 3072; ++p)
      out.push_back(cifarPixel(i, p));
  }
  return out;
}

const std::string kFashionDir = "/usr/share/datasets/fashion-mnist";

bool haveFashionMnist() {
  return fs::exists(train::defaultFashionMnistDir() +
                    "/t10k-images-idx3-ubyte.gz");
}

/// A dataset whose single input feature is the example's index, so that
/// rows can be followed through splits and batches.
train::Dataset indexed(int64_t n) {
  torch::Tensor ids = torch::arange(n, torch::kLong);
  return {ids.to(torch::kFloat).unsqueeze(1), ids % 2, 2, "indexed"};
}

torch::Tensor ids(const torch::Tensor &inputs) {
  return inputs.squeeze(1).to(torch::kLong);
}

int64_t parameterCount(const torch::nn::Sequential &net) {
  int64_t count = 0;
  for (const torch::Tensor &p : net->parameters())
    count += p.numel();
  return count;
}

} // namespace

TEST_CASE("Fashion-MNIST IDX files are read and normalised", "[data]") {
  TempDir dir;
  FakeMnist files(dir);
  train::Dataset test = train::loadFashionMnist(dir.path, /*train=*/false);
  REQUIRE(test.size() == 20);
  REQUIRE(test.classes == 10);
  REQUIRE(test.inputs.sizes() == torch::IntArrayRef({20, 1, 28, 28}));
  REQUIRE(test.inputs.dtype() == torch::kFloat);
  REQUIRE(test.labels.dtype() == torch::kLong);
  for (int64_t i : {0, 7, 19}) {
    CHECK(test.labels[i].item<int64_t>() == (i * 3) % 10);
    for (auto [r, c] : {std::pair{0, 0}, {5, 27}, {27, 13}}) {
      double expected = (mnistPixel(i, r, c) / 255.0 - 0.2860) / 0.3530;
      CHECK(test.inputs[i][0][r][c].item<double>() ==
            Approx(expected).margin(1e-5));
    }
  }

  writeGz(dir.file("train-images-idx3-ubyte.gz"), idxImages(3));
  writeGz(dir.file("train-labels-idx1-ubyte.gz"), idxLabels(3, 3));
  CHECK(train::loadFashionMnist(dir.path, /*train=*/true).size() == 3);
}

TEST_CASE("Damaged Fashion-MNIST files are reported by name", "[data]") {
  TempDir dir;
  FakeMnist files(dir);
  auto load = [&] { train::loadFashionMnist(dir.path, false); };

  SECTION("missing file") {
    fs::remove(files.labels);
    REQUIRE_THROWS_WITH(load(),
                        Contains(files.labels) && Contains("cannot open"));
  }
  SECTION("fewer images than the header promises") {
    Bytes images = idxImages(20);
    images.resize(images.size() - 28 * 28);
    writeGz(files.images, images);
    REQUIRE_THROWS_WITH(load(),
                        Contains(files.images) && Contains("truncated"));
  }
  SECTION("gzip stream cut short") {
    Bytes compressed = readRaw(files.images);
    compressed.resize(compressed.size() / 2);
    writeRaw(files.images, compressed);
    REQUIRE_THROWS_WITH(load(),
                        Contains(files.images) && Contains("truncated"));
  }
  SECTION("corrupt compressed data") {
    Bytes compressed = readRaw(files.images);
    for (size_t i = compressed.size() / 3; i < compressed.size() / 2; ++i)
      compressed[i] ^= 0x5a;
    writeRaw(files.images, compressed);
    REQUIRE_THROWS_WITH(load(),
                        Contains(files.images) &&
                            (Contains("corrupt") || Contains("truncated")));
  }
  SECTION("wrong magic number") {
    writeGz(files.images, idxImages(20, 0x801));
    REQUIRE_THROWS_WITH(load(), Contains(files.images) && Contains("magic"));
  }
  SECTION("wrong image size") {
    writeGz(files.images, idxImages(2, 0x803, 32));
    REQUIRE_THROWS_WITH(load(), Contains(files.images) && Contains("28x28"));
  }
  SECTION("label count differs from image count") {
    writeGz(files.labels, idxLabels(19, 19));
    REQUIRE_THROWS_WITH(load(), Contains(files.labels) && Contains("19"));
  }
  SECTION("label count header disagrees with the data") {
    writeGz(files.labels, idxLabels(19, 20));
    REQUIRE_THROWS_WITH(load(),
                        Contains(files.labels) && Contains("truncated"));
  }
  SECTION("label out of range") {
    Bytes labels = idxLabels(20, 20);
    labels.back() = 10;
    writeGz(files.labels, labels);
    REQUIRE_THROWS_WITH(load(), Contains(files.labels) && Contains("label 10"));
  }
  SECTION("not gzip at all") {
    writeRaw(files.images, Bytes(5000, 0x42));
    REQUIRE_THROWS_WITH(load(), Contains(files.images) && Contains("gzip"));
  }
}

TEST_CASE("CIFAR-10 binary records are read channel-major", "[data]") {
  TempDir dir;
  for (int b = 1; b <= 5; ++b)
    writeRaw(dir.file("data_batch_" + std::to_string(b) + ".bin"),
             cifarRecords(2, 2 * (b - 1)));
  std::string testFile = dir.file("test_batch.bin");
  writeRaw(testFile, cifarRecords(10));

  train::Dataset train = train::loadCifar10(dir.path, true);
  REQUIRE(train.size() == 10);
  REQUIRE(train.inputs.sizes() == torch::IntArrayRef({10, 3, 32, 32}));
  const double mean[] = {0.4914, 0.4822, 0.4465};
  const double stddev[] = {0.2470, 0.2435, 0.2616};
  for (int64_t i : {0, 5, 9}) {
    CHECK(train.labels[i].item<int64_t>() == i % 10);
    for (int64_t p : {0, 31, 1024 + 33, 2048 + 1023}) {
      int64_t c = p / 1024, y = p % 1024 / 32, x = p % 32;
      double expected = (cifarPixel(i, p) / 255.0 - mean[c]) / stddev[c];
      CHECK(train.inputs[i][c][y][x].item<double>() ==
            Approx(expected).margin(1e-5));
    }
  }
  CHECK(train::loadCifar10(dir.path, false).size() == 10);

  SECTION("truncated record") {
    Bytes records = cifarRecords(10);
    records.pop_back();
    writeRaw(testFile, records);
    REQUIRE_THROWS_WITH(train::loadCifar10(dir.path, false),
                        Contains(testFile) && Contains("truncated"));
  }
  SECTION("label out of range") {
    Bytes records = cifarRecords(10);
    records[3 * 3073] = 11;
    writeRaw(testFile, records);
    REQUIRE_THROWS_WITH(train::loadCifar10(dir.path, false),
                        Contains(testFile) && Contains("label 11"));
  }
  SECTION("missing batch") {
    std::string third = dir.file("data_batch_3.bin");
    fs::remove(third);
    REQUIRE_THROWS_WITH(train::loadCifar10(dir.path, true),
                        Contains(third) && Contains("cannot open"));
  }
}

TEST_CASE("The real Fashion-MNIST test set loads", "[data]") {
  if (!haveFashionMnist()) {
    WARN("Fashion-MNIST not installed; skipped");
    return;
  }
  train::Dataset test =
      train::loadFashionMnist(train::defaultFashionMnistDir(), false);
  REQUIRE(test.inputs.sizes() == torch::IntArrayRef({10000, 1, 28, 28}));
  REQUIRE(test.labels.min().item<int64_t>() == 0);
  REQUIRE(test.labels.max().item<int64_t>() == 9);
  // The test set is balanced: 1000 images of each class.
  torch::Tensor counts = torch::bincount(test.labels);
  CHECK(torch::all(counts == 1000).item<bool>());
  // Standardised with training-set statistics, the test set is close to
  // zero mean and unit deviation.
  CHECK(std::abs(test.inputs.mean().item<double>()) < 0.05);
  CHECK(test.inputs.std().item<double>() == Approx(1).margin(0.05));
}

TEST_CASE("The default Fashion-MNIST folder follows the environment",
          "[data]") {
  setenv("NOS_FASHION_MNIST_DIR", "/somewhere/else", 1);
  CHECK(train::defaultFashionMnistDir() == "/somewhere/else");
  unsetenv("NOS_FASHION_MNIST_DIR");
  CHECK(train::defaultFashionMnistDir() == kFashionDir);
}

TEST_CASE("Train/validation splits are deterministic and disjoint", "[data]") {
  train::Dataset all = indexed(100);
  train::Split split = train::splitTrainValidation(all, 30, 7);
  REQUIRE(split.train.size() == 70);
  REQUIRE(split.validation.size() == 30);
  torch::Tensor together =
      torch::cat({ids(split.train.inputs), ids(split.validation.inputs)});
  CHECK(torch::equal(std::get<0>(together.sort()), torch::arange(100)));
  CHECK(torch::equal(split.train.labels, ids(split.train.inputs) % 2));

  train::Split again = train::splitTrainValidation(all, 30, 7);
  CHECK(torch::equal(again.validation.inputs, split.validation.inputs));
  train::Split other = train::splitTrainValidation(all, 30, 8);
  CHECK_FALSE(torch::equal(other.validation.inputs, split.validation.inputs));
  // Not simply the first or last examples.
  CHECK_FALSE(torch::equal(ids(split.validation.inputs), torch::arange(30)));

  CHECK(train::splitTrainValidation(all, 0, 1).train.size() == 100);
  CHECK_THROWS_AS(train::splitTrainValidation(all, 101, 1),
                  std::invalid_argument);
}

TEST_CASE("Batches cover an epoch in a seeded order", "[data]") {
  train::Dataset all = indexed(10);
  train::Batches epoch(all, 4, 3);
  REQUIRE(epoch.size() == 3);
  std::vector<torch::Tensor> seen;
  for (train::Batch batch : epoch) {
    CHECK(torch::equal(batch.labels, ids(batch.inputs) % 2));
    seen.push_back(ids(batch.inputs));
  }
  REQUIRE(seen.size() == 3);
  CHECK(seen[2].numel() == 2);
  torch::Tensor order = torch::cat(seen);
  CHECK(torch::equal(std::get<0>(order.sort()), torch::arange(10)));
  CHECK_FALSE(torch::equal(order, torch::arange(10)));

  CHECK(torch::equal(ids(train::Batches(all, 4, 3)[1].inputs), seen[1]));
  torch::Tensor nextEpoch = ids(train::Batches(all, 10, 3, 1)[0].inputs);
  CHECK_FALSE(torch::equal(nextEpoch, order));
  CHECK(train::Batches(all, 4, 3, 0, /*dropLast=*/true).size() == 2);
  CHECK_THROWS_AS(epoch[3], std::out_of_range);
}

TEST_CASE("Logistic data follow their generating hyperplane", "[data]") {
  train::Dataset d = train::logisticRegression(2000, 10, 42);
  REQUIRE(d.inputs.sizes() == torch::IntArrayRef({2000, 10}));
  REQUIRE(d.labels.sizes() == torch::IntArrayRef({2000}));
  REQUIRE(d.classes == 2);
  torch::Tensor plane = train::logisticHyperplane(10, 42);
  REQUIRE(plane.sizes() == torch::IntArrayRef({11}));
  torch::Tensor side =
      (torch::mv(d.inputs, plane.slice(0, 0, 10)) + plane[10] > 0)
          .to(torch::kLong);
  double agreement =
      (side == d.labels).to(torch::kDouble).mean().item<double>();
  CHECK(agreement > 0.85);
  CHECK(agreement < 1.0); // the label noise is there
  double positives = d.labels.to(torch::kDouble).mean().item<double>();
  CHECK(positives > 0.2);
  CHECK(positives < 0.8);
  CHECK(torch::equal(train::logisticRegression(2000, 10, 42).inputs, d.inputs));
  CHECK_FALSE(
      torch::equal(train::logisticRegression(2000, 10, 43).inputs, d.inputs));
}

TEST_CASE("The quadratic is ill-conditioned with minimum 0 at 0", "[data]") {
  const int64_t dim = 16;
  train::Objective q = train::quadratic(dim, 3);
  REQUIRE(q.init.sizes() == torch::IntArrayRef({dim}));
  CHECK(q.loss(torch::zeros({dim})).item<double>() == 0);
  CHECK(q.loss(q.init).item<double>() > 0);
  // The gradient at e_i is the i-th column of A.
  std::vector<torch::Tensor> columns;
  for (int64_t i = 0; i < dim; ++i) {
    torch::Tensor x = torch::zeros({dim});
    x[i] = 1;
    x.requires_grad_(true);
    q.loss(x).backward();
    columns.push_back(x.grad());
  }
  torch::Tensor a = torch::stack(columns, 1).to(torch::kDouble);
  CHECK(torch::allclose(a, a.t(), 1e-5, 1e-6));
  torch::Tensor eigenvalues = at::linalg_eigvalsh(a, "L");
  CHECK(eigenvalues.min().item<double>() == Approx(0.01).epsilon(1e-3));
  CHECK(eigenvalues.max().item<double>() == Approx(1.0).epsilon(1e-3));
  // A is not diagonal, so the problem is not separable per coordinate.
  CHECK((a - torch::diag(torch::diag(a))).abs().max().item<double>() > 1e-3);
  CHECK(torch::equal(train::quadratic(dim, 3).init, q.init));
}

TEST_CASE("Rosenbrock has minimum 0 at all ones", "[data]") {
  train::Objective r2 = train::rosenbrock(2);
  CHECK(r2.loss(torch::ones({2})).item<double>() == 0);
  // 100 (1 - 1.44)^2 + (1 + 1.2)^2 = 19.36 + 4.84
  CHECK(r2.loss(r2.init).item<double>() == Approx(24.2).epsilon(1e-5));
  train::Objective r5 = train::rosenbrock(5);
  CHECK(
      torch::allclose(r5.init, torch::tensor({-1.2f, 1.f, -1.2f, 1.f, -1.2f})));
  CHECK(r5.loss(torch::ones({5})).item<double>() == 0);
  CHECK(r5.loss(r5.init).item<double>() > 1);
  CHECK_THROWS_AS(train::rosenbrock(1), std::invalid_argument);
}

TEST_CASE("Child models have the expected shapes and sizes", "[models]") {
  torch::manual_seed(0);
  torch::nn::Sequential mnistMlp = train::mlp(784, {128}, 10);
  CHECK(mnistMlp->forward(torch::zeros({4, 1, 28, 28})).sizes() ==
        torch::IntArrayRef({4, 10}));
  CHECK(parameterCount(mnistMlp) == 784 * 128 + 128 + 128 * 10 + 10);
  torch::nn::Sequential cifarMlp = train::mlp(3072, {64, 32}, 10);
  CHECK(cifarMlp->forward(torch::zeros({2, 3, 32, 32})).sizes() ==
        torch::IntArrayRef({2, 10}));
  CHECK(parameterCount(cifarMlp) == 199082);
  CHECK(train::mlp(5, {}, 2)->forward(torch::zeros({3, 5})).sizes() ==
        torch::IntArrayRef({3, 2}));

  // conv1 1*32*9+32, conv2 32*32*9+32, head 32*14*14*10+10
  torch::nn::Sequential mnistConv = train::convNet(1, 28, 28, 10);
  CHECK(mnistConv->forward(torch::zeros({4, 1, 28, 28})).sizes() ==
        torch::IntArrayRef({4, 10}));
  CHECK(parameterCount(mnistConv) == 320 + 9248 + 62730);
  torch::nn::Sequential cifarConv = train::convNet(3, 32, 32, 10);
  CHECK(cifarConv->forward(torch::zeros({2, 3, 32, 32})).sizes() ==
        torch::IntArrayRef({2, 10}));
  CHECK(parameterCount(cifarConv) == 896 + 9248 + 81930);
  CHECK(parameterCount(train::convNet(1, 28, 28, 10, 8)) == 80 + 584 + 15690);
  CHECK_THROWS_AS(train::convNet(1, 1, 28, 10), std::invalid_argument);
}

TEST_CASE("Model initialisation is fixed by torch::manual_seed", "[models]") {
  auto weights = [](uint64_t seed) {
    torch::manual_seed(seed);
    return torch::cat({train::convNet(1, 8, 8, 3, 4)->parameters()[0].flatten(),
                       train::mlp(6, {5}, 2)->parameters()[0].flatten()});
  };
  CHECK(torch::equal(weights(1), weights(1)));
  CHECK_FALSE(torch::equal(weights(1), weights(2)));
}

TEST_CASE("SGD steps reduce the MLP loss on Fashion-MNIST", "[models]") {
  if (!haveFashionMnist()) {
    WARN("Fashion-MNIST not installed; skipped");
    return;
  }
  train::Dataset train =
      train::loadFashionMnist(train::defaultFashionMnistDir(), true);
  REQUIRE(train.size() == 60000);
  torch::Tensor x = train.inputs.slice(0, 0, 512);
  torch::Tensor y = train.labels.slice(0, 0, 512);
  torch::manual_seed(0);
  torch::nn::Sequential net = train::mlp(784, {64}, 10);
  torch::optim::SGD sgd(net->parameters(), torch::optim::SGDOptions(0.1));
  auto loss = [&] {
    return torch::nn::functional::cross_entropy(net->forward(x), y);
  };
  double initial = loss().item<double>();
  for (int step = 0; step < 20; ++step) {
    sgd.zero_grad();
    loss().backward();
    sgd.step();
  }
  CHECK(loss().item<double>() < 0.7 * initial);
}
