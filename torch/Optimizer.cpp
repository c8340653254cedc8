//===- Optimizer.cpp - A LibTorch optimizer running a compiled rule -------===//
//
// State lives here, not in torch's per-parameter map: the kernel wants each
// group's state as raw f32 slots. The random stream position is (seed, step),
// so saving the steps and the buffers is enough to resume bit-identically.
// Steps, random-stream bases and master copies follow the rules nos.Optimizer
// follows too (OptimizerState.h).
//
//===----------------------------------------------------------------------===//
#include "nos/torch/Optimizer.h"

#include "nos/Args.h"
#include "nos/CpuExecutor.h"
#include "nos/CudaExecutor.h"
#include "nos/OptimizerState.h"

#include <c10/cuda/CUDAStream.h>
#include <torch/optim/serialize.h>

#include <optional>
#include <stdexcept>

namespace nos {

void OptimizerOptions::serialize(torch::serialize::InputArchive &archive) {
  _TORCH_OPTIM_DESERIALIZE_TORCH_ARG(double, lr);
  _TORCH_OPTIM_DESERIALIZE_TORCH_ARG(double, beta1);
  _TORCH_OPTIM_DESERIALIZE_TORCH_ARG(double, beta2);
  _TORCH_OPTIM_DESERIALIZE_TORCH_ARG(double, beta3);
  _TORCH_OPTIM_DESERIALIZE_TORCH_ARG(double, eps);
  _TORCH_OPTIM_DESERIALIZE_TORCH_ARG(double, delta);
  _TORCH_OPTIM_DESERIALIZE_TORCH_ARG(int64_t, total_steps);
  _TORCH_OPTIM_DESERIALIZE_TORCH_ARG(int64_t, seed);
  // Checkpoints written before these options existed load with defaults.
  c10::IValue value;
  if (archive.try_read("weight_decay", value))
    weight_decay(value.toDouble());
  if (archive.try_read("maximize", value))
    maximize(value.toBool());
}

void OptimizerOptions::serialize(
    torch::serialize::OutputArchive &archive) const {
  _TORCH_OPTIM_SERIALIZE_TORCH_ARG(lr);
  _TORCH_OPTIM_SERIALIZE_TORCH_ARG(beta1);
  _TORCH_OPTIM_SERIALIZE_TORCH_ARG(beta2);
  _TORCH_OPTIM_SERIALIZE_TORCH_ARG(beta3);
  _TORCH_OPTIM_SERIALIZE_TORCH_ARG(eps);
  _TORCH_OPTIM_SERIALIZE_TORCH_ARG(delta);
  _TORCH_OPTIM_SERIALIZE_TORCH_ARG(total_steps);
  _TORCH_OPTIM_SERIALIZE_TORCH_ARG(seed);
  _TORCH_OPTIM_SERIALIZE_TORCH_ARG(weight_decay);
  _TORCH_OPTIM_SERIALIZE_TORCH_ARG(maximize);
}

namespace {
/// One pool per calling thread, as wide as torch's intra-op setting on that
/// thread: search workers that run torch single-threaded update on their own
/// thread instead of queueing behind one shared pool.
CpuExecutor &threadExecutor() {
  thread_local std::unique_ptr<CpuExecutor> executor;
  int threads = std::max(1, at::get_num_threads());
  if (!executor || executor->threads() != threads)
    executor = std::make_unique<CpuExecutor>(threads);
  return *executor;
}

/// torch's current stream on `device` as a CUstream, so the update is
/// ordered after the backward pass that wrote the gradients and before
/// whatever torch enqueues next (the caching allocator relies on it too).
void *currentStream(const torch::Device &device) {
  return c10::cuda::getCurrentCUDAStream(device.index()).stream();
}

struct ParamState {
  torch::Tensor slots;  // [numSlots, numel] f32
  torch::Tensor master; // f32 copy of a bf16 parameter, else undefined
  int64_t rngBase = 0;
  int64_t step = 0; // steps this parameter has taken
};

struct GroupState {
  std::vector<ParamState> params;
};

Hyper hyperOf(const OptimizerOptions &o) {
  Hyper h;
  h.lr = o.lr();
  h.beta1 = o.beta1(), h.beta2 = o.beta2(), h.beta3 = o.beta3();
  h.eps = o.eps(), h.delta = o.delta();
  h.totalSteps = o.total_steps();
  h.seed = uint64_t(o.seed());
  h.weightDecay = o.weight_decay();
  h.maximize = o.maximize();
  if (std::string why = checkHyper(h); !why.empty())
    throw std::invalid_argument("nos::Optimizer: " + why);
  return h;
}

void checkParameter(const torch::Tensor &p) {
  if (!p.device().is_cpu() && !p.device().is_cuda())
    throw std::invalid_argument("nos::Optimizer: parameters on " +
                                p.device().str() +
                                " are not supported (CPU or CUDA only)");
  if (p.scalar_type() != torch::kFloat && p.scalar_type() != torch::kBFloat16)
    throw std::invalid_argument("nos::Optimizer: parameters must be float32 "
                                "or bfloat16, got " +
                                std::string(c10::toString(p.scalar_type())));
  if (!p.is_contiguous())
    throw std::invalid_argument(
        "nos::Optimizer: parameters must be contiguous");
}

/// The rule of a string constructor, with the optimizer's name on errors.
CompiledRule compileText(const std::string &rule) {
  try {
    return CompiledRule::fromText(rule);
  } catch (const std::invalid_argument &e) {
    throw std::invalid_argument(std::string("nos::Optimizer: ") + e.what());
  }
}
} // namespace

class Optimizer::Impl {
public:
  explicit Impl(CompiledRule compiled) : rule(std::move(compiled)) {
    if (!rule)
      throw std::invalid_argument("nos::Optimizer: no rule (an empty "
                                  "CompiledRule)");
  }

