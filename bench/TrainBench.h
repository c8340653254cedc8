//===- TrainBench.h - Optimizer step time on a real model -------*- C++ -*-===//
//
// `nos-bench train`: the time of one optimizer step over every parameter of
// a model with >= 10M parameters, nos::Optimizer("adam") against
// torch::optim::Adam and Adam written as eager tensor ops, in one run. No
// torch types here, so nos-bench.cpp stays free of torch headers.
//
//===----------------------------------------------------------------------===//
#ifndef NOS_BENCH_TRAINBENCH_H
#define NOS_BENCH_TRAINBENCH_H

#include <cstdint>
#include <string>

namespace nos::bench {

struct TrainBenchOptions {
  int64_t width = 2048; // hidden width of the MLP
  int64_t layers = 3;   // hidden layers
  int threads = 0;      // torch threads; 0: every core, like nos's pool
  int reps = 15;
  std::string device = "cpu"; // cpu, cuda or cuda:N (train::resolveDevice)
};

/// One JSON object (a line) with the medians and their ratios; empty with
/// *error set when torch is not built in or the device is not there.
std::string benchTrainStep(const TrainBenchOptions &options,
                           std::string *error);

/// One training step of the search's proxy MLP (784-128-10, batch 128:
/// forward, cross-entropy, backward, nos::Optimizer("sgd")) against a
/// 1024^3 torch::mm, both on `threads` torch threads.
struct StepFigures {
  double stepMs = 0, stepGflops = 0, mmGflops = 0;
};
/// False with *error set when torch is not built in.
bool benchProxyStep(int threads, int reps, StepFigures &out,
                    std::string *error);

/// `nos-bench lanes`: K lanes (the lrs of one candidate, sharing their
/// batches) trained one after another against stacked into one model (the
/// first layers as one wide GEMM over the shared input, the heads as one
/// bmm), per proxy shape; one JSON object a line.
std::string benchLanes(int lanes, int reps, int threads, std::string *error);

} // namespace nos::bench

#endif // NOS_BENCH_TRAINBENCH_H
