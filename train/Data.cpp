//===- Data.cpp - Datasets and objectives for child training --------------===//
//
// Loads Fashion-MNIST (gzipped IDX) and CIFAR-10 (binary records) with zlib,
// validating every header field and byte count so that a damaged download is
// reported as such instead of training on garbage, and builds the synthetic
// problems. Randomness comes from std::mt19937_64 with hand-written
// transforms, because std::uniform_int_distribution, std::shuffle and
// std::normal_distribution are implementation-defined and torch's generators
// have changed between versions.
//
//===----------------------------------------------------------------------===//

#include "nos/train/Data.h"
#include "nos/train/Text.h"

#include "nos/Files.h"
#include "nos/Random.h"

#include <zlib.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <random>
#include <stdexcept>
#include <vector>

namespace nos::train {
namespace {

using Bytes = std::vector<uint8_t>;

[[noreturn]] void fail(const std::string &path, const std::string &reason) {
  throw std::runtime_error(path + ": " + reason);
}

struct FileBytes {
  Bytes bytes;
  bool gzip = false; // false when zlib read the file through unchanged
};

/// Decompresses a whole file. zlib passes non-gzip input through
/// unchanged, which is how the plain CIFAR files are read with the same code.
/// The content is read to its end rather than to the length a header
/// promises, so a corrupt header cannot make us allocate gigabytes.
FileBytes readFile(const std::string &path) {
  errno = 0;
  gzFile file = gzopen(path.c_str(), "rb");
  if (!file)
    fail(path, std::string("cannot open: ") +
                   (errno ? std::strerror(errno) : "out of memory"));
  FileBytes out;
  std::array<uint8_t, 1 << 16> chunk;
  int got;
  while ((got = gzread(file, chunk.data(), chunk.size())) > 0)
    out.bytes.insert(out.bytes.end(), chunk.begin(), chunk.begin() + got);
  int code = Z_OK;
  std::string message = gzerror(file, &code);
  // zlib prefixes its messages with the path, which fail() adds already.
  if (message.rfind(path + ": ", 0) == 0)
    message.erase(0, path.size() + 2);
  out.gzip = !gzdirect(file);
  int closed = gzclose_r(file);
  if (code == Z_BUF_ERROR || closed == Z_BUF_ERROR)
    fail(path, "truncated: the gzip stream ends early");
  if (got < 0 || code != Z_OK)
    fail(path, "corrupt gzip data: " + message);
  return out;
}

uint32_t bigEndian32(const uint8_t *p) {
  return uint32_t(p[0]) << 24 | uint32_t(p[1]) << 16 | uint32_t(p[2]) << 8 |
         uint32_t(p[3]);
}

/// An IDX file: a magic number (0x08 = unsigned bytes, then the number of
/// dimensions), the big-endian dimensions, then the data.
struct Idx {
  std::vector<int64_t> dims;
  Bytes bytes;
  size_t offset = 0; // where the data starts
};

Idx readIdx(const std::string &path, uint32_t magic) {
  FileBytes file = readFile(path);
  if (!file.gzip)
    fail(path, file.bytes.empty() ? "empty file" : "not a gzip file");
  Idx idx;
  idx.bytes = std::move(file.bytes);
  size_t rank = magic & 0xff;
  idx.offset = 4 + 4 * rank;
  if (idx.bytes.size() < idx.offset)
    fail(path, "truncated: header needs " + std::to_string(idx.offset) +
                   " bytes, file has " + std::to_string(idx.bytes.size()));
  uint32_t found = bigEndian32(idx.bytes.data());
  if (found != magic)
    fail(path, "bad magic number " + std::to_string(found) + ", expected " +
                   std::to_string(magic));
  for (size_t i = 0; i < rank; ++i)
    idx.dims.push_back(bigEndian32(idx.bytes.data() + 4 + 4 * i));
  return idx;
}

void checkDataBytes(const std::string &path, const Idx &idx, int64_t expected) {
  int64_t found = int64_t(idx.bytes.size() - idx.offset);
  if (found < expected)
    fail(path, "truncated: header promises " + std::to_string(expected) +
                   " data bytes, file has " + std::to_string(found));
  if (found > expected)
    fail(path,
         std::to_string(found - expected) + " unexpected bytes after the data");
}

void checkLabels(const std::string &path, const uint8_t *labels, int64_t n,
                 int64_t stride, int64_t classes) {
  for (int64_t i = 0; i < n; ++i)
    if (labels[i * stride] >= classes)
      fail(path, "label " + std::to_string(labels[i * stride]) + " of item " +
                     std::to_string(i) + " is not in [0, " +
                     std::to_string(classes) + ")");
}

/// Scales bytes to [0, 1], then standardises each channel with the
/// training set's statistics, so the test set is transformed identically.
torch::Tensor normalizeImages(uint8_t *pixels, std::vector<int64_t> shape,
                              const std::vector<double> &mean,
                              const std::vector<double> &stddev) {
  torch::Tensor images =
      torch::from_blob(pixels, shape, torch::kUInt8).to(torch::kFloat);
  auto perChannel = [&](const std::vector<double> &values) {
    return torch::tensor(values, torch::TensorOptions(torch::kFloat))
        .view({1, -1, 1, 1});
  };
  return images.div_(255).sub_(perChannel(mean)).div_(perChannel(stddev));
}

torch::Tensor labelsTensor(const uint8_t *labels, int64_t n) {
  torch::Tensor out = torch::empty({n}, torch::kLong);
  int64_t *dst = out.data_ptr<int64_t>();
  for (int64_t i = 0; i < n; ++i)
    dst[i] = labels[i];
  return out;
}

// Fashion-MNIST training-set pixel statistics after scaling to [0, 1],
// computed over all 60000 images.
const std::vector<double> kFashionMean = {0.2860};
const std::vector<double> kFashionStd = {0.3530};
// CIFAR-10 training-set per-channel (R, G, B) statistics.
const std::vector<double> kCifarMean = {0.4914, 0.4822, 0.4465};
const std::vector<double> kCifarStd = {0.2470, 0.2435, 0.2616};

constexpr int64_t kMnistSide = 28;
constexpr int64_t kCifarPixels = 3 * 32 * 32;
constexpr int64_t kCifarRecord = 1 + kCifarPixels;

std::string fashionFile(const std::string &dir, bool train, const char *kind) {
  return dir + "/" + (train ? "train" : "t10k") + "-" + kind + "-ubyte.gz";
}

/// Unrelated generator states from related seeds (seed, epoch).
uint64_t mix(uint64_t a, uint64_t b) {
  return splitmixFinish(a + kGoldenGamma * (b + 1));
}

torch::Tensor permutation(int64_t n, uint64_t seed) {
  torch::Tensor out = torch::arange(n, torch::kLong);
  int64_t *p = out.data_ptr<int64_t>();
  DataRng rng(seed);
  for (int64_t i = n - 1; i > 0; --i)
    std::swap(p[i], p[rng.below(uint64_t(i) + 1)]);
  return out;
}

torch::Tensor normalTensor(std::vector<int64_t> shape, DataRng &rng) {
  torch::Tensor out = torch::empty(shape, torch::kFloat);
  float *p = out.data_ptr<float>();
  for (int64_t i = 0, n = out.numel(); i < n; ++i)
    p[i] = float(rng.normal());
  return out;
}

Dataset subset(const Dataset &all, const torch::Tensor &indices,
               const std::string &suffix) {
  return {all.inputs.index_select(0, indices),
          all.labels.index_select(0, indices), all.classes, all.name + suffix};
}

void requirePositive(int64_t value, const char *what) {
  if (value <= 0)
    throw std::invalid_argument(std::string(what) + " must be positive, got " +
                                std::to_string(value));
}

} // namespace

int64_t Dataset::size() const { return labels.defined() ? labels.size(0) : 0; }

Dataset loadFashionMnist(const std::string &dir, bool train) {
  std::string imagePath = fashionFile(dir, train, "images-idx3");
  std::string labelPath = fashionFile(dir, train, "labels-idx1");
  Idx images = readIdx(imagePath, 0x803);
  Idx labels = readIdx(labelPath, 0x801);
  int64_t n = images.dims[0];
  if (images.dims[1] != kMnistSide || images.dims[2] != kMnistSide)
    fail(imagePath, "images are " + std::to_string(images.dims[1]) + "x" +
                        std::to_string(images.dims[2]) + ", expected 28x28");
  checkDataBytes(imagePath, images, n * kMnistSide * kMnistSide);
  if (labels.dims[0] != n)
    fail(labelPath, "holds " + std::to_string(labels.dims[0]) + " labels but " +
                        imagePath + " holds " + std::to_string(n) + " images");
  checkDataBytes(labelPath, labels, n);
  const uint8_t *labelBytes = labels.bytes.data() + labels.offset;
  checkLabels(labelPath, labelBytes, n, 1, 10);

  Dataset out;
  out.inputs = normalizeImages(images.bytes.data() + images.offset,
                               {n, 1, kMnistSide, kMnistSide}, kFashionMean,
                               kFashionStd);
  out.labels = labelsTensor(labelBytes, n);
  out.classes = 10;
  out.name = train ? "fashion-mnist-train" : "fashion-mnist-test";
  return out;
}

std::string defaultFashionMnistDir() {
  return envOr("NOS_FASHION_MNIST_DIR", "/usr/share/datasets/fashion-mnist");
}

Dataset loadCifar10(const std::string &dir, bool train) {
  std::vector<std::string> paths;
  if (train)
    for (int i = 1; i <= 5; ++i)
      paths.push_back(dir + "/data_batch_" + std::to_string(i) + ".bin");
  else
    paths.push_back(dir + "/test_batch.bin");

  // A missing folder is the usual first mistake: say what belongs there.
  if (!std::filesystem::is_directory(dir))
    throw std::runtime_error(
        "no CIFAR-10 folder at '" + dir +
        "': give --data-dir (or $NOS_CIFAR10_DIR) the folder of the binary "
        "version (cifar-10-batches-bin, with data_batch_1.bin .. "
        "data_batch_5.bin and test_batch.bin)");
  Bytes pixels, labels;
  for (const std::string &path : paths) {
    Bytes records = readFile(path).bytes;

    int64_t size = int64_t(records.size());
    if (size == 0 || size % kCifarRecord != 0)
      fail(path, "truncated: " + std::to_string(size) +
                     " bytes is not a positive whole number of " +
                     std::to_string(kCifarRecord) + "-byte records");
    int64_t n = size / kCifarRecord;
    checkLabels(path, records.data(), n, kCifarRecord, 10);
    for (int64_t i = 0; i < n; ++i) {
      const uint8_t *record = records.data() + i * kCifarRecord;
      labels.push_back(record[0]);
      pixels.insert(pixels.end(), record + 1, record + kCifarRecord);
    }
  }
  int64_t n = int64_t(labels.size());
  Dataset out;
  out.inputs =
      normalizeImages(pixels.data(), {n, 3, 32, 32}, kCifarMean, kCifarStd);
  out.labels = labelsTensor(labels.data(), n);
  out.classes = 10;
  out.name = train ? "cifar10-train" : "cifar10-test";
  return out;
}

std::string defaultCifar10Dir() {
  return envOr("NOS_CIFAR10_DIR", "cifar-10-batches-bin");
}

Split splitTrainValidation(const Dataset &all, int64_t validationSize,
                           uint64_t seed) {
  int64_t n = all.size();
  if (validationSize < 0 || validationSize > n)
    throw std::invalid_argument("validation size " +
                                std::to_string(validationSize) +
                                " is not in [0, " + std::to_string(n) + "]");
  torch::Tensor order = permutation(n, seed);
  return {subset(all, order.slice(0, validationSize), "/train"),
          subset(all, order.slice(0, 0, validationSize), "/validation")};
}

torch::Tensor logisticHyperplane(int64_t dim, uint64_t seed) {
  requirePositive(dim, "dimension");
  DataRng rng(mix(seed, 1));
  torch::Tensor plane = normalTensor({dim + 1}, rng);
  // A unit normal makes w.x standard normal, so the bias (drawn with
  // standard deviation 0.25) unbalances the classes only mildly.
  plane.slice(0, 0, dim).div_(plane.slice(0, 0, dim).norm());
  plane[dim].mul_(0.25);
  return plane;
}

Dataset logisticRegression(int64_t n, int64_t dim, uint64_t seed,
                           uint64_t sample) {
  requirePositive(n, "example count");
  torch::Tensor plane = logisticHyperplane(dim, seed);
  DataRng rng(sample == 0 ? mix(seed, 2) : mix(mix(seed, 2), sample));
  Dataset out;
  out.inputs = normalTensor({n, dim}, rng);
  out.labels = torch::empty({n}, torch::kLong);
  const float *x = out.inputs.data_ptr<float>();
  const float *w = plane.data_ptr<float>();
  int64_t *y = out.labels.data_ptr<int64_t>();
  const double flipRate = 0.05;
  for (int64_t i = 0; i < n; ++i) {
    double s = w[dim];
    for (int64_t j = 0; j < dim; ++j)
      s += double(w[j]) * x[i * dim + j];
    y[i] = (s > 0) != (rng.uniform() < flipRate);
  }
  out.classes = 2;
  out.name = "logistic-" + std::to_string(dim);
  return out;
}

Dataset textSequences(const std::string &text, int64_t length,
                      const std::string &name) {
  requirePositive(length, "sequence length");
  int64_t n = (int64_t(text.size()) - 1) / length;
  if (n <= 0)
    throw std::invalid_argument(name + ": " + std::to_string(text.size()) +
                                " characters make no window of " +
                                std::to_string(length) + " and its next one");
  torch::Tensor classes = torch::empty({n * length + 1}, torch::kLong);
  int64_t *c = classes.data_ptr<int64_t>();
  for (int64_t i = 0; i <= n * length; ++i)
    c[i] = charClass(static_cast<unsigned char>(text[size_t(i)]));
  Dataset out;
  out.inputs = classes.narrow(0, 0, n * length).view({n, length}).clone();
  out.labels = classes.narrow(0, 1, n * length).view({n, length}).clone();
  out.classes = kTextClasses;
  out.name = name;
  return out;
}

QuadraticProblem quadraticProblem(int64_t dim, uint64_t seed) {
  requirePositive(dim, "dimension");
  DataRng rng(mix(seed, 3));
  // A Householder reflection H rotates the eigenbasis away from the axes,
  // so that per-coordinate (diagonal) preconditioning cannot undo the
  // conditioning by itself.
  torch::Tensor v = normalTensor({dim}, rng).to(torch::kDouble);
  torch::Tensor h = torch::eye(dim, torch::kDouble) -
                    2 * torch::outer(v, v) / torch::dot(v, v);
  torch::Tensor exponents = dim == 1
                                ? torch::zeros({1}, torch::kDouble)
                                : torch::linspace(-2, 0, dim, torch::kDouble);
  torch::Tensor a = (h * torch::pow(10.0, exponents)).mm(h);
  a = (0.5 * (a + a.t())).to(torch::kFloat).contiguous();
  torch::Tensor init = normalTensor({dim}, rng).contiguous();
  QuadraticProblem out;
  out.dim = dim;
  out.a.assign(a.data_ptr<float>(), a.data_ptr<float>() + dim * dim);
  out.init.assign(init.data_ptr<float>(), init.data_ptr<float>() + dim);
  return out;
}

double QuadraticProblem::lossAndGradient(const float *x, float *grad) const {
  double loss = 0;
  for (int64_t i = 0; i < dim; ++i) {
    double ax = 0;
    for (int64_t j = 0; j < dim; ++j)
      ax += double(a[size_t(i * dim + j)]) * double(x[j]);
    if (grad)
      grad[i] = float(ax); // A is symmetric: the gradient of 0.5 x^T A x
    loss += 0.5 * double(x[i]) * ax;
  }
  return loss;
}

Objective quadratic(int64_t dim, uint64_t seed, torch::Device device) {
  QuadraticProblem q = quadraticProblem(dim, seed);
  torch::Tensor a = torch::from_blob(q.a.data(), {dim, dim})
                        .to(device, false,
                            /*copy=*/true);
  Objective out;
  out.name = "quadratic-" + std::to_string(dim);
  out.init = torch::from_blob(q.init.data(), {dim}).to(device, false, true);
  out.loss = [a](const torch::Tensor &x) {
    return 0.5 * torch::dot(x, torch::mv(a, x));
  };
  return out;
}

Objective rosenbrock(int64_t dim, torch::Device device) {
  if (dim < 2)
    throw std::invalid_argument("rosenbrock needs dimension >= 2, got " +
                                std::to_string(dim));
  Objective out;
  out.name = "rosenbrock-" + std::to_string(dim);
  out.init = torch::ones({dim}, torch::kFloat);
  out.init.slice(0, 0, dim, 2).fill_(-1.2);
  out.init = out.init.to(device);
  out.loss = [dim](const torch::Tensor &x) {
    torch::Tensor head = x.slice(0, 0, dim - 1);
    torch::Tensor tail = x.slice(0, 1, dim);
    return (100 * (tail - head * head).pow(2) + (1 - head).pow(2)).sum();
  };
  return out;
}

torch::Tensor gradientNoise(std::vector<int64_t> shape, uint64_t seed,
                            int64_t step) {
  DataRng rng(mix(seed, uint64_t(step)));
  return normalTensor(std::move(shape), rng);
}

Batches::Batches(Dataset data, int64_t batchSize, uint64_t seed, int64_t epoch,
                 bool dropLast)
    : data(std::move(data)), batchSize(batchSize), dropLast(dropLast) {
  requirePositive(batchSize, "batch size");
  // Drawn on the CPU (the same order on every device), kept where the data
  // is so that a batch is gathered there.
  order = permutation(this->data.size(), mix(seed, uint64_t(epoch)))
              .to(this->data.inputs.device());
}

int64_t Batches::size() const {
  int64_t n = data.size();
  return dropLast ? n / batchSize : (n + batchSize - 1) / batchSize;
}

Batch Batches::operator[](int64_t i) const {
  if (i < 0 || i >= size())
    throw std::out_of_range("batch " + std::to_string(i) + " of " +
                            std::to_string(size()));
  int64_t end = std::min((i + 1) * batchSize, data.size());
  torch::Tensor indices = order.slice(0, i * batchSize, end);
  return {data.inputs.index_select(0, indices),
          data.labels.index_select(0, indices)};
}

} // namespace nos::train
