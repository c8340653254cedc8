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
};

/// One JSON object (a line) with the medians and their ratios; empty with
/// *error set when torch is not built in.
std::string benchTrainStep(const TrainBenchOptions &options,
                           std::string *error);

} // namespace nos::bench

#endif // NOS_BENCH_TRAINBENCH_H
