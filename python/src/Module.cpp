//===- Module.cpp - nos._nos: the compiler and runtime for Python ---------===//
//
// The extension knows nothing of torch: nos.Optimizer (optimizer.py) hands it
// each parameter group as raw addresses and lengths, and one call runs the
// compiled kernel over the whole table through the same executors as the C++
// nos::Optimizer (on the CPU, OpenMP's threads, which torch shares). So it
// builds against no torch headers and works with the PyTorch it is imported
// beside. C++ errors become Python exceptions:
// std::invalid_argument is ValueError, everything else RuntimeError.
//
//===----------------------------------------------------------------------===//
#include "nos/Args.h"
#include "nos/Builtins.h"
#include "nos/Compiler.h"
#include "nos/CpuExecutor.h"
#include "nos/CudaExecutor.h"
#include "nos/OptimizerState.h"

#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <algorithm>
#include <array>
#include <mutex>
#include <stdexcept>

namespace py = pybind11;
using namespace nos;

namespace {

/// A compiled rule: its CPU kernel now, its GPU kernel on first CUDA use.
/// The rule is parsed once; emit shows the stages of the rule as written.
class Kernel {
public:
  explicit Kernel(const std::string &rule) : rule_(rule) {
    ParseResult parsed = parseRuleOrBuiltin(rule);
    if (!parsed)
      throw std::invalid_argument("bad rule '" + rule +
                                  "': " + parsed.error.str());
    written_ = parsed.expr;
    std::string error;
    compiled_ = Compiler::shared().compileRule(*written_, &error);
    if (!compiled_)
      throw std::invalid_argument("cannot compile '" + rule + "': " + error);
  }

  const KernelInfo &info() const { return compiled_.info(); }

  py::object emit(const std::string &stageName) const {
    Stage stage;
    if (!stageFromName(stageName, stage))
      throw std::invalid_argument("unknown stage '" + stageName +
                                  "'; stages: " + stageNames());
    std::string out, error;
    if (!Compiler::shared().emit(*written_, stage, out, &error))
      throw std::runtime_error("cannot emit " + stageName + " for '" + rule_ +
                               "': " + error);
    if (stage == Stage::Obj)
      return py::bytes(out);
    return py::str(out);
  }

  NosArgs args(const Hyper &hyper, int64_t step) const {
    // makeArgs checks too; this names T as the Python user spells it.
    std::string error =
        checkTotalSteps(info().schedules, hyper.totalSteps, "total_steps");
    if (!error.empty())
      throw std::invalid_argument(error);
    NosArgs a = makeArgs(hyper, step, info().schedules, &error);
    if (!error.empty())
      throw std::invalid_argument(error);
    return a;
  }

  /// Runs on OpenMP's threads, not a CpuExecutor: torch's CPU ops use the
  /// same libgomp pool, whose threads spin for a while after each op, so a
  /// pool of our own would share the cores with them (on 2 cores Adam went
  /// from 3.8x to 2.0x torch.optim.Adam that way; bench/python_step.py).
  void runCpu(const std::vector<NosTensor> &table, const NosArgs &args,
              int threads) const {
    int parts = partsFor(table.data(), int64_t(table.size()), threads);
    if (parts == 1) {
      compiled_.cpu()->fn(table.data(), int64_t(table.size()), &args);
      return;
    }
    auto split = splitTable(table.data(), int64_t(table.size()), parts);
    NosCpuKernelFn fn = compiled_.cpu()->fn;
#pragma omp parallel for num_threads(int(split.size())) schedule(static, 1)
    for (size_t p = 0; p < split.size(); ++p)
      fn(split[p].data(), int64_t(split[p].size()), &args);
  }

  void runCuda(const std::vector<NosTensor> &table, const NosArgs &args,
               int device, uintptr_t stream) {
    CudaExecutor &gpu = gpuFor(device);
    gpu.run(gpuKernel()->info.hash, table.data(), int64_t(table.size()), args,
            reinterpret_cast<void *>(stream));
  }

private:
  std::shared_ptr<const GpuKernel> gpuKernel() {
    std::lock_guard<std::mutex> lock(gpuMutex_);
    if (!gpu_) {
      try {
        gpu_ = compiled_.gpu();
      } catch (const std::invalid_argument &e) {
        throw std::runtime_error(e.what());
      }
    }
    return gpu_;
  }