  CompiledRule rule;
  std::shared_ptr<const GpuKernel> gpuKernel; // made on the first CUDA step
  std::vector<GroupState> groups;
  RngBases rngBases;

  /// The GPU kernel, loaded into `device`'s executor.
  CudaExecutor &gpuFor(const torch::Device &device) {
    if (!gpuKernel) {
      try {
        gpuKernel = rule.gpu();
      } catch (const std::invalid_argument &e) {
        throw std::invalid_argument(std::string("nos::Optimizer: ") + e.what());
      }
    }
    CudaExecutor &gpu =
        CudaExecutor::shared(device.index() < 0 ? 0 : device.index());
    gpu.load(gpuKernel->info.hash, gpuKernel->ptx);
    return gpu;
  }

  /// One launch of the table on the group's device.
  void launch(const torch::Device &device, const std::vector<NosTensor> &table,
              const NosArgs &args) {
    if (device.is_cpu()) {
      threadExecutor().run(rule.cpu()->fn, table.data(), int64_t(table.size()),
                           args);
      return;
    }
    CudaExecutor &gpu = gpuFor(device);
    gpu.run(gpuKernel->info.hash, table.data(), int64_t(table.size()), args,
            currentStream(device));
  }

  /// Brings the state up to the groups and parameters torch holds now
  /// (add_param_group may have added some since the last step).
  void sync(std::vector<torch::optim::OptimizerParamGroup> &torchGroups) {
    groups.resize(torchGroups.size());
    const int64_t slots = int64_t(rule.info().stateSlots.size());
    for (size_t g = 0; g < torchGroups.size(); ++g) {
      auto &params = torchGroups[g].params();
      for (size_t i = groups[g].params.size(); i < params.size(); ++i) {
        checkParameter(params[i]);
        ParamState state;
        state.slots = torch::zeros(
            {slots, params[i].numel()},
            torch::dtype(torch::kFloat).device(params[i].device()));
        if (needsMasterCopy(params[i].scalar_type() == torch::kFloat))
          state.master = params[i].detach().to(torch::kFloat).contiguous();
        state.rngBase = rngBases.take(params[i].numel());
        groups[g].params.push_back(std::move(state));
      }
    }
  }

