//===- Optimizer.h - LibTorch optimizer running a compiled rule -*- C++ -*-===//
//
// nos::Optimizer is a torch::optim::Optimizer built from a rule string, a
// built-in name or a rule compiled once (CompiledRule). Each step makes one
// fused kernel call per parameter group (all its parameters in one table),
// through the JIT facade; the compiler's MLIR never reaches this header.
//
//===----------------------------------------------------------------------===//
#ifndef NOS_OPTIMIZER_H
#define NOS_OPTIMIZER_H

#include "nos/Compiler.h"

#include <torch/torch.h>

#include <memory>
#include <string>
#include <vector>

namespace nos {

/// Hyperparameters of a parameter group. Changing any of them between steps
/// never recompiles: they are kernel arguments.
struct OptimizerOptions
    : public torch::optim::OptimizerCloneableOptions<OptimizerOptions> {
  // The defaults are nos::Hyper's (Hyper.h), the one place they live.
  OptimizerOptions(double lr = Hyper{}.lr) : lr_(lr) {}
  TORCH_ARG(double, lr);
  TORCH_ARG(double, beta1) = Hyper{}.beta1;
  TORCH_ARG(double, beta2) = Hyper{}.beta2;
  TORCH_ARG(double, beta3) = Hyper{}.beta3;
  TORCH_ARG(double, eps) = Hyper{}.eps;
  TORCH_ARG(double, delta) = Hyper{}.delta;
  /// T of the decay schedules; required when the rule uses ld, cd or rd.
  TORCH_ARG(int64_t, total_steps) = 0;
  TORCH_ARG(int64_t, seed) = 0;
  /// Decoupled weight decay (AdamW's): w <- w - lr * weight_decay * w, in
  /// the same fused kernel as the update.
  TORCH_ARG(double, weight_decay) = Hyper{}.weightDecay;
  /// Ascend instead: the rule sees -g, as torch.optim's maximize=True.
  TORCH_ARG(bool, maximize) = Hyper{}.maximize;

public:
  void serialize(torch::serialize::InputArchive &archive) override;
  void serialize(torch::serialize::OutputArchive &archive) const override;
  double get_lr() const override { return lr(); }
  void set_lr(const double value) override { lr(value); }
};

class Optimizer : public torch::optim::Optimizer {
public:
  /// `rule` is a built-in name (nos::builtinNames()) or a rule string.
  /// Throws std::invalid_argument with the parser's line:column on a bad
  /// rule and when a schedule rule gets no total_steps.
  Optimizer(std::vector<torch::optim::OptimizerParamGroup> groups,
            const std::string &rule, OptimizerOptions defaults = {});
  Optimizer(std::vector<torch::Tensor> params, const std::string &rule,
            OptimizerOptions defaults = {});
  /// A rule compiled once and handed down (the search's hurdle and lanes):
  /// nothing is parsed or compiled again. Throws std::invalid_argument for
  /// an empty rule and when a schedule rule gets no total_steps.
  Optimizer(std::vector<torch::optim::OptimizerParamGroup> groups,
            CompiledRule rule, OptimizerOptions defaults = {});
  Optimizer(std::vector<torch::Tensor> params, CompiledRule rule,
            OptimizerOptions defaults = {});
  ~Optimizer() override;

  torch::Tensor step(LossClosure closure = nullptr) override;
  void save(torch::serialize::OutputArchive &archive) const override;
  void load(torch::serialize::InputArchive &archive) override;

  /// Canonical rule, hash and state layout of the compiled kernel.
  const KernelInfo &kernelInfo() const;
  /// The most steps a parameter of group `group` has taken (steps are
  /// counted per parameter, as torch.optim counts them: OptimizerState.h).
  int64_t stepCount(size_t group = 0) const;
  /// State buffer `slot` (a name of kernelInfo().stateSlots) of a parameter.
  torch::Tensor stateOf(const torch::Tensor &param,
                        const std::string &slot) const;

  class Impl;

private:
  std::unique_ptr<Impl> impl_;
};

} // namespace nos

#endif // NOS_OPTIMIZER_H