  CudaExecutor &gpuFor(int device) {
    auto kernel = gpuKernel();
    CudaExecutor &gpu = CudaExecutor::shared(device);
    gpu.load(kernel->info.hash, kernel->ptx);
    return gpu;
  }

  std::string rule_;
  ExprPtr written_;
  CompiledRule compiled_;
  std::mutex gpuMutex_;
  std::shared_ptr<const GpuKernel> gpu_;
};

/// The kernel table of one launch from parallel lists of addresses.
std::vector<NosTensor> makeTable(const Kernel &kernel,
                                 const std::vector<uintptr_t> &w,
                                 const std::vector<uintptr_t> &g,
                                 const std::vector<std::vector<uintptr_t>> &s,
                                 const std::vector<int64_t> &n,
                                 const std::vector<int64_t> &rngBase) {
  size_t count = w.size(), slots = kernel.info().stateSlots.size();
  if (g.size() != count || s.size() != count || n.size() != count ||
      rngBase.size() != count)
    throw std::invalid_argument("run: w, g, state, n and rng_base must have "
                                "one entry per tensor");
  std::vector<NosTensor> table(count);
  for (size_t i = 0; i < count; ++i) {
    if (s[i].size() != slots)
      throw std::invalid_argument("run: tensor " + std::to_string(i) + " has " +
                                  std::to_string(s[i].size()) +
                                  " state buffers; the rule keeps " +
                                  std::to_string(slots));
    if (!w[i] || !g[i] || n[i] < 0)
      throw std::invalid_argument("run: tensor " + std::to_string(i) +
                                  " has a null address or negative length");
    NosTensor &t = table[i];
    t.w = reinterpret_cast<float *>(w[i]);
    t.g = reinterpret_cast<const float *>(g[i]);
    for (size_t k = 0; k < slots; ++k)
      t.state[k] = reinterpret_cast<float *>(s[i][k]);
    t.n = n[i];
    t.rng_base = rngBase[i];
  }
  return table;
}

/// nos.Optimizer's group settings (optimizer.py's _hyper) as a Hyper; the
/// keyword names are the Python ones.
Hyper hyperFrom(const py::kwargs &kw) {
  Hyper h;
  // The names below are the only list of them: a keyword none of them took
  // is refused by name. A fixed array keeps the per-step path free of
  // allocation.
  std::array<const char *, 16> names{};
  size_t count = 0, taken = 0;
  auto take = [&](const char *name, auto &field) {
    names[count++] = name;
    if (kw.contains(name)) {
      field = kw[name].cast<std::decay_t<decltype(field)>>();
      ++taken;
    }
  };
  take("lr", h.lr), take("beta1", h.beta1), take("beta2", h.beta2);
  take("beta3", h.beta3), take("eps", h.eps), take("delta", h.delta);
  take("total_steps", h.totalSteps), take("seed", h.seed);
  take("weight_decay", h.weightDecay), take("maximize", h.maximize);
  if (taken != kw.size())
    for (auto item : kw) {
      std::string key = item.first.cast<std::string>();
      if (std::none_of(names.begin(), names.begin() + count,
                       [&](const char *name) { return key == name; }))
        throw py::type_error("unknown hyperparameter '" + key + "'");
    }
  return h;
}

void bindKernel(py::module_ &m) {
  py::class_<Kernel>(m, "Kernel", "A compiled rule (see nos.compile).")
      .def_property_readonly("canonical",
                             [](const Kernel &k) { return k.info().canonical; })
      .def_property_readonly("hash",
                             [](const Kernel &k) { return k.info().hash; })
      .def_property_readonly(
          "state_slots", [](const Kernel &k) { return k.info().stateSlots; })
      .def_property_readonly(
          "uses_random", [](const Kernel &k) { return k.info().usesRandom; })
      .def_property_readonly(
          "uses_schedule",
          [](const Kernel &k) { return !k.info().schedules.empty(); })
      .def("emit", &Kernel::emit, py::arg("stage"),
           "The rule at one stage of the pipeline (the names of nosc "
           "--emit); 'obj' gives bytes.")
      .def(
          "check",
          [](const Kernel &k, const py::kwargs &hyper) {
            k.args(hyperFrom(hyper), 1);
          },
          "Raises ValueError if the rule cannot run with these settings "
          "(keywords: those of default_hyper(), total_steps, seed).")
      .def(
          "run",
          [](Kernel &k, const std::vector<uintptr_t> &w,
             const std::vector<uintptr_t> &g,
             const std::vector<std::vector<uintptr_t>> &s,
             const std::vector<int64_t> &n, const std::vector<int64_t> &rng,
             int64_t step, int threads, int device, uintptr_t stream,
             const py::kwargs &hyper) {
            NosArgs args = k.args(hyperFrom(hyper), step);
            std::vector<NosTensor> table = makeTable(k, w, g, s, n, rng);
            py::gil_scoped_release release;
            if (device < 0)
              k.runCpu(table, args, threads);
            else
              k.runCuda(table, args, device, stream);
          },
          py::arg("w"), py::arg("g"), py::arg("state"), py::arg("n"),
          py::arg("rng_base"), py::arg("step"), py::arg("threads") = 1,
          py::arg("device") = -1, py::arg("stream") = 0,
          "One fused update of every tensor of the table, in place: w and g "
          "are float32 addresses, state the rule's buffers per tensor; "
          "device -1 is the CPU, else a CUDA device with `stream`; the "
          "hyperparameters as keywords (check()).")
      .def("__repr__", [](const Kernel &k) {
        return "<nos.Kernel '" + k.info().canonical + "'>";
      });
}

} // namespace