  void stepGroup(torch::optim::OptimizerParamGroup &group, GroupState &state) {
    auto &options = static_cast<OptimizerOptions &>(group.options());
    std::vector<int64_t> steps;
    std::vector<bool> hasGrad;
    std::optional<torch::Device> device;
    for (size_t i = 0; i < group.params().size(); ++i) {
      const torch::Tensor &p = group.params()[i];
      steps.push_back(state.params[i].step);
      hasGrad.push_back(p.grad().defined());
      if (!p.grad().defined())
        continue;
      if (device && *device != p.device())
        throw std::invalid_argument("nos::Optimizer: a parameter group's "
                                    "parameters must share one device; found " +
                                    device->str() + " and " + p.device().str());
      device = p.device();
    }
    if (!device)
      return; // no gradient in this group
    Hyper hyper = hyperOf(options);
    for (const Launch &plan : planLaunches(steps, hasGrad))
      run(group, state, plan, hyper, *device);
  }

  /// One launch: every parameter of `plan` takes step `plan.step`.
  void run(torch::optim::OptimizerParamGroup &group, GroupState &state,
           const Launch &plan, const Hyper &hyper,
           const torch::Device &device) {
    std::vector<NosTensor> table;
    std::vector<torch::Tensor> keepAlive;
    for (size_t i : plan.params) {
      torch::Tensor &p = group.params()[i];
      ParamState &ps = state.params[i];
      torch::Tensor grad = p.grad().to(torch::kFloat).contiguous();
      keepAlive.push_back(grad);
      NosTensor entry{};
      entry.w = ps.master.defined() ? ps.master.data_ptr<float>()
                                    : p.data_ptr<float>();
      entry.g = grad.data_ptr<float>();
      for (int64_t k = 0; k < ps.slots.size(0); ++k)
        entry.state[k] = ps.slots[k].data_ptr<float>();
      entry.n = p.numel();
      entry.rng_base = ps.rngBase;
      table.push_back(entry);
    }
    std::string error;
    NosArgs args = makeArgs(hyper, plan.step, rule.info().schedules, &error);
    if (!error.empty())
      throw std::invalid_argument("nos::Optimizer: " + error);
    launch(device, table, args);
    for (size_t i : plan.params) {
      ParamState &ps = state.params[i];
      ps.step = plan.step;
      if (ps.master.defined())
        group.params()[i].copy_(ps.master);
    }
  }
};

Optimizer::Optimizer(std::vector<torch::optim::OptimizerParamGroup> groups,
                     const std::string &rule, OptimizerOptions defaults)
    : Optimizer(std::move(groups), compileText(rule), std::move(defaults)) {}

Optimizer::Optimizer(std::vector<torch::optim::OptimizerParamGroup> groups,
                     CompiledRule rule, OptimizerOptions defaults)
    : torch::optim::Optimizer(std::move(groups),
                              std::make_unique<OptimizerOptions>(defaults)),
      impl_(std::make_unique<Impl>(std::move(rule))) {
  impl_->sync(param_groups_);
  for (auto &group : param_groups_) {
    auto &options = static_cast<OptimizerOptions &>(group.options());
    hyperOf(options); // validates
    if (std::string why = checkTotalSteps(impl_->rule.info().schedules,
                                          options.total_steps(), "total_steps");
        !why.empty())
      throw std::invalid_argument("nos::Optimizer: " + why);
  }
}

Optimizer::Optimizer(std::vector<torch::Tensor> params, const std::string &rule,
                     OptimizerOptions defaults)
    : Optimizer(std::move(params), compileText(rule), std::move(defaults)) {}

Optimizer::Optimizer(std::vector<torch::Tensor> params, CompiledRule rule,
                     OptimizerOptions defaults)
    : Optimizer(
          std::vector<torch::optim::OptimizerParamGroup>{
              torch::optim::OptimizerParamGroup(std::move(params))},
          std::move(rule), std::move(defaults)) {}

Optimizer::~Optimizer() = default;

torch::Tensor Optimizer::step(LossClosure closure) {
  torch::Tensor loss;
  if (closure) {
    torch::AutoGradMode enable(true);
    loss = closure();
  }
  torch::NoGradGuard noGrad;
  impl_->sync(param_groups_);
  for (size_t g = 0; g < param_groups_.size(); ++g)
    impl_->stepGroup(param_groups_[g], impl_->groups[g]);
  return loss;
}

const KernelInfo &Optimizer::kernelInfo() const { return impl_->rule.info(); }

int64_t Optimizer::stepCount(size_t group) const {
  int64_t most = 0;
  if (group < impl_->groups.size())
    for (const ParamState &p : impl_->groups[group].params)
      most = std::max(most, p.step);
  return most;
}

torch::Tensor Optimizer::stateOf(const torch::Tensor &param,
                                 const std::string &slot) const {
  const auto &slots = impl_->rule.info().stateSlots;
  auto it = std::find(slots.begin(), slots.end(), slot);
  if (it == slots.end())
    throw std::invalid_argument("nos::Optimizer: the rule keeps no '" + slot +
                                "' state");
  for (size_t g = 0; g < param_groups_.size(); ++g)
    for (size_t i = 0; i < param_groups_[g].params().size(); ++i)
      if (param_groups_[g].params()[i].is_same(param) &&
          i < impl_->groups[g].params.size())
        return impl_->groups[g].params[i].slots[it - slots.begin()].view(
            param.sizes());
  throw std::invalid_argument("nos::Optimizer: not a parameter of this "
                              "optimizer");
}

void Optimizer::save(torch::serialize::OutputArchive &archive) const {
  archive.write("nos.canonical", c10::IValue(impl_->rule.info().canonical));
  archive.write("nos.groups", c10::IValue(int64_t(impl_->groups.size())));
  for (size_t g = 0; g < impl_->groups.size(); ++g) {
    const GroupState &group = impl_->groups[g];
    std::string prefix = "nos.group" + std::to_string(g) + ".";
    torch::serialize::OutputArchive options;
    param_groups_[g].options().serialize(options);
    archive.write(prefix + "options", options);
    for (size_t i = 0; i < group.params.size(); ++i) {
      std::string key = prefix + "param" + std::to_string(i);
      archive.write(key + ".step", c10::IValue(group.params[i].step));
      archive.write(key + ".slots", group.params[i].slots);
      if (group.params[i].master.defined())
        archive.write(key + ".master", group.params[i].master);
    }
  }
}

static void copyChecked(torch::Tensor &into, const torch::Tensor &from,
                        const std::string &key) {
  if (!from.sizes().equals(into.sizes()))
    throw std::invalid_argument("nos::Optimizer::load: '" + key +
                                "' has the wrong shape for this model");
  into.copy_(from);
}

void Optimizer::load(torch::serialize::InputArchive &archive) {
  c10::IValue canonical, groups;
  archive.read("nos.canonical", canonical);
  if (canonical.toStringRef() != impl_->rule.info().canonical)
    throw std::invalid_argument("nos::Optimizer::load: the checkpoint is of "
                                "rule '" +
                                canonical.toStringRef() + "', not '" +
                                impl_->rule.info().canonical + "'");
  archive.read("nos.groups", groups);
  if (groups.toInt() != int64_t(param_groups_.size()))
    throw std::invalid_argument("nos::Optimizer::load: the checkpoint has " +
                                std::to_string(groups.toInt()) +
                                " parameter groups");
  impl_->sync(param_groups_);
  torch::NoGradGuard noGrad;
  for (size_t g = 0; g < impl_->groups.size(); ++g) {
    GroupState &group = impl_->groups[g];
    std::string prefix = "nos.group" + std::to_string(g) + ".";
    // Checkpoints before per-parameter steps hold one step for the group.
    c10::IValue groupStep;
    bool perGroup = archive.try_read(prefix + "step", groupStep);
    torch::serialize::InputArchive options;
    archive.read(prefix + "options", options);
    param_groups_[g].options().serialize(options);
    for (size_t i = 0; i < group.params.size(); ++i) {
      std::string key = prefix + "param" + std::to_string(i);
      c10::IValue step = groupStep;
      if (!perGroup)
        archive.read(key + ".step", step);
      group.params[i].step = step.toInt();
      torch::Tensor slots, master;
      archive.read(key + ".slots", slots);
      copyChecked(group.params[i].slots, slots, key + ".slots");
      if (group.params[i].master.defined()) {
        archive.read(key + ".master", master);
        copyChecked(group.params[i].master, master, key + ".master");
      }
    }
  }
}

} // namespace nos