PYBIND11_MODULE(_nos, m) {
  m.doc() = "nos compiler and runtime (use the nos package, not this module)";
  py::register_exception<CudaError>(m, "CudaError", PyExc_RuntimeError);
  bindKernel(m);
  m.def(
      "compile", [](const std::string &rule) { return new Kernel(rule); },
      py::arg("rule"),
      "Compiles a built-in name or rule string; ValueError with the "
      "line:column on a bad rule.");
  m.def(
      "plan_launches",
      [](const std::vector<int64_t> &steps, const std::vector<bool> &hasGrad) {
        py::list out;
        for (const Launch &launch : planLaunches(steps, hasGrad))
          out.append(py::make_tuple(launch.step, launch.params));
        return out;
      },
      py::arg("steps"), py::arg("has_grad"),
      "The launches of one optimizer step (OptimizerState.h): (step, "
      "indices) per distinct step count among the parameters with a "
      "gradient, steps counted per parameter.");
  py::class_<RngBases>(m, "RngBases",
                       "Where each parameter's random stream starts "
                       "(OptimizerState.h).")
      .def(py::init<int64_t>(), py::arg("next") = 0)
      .def("take", &RngBases::take, py::arg("numel"),
           "The base of a new parameter of `numel` elements.")
      .def_property_readonly("next", &RngBases::next);
  m.def("needs_master_copy", &needsMasterCopy, py::arg("is_float32"),
        "Whether a parameter keeps a float32 master copy.");
  m.def("builtin_names", &builtinNames);
  m.def("builtin_rule", [](const std::string &name) -> py::object {
    if (const char *rule = builtinRule(name))
      return py::str(rule);
    return py::none();
  });
  m.def("stage_names", [] { return stageNames(); });
  m.def(
      "default_hyper",
      [] {
        Hyper h;
        py::dict d;
        d["lr"] = h.lr, d["beta1"] = h.beta1, d["beta2"] = h.beta2;
        d["beta3"] = h.beta3, d["eps"] = h.eps, d["delta"] = h.delta;
        d["weight_decay"] = h.weightDecay, d["maximize"] = h.maximize;
        return d;
      },
      "nos::Hyper's defaults, which nos.Optimizer's keyword arguments use.");
  m.def("compiler_stats", [] {
    Compiler::Stats s = Compiler::shared().stats();
    py::dict d;
    d["compiled"] = s.compiled, d["disk_hits"] = s.diskHits;
    d["memory_hits"] = s.memoryHits, d["disk_rejected"] = s.diskRejected;
    d["evicted"] = s.evicted, d["loaded_cpu_kernels"] = s.loadedCpuKernels;
    return d;
  });
  m.attr("compiler_version") = compilerVersion();
}
