//===- nosc.cpp - The rule compiler driver --------------------------------===//
//
// Parses a rule (infix or the paper's token form), shows any stage of its
// compilation, checks the compiled kernel against the reference interpreter,
// or runs it over .npy files. Every error goes to stderr with a non-zero exit.
//
//===----------------------------------------------------------------------===//
#include "Batch.h"
#include "RunSteps.h"

#include "nos/Builtins.h"
#include "nos/Check.h"
#include "nos/Compiler.h"
#include "nos/CudaHostRun.h"
#include "nos/Files.h"
#include "nos/Parser.h"
#include "nos/Tokens.h"

#include <CLI/CLI.hpp>
#include <fmt/core.h>

#include <algorithm>
#include <cstdio>

#include <unistd.h>

using namespace nos;

namespace {
struct Options {
  std::string rule, tokens, emit, output, runDir, cacheDir, file;
  bool check = false, info = false, noCache = false, gpu = false;
  bool listBuiltins = false;
  int64_t steps = 0, checkN = 4099; // steps 0: all of g.npy / 3 checks
  int threads = 0, optLevel = 3, irOptLevel = 0;
  unsigned vectorWidth = 0, gpuVectorWidth = 1;
  Hyper hyper;
};

/// A compiler message that already reads "L:C: error: ..." keeps its own
/// prefix rather than gaining a second "error:".
int fail(const std::string &message) {
  size_t colon = message.find(": error: ");
  bool located = colon != std::string::npos && colon > 0 &&
                 message.find_first_not_of("0123456789:") == colon + 1;
  fmt::print(stderr, located ? "nosc: {}\n" : "nosc: error: {}\n", message);
  return 1;
}

/// "1:7: error: ..." followed by the rule and a caret under the column.
int parseFailure(const std::string &source, const ParseResult &parsed) {
  fmt::print(stderr, "nosc: {}\n", parsed.error.str());
  int line = 1;
  size_t start = 0;
  for (size_t i = 0; i < source.size() && line < parsed.error.loc.line; ++i)
    if (source[i] == '\n')
      ++line, start = i + 1;
  std::string text = source.substr(start, source.find('\n', start) - start);
  if (text.size() <= 200)
    fmt::print(
        stderr, "  {}\n  {}^\n", text,
        std::string(size_t(std::max(0, parsed.error.loc.column - 1)), ' '));
  return 1;
}

int writeOutput(const Options &opts, const std::string &text, bool binary) {
  if (opts.output.empty()) {
    if (binary && isatty(fileno(stdout)))
      return fail("refusing to write an object file to a terminal; use -o");
    fwrite(text.data(), 1, text.size(), stdout);
    return 0;
  }
  if (std::string why = writeFileAtomically(opts.output, {text}); !why.empty())
    return fail("cannot write '" + opts.output + "': " + why);
  return 0;
}

CheckOptions checkOptions(const Options &opts) {
  CheckOptions check;
  check.n = opts.checkN;
  check.steps = opts.steps > 0 ? int(opts.steps) : 3;
  check.hyper = opts.hyper;
  check.threads = opts.threads > 0 ? opts.threads : 2;
  return check;
}

int report(const KernelInfo &info, const CheckOptions &check,
           const CheckResult &result) {
  if (!result.error.empty())
    return fail(result.error);
  fmt::print("rule:      {}\nhash:      {}\ncompared:  {} element updates "
             "over {} steps\nmax error: {:.3g} relative, {:.3g} of the "
             "tolerance\n",
             info.canonical, info.hash, result.compared, check.steps,
             result.maxRelError, result.maxErrorToTolerance);
  if (result.ok) {
    fmt::print("check:     ok\n");
    return 0;
  }
  fmt::print("check:     FAILED, {} mismatches; first: {}\n", result.mismatches,
             result.firstMismatch);
  return 1;
}

int runCheck(const CpuKernel &kernel, const Options &opts) {
  CheckOptions check = checkOptions(opts);
  return report(kernel.info, check, checkKernel(kernel, check));
}

/// --check --gpu: the PTX kernel on device 0 against the reference.
int runGpuCheck(Compiler &compiler, const Expr &rule, const Options &opts) {
  std::string error;
  auto kernel = compiler.compileGpu(rule, &error);
  if (!kernel)
    return fail(error);
  try {
    CudaExecutor gpu;
    gpu.load(kernel->info.hash, kernel->ptx);
    fmt::print("device:    {} (sm_{})\n", gpu.deviceName(),
               gpu.computeCapability());
    CheckOptions check = checkOptions(opts);
    int slots = int(kernel->info.stateSlots.size());
    auto runner = [&](NosTensor *table, int64_t count, const NosArgs &args) {
      runOnHostArrays(gpu, kernel->info.hash, table, count, args, slots);
    };
    return report(kernel->info, check,
                  checkKernel(kernel->info, runner, check));
  } catch (const CudaError &e) {
    return fail(std::string("--gpu: ") + e.what());
  }
}

void printInfo(const CpuKernel &kernel, const std::string &source) {
  // A built-in name is only a spelling: show what it stands for.
  if (const char *text = builtinRule(source))
    fmt::print("builtin:    {} = {}\n", source, text);
  std::string slots, schedules;
  for (const std::string &s : kernel.info.stateSlots)
    slots += (slots.empty() ? "" : ", ") + s;
  for (const ScheduleSpec &s : kernel.info.schedules)
    schedules += fmt::format("{}{}({})", schedules.empty() ? "" : ", ",
                             spelling(s.kind), s.n);
  fmt::print(
      "rule:       {}\nhash:       {}\nstate:      {}\nschedules:  "
      "{}\nrandom:     {}\nkernel:     {} in {:.2f} ms\n",
      kernel.info.canonical, kernel.info.hash, slots.empty() ? "none" : slots,
      schedules.empty() ? "none" : schedules,
      kernel.info.usesRandom ? "yes" : "no", kernel.origin, kernel.compileMs);
}

void addOptions(CLI::App &app, Options &o) {
  app.add_option("rule", o.rule,
                 "Update rule, e.g. 'exp(sign(g) * sign(m)) * g', or a "
                 "built-in name (--builtins)");
  app.add_option("-f,--file", o.file,
                 "Compile every rule of FILE (one a line; '-': stdin)");
  app.add_flag("--builtins", o.listBuiltins,
               "List the built-in names and the rules they stand for");
  app.add_option("--tokens", o.tokens,
                 "Rule in the paper's token form, e.g. "
                 "'sign(g) sign(m) x x mul ; o1 g exp x mul'");
  app.add_option("--emit", o.emit, "Print a stage: " + stageNames());
  app.add_option("-o", o.output, "Write the emitted stage to this file");
  app.add_flag("--gpu", o.gpu,
               "With --check: check the GPU kernel on CUDA device 0");
  app.add_flag("--check", o.check,
               "Compare the JIT kernel with the reference interpreter");
  app.add_option("--check-n", o.checkN, "Elements per --check step")
      ->check(CLI::Range(int64_t(1), int64_t(1) << 28));
  app.add_flag("--info", o.info, "Print canonical form, hash and layout");
  app.add_option("--run", o.runDir,
                 "Apply --steps steps to DIR/w.npy with DIR/g.npy");
  app.add_option("--steps", o.steps,
                 "Steps for --run (default: one per row of g.npy) and --check "
                 "(default 3)")
      ->check(CLI::Range(int64_t(1), int64_t(1) << 40));
  app.add_option("--lr", o.hyper.lr, "Learning rate");
  app.add_option("--beta1", o.hyper.beta1, "Decay of m");
  app.add_option("--beta2", o.hyper.beta2, "Decay of v");
  app.add_option("--beta3", o.hyper.beta3, "Decay of gamma");
  app.add_option("--eps", o.hyper.eps, "Epsilon of adam and rmsprop");
  app.add_option("--delta", o.hyper.delta, "Delta of the protected division");
  app.add_option("--total-steps", o.hyper.totalSteps,
                 "Total steps T of the decay schedules");
  app.add_option("--seed", o.hyper.seed, "Seed of noise, anoise and drop");
  app.add_option("--threads", o.threads, "Worker threads (0: all cores)");
  app.add_option("-O", o.optLevel, "LLVM code generation level")
      ->check(CLI::Range(0, 3));
  app.add_option("--ir-opt", o.irOptLevel, "LLVM IR optimization level")
      ->check(CLI::Range(0, 3));
  app.add_option("--gpu-vector-width", o.gpuVectorWidth,
                 "Adjacent elements per GPU thread and iteration")
      ->check(CLI::IsMember({1u, 2u, 4u}));
  app.add_option("--vector-width", o.vectorWidth,
                 "f32 lanes of the vector loop (0: host's widest)");
  app.add_flag("--no-cache", o.noCache, "Do not use the on-disk kernel cache");
  app.add_option(
      "--cache-dir", o.cacheDir,
      "Kernel cache folder (default $NOS_CACHE_DIR or ~/.cache/nos)");
}

CompileOptions compileOptions(const Options &o) {
  CompileOptions copts;
  copts.optLevel = o.optLevel;
  copts.irOptLevel = o.irOptLevel;
  copts.vectorWidth = o.vectorWidth;
  copts.gpuVectorWidth = o.gpuVectorWidth;
  copts.cacheDir = o.cacheDir;
  copts.diskCache = !o.noCache;
  return copts;
}

int run(const Options &o) {
  if (o.listBuiltins) {
    for (const std::string &name : builtinNames())
      fmt::print("{} = {}\n", name, builtinRule(name));
    return 0;
  }
  if (!o.file.empty()) {
    if (!o.rule.empty() || !o.tokens.empty() || !o.emit.empty() || o.check ||
        o.info || !o.runDir.empty())
      return fail("-f compiles each rule of the file and prints one line per "
                  "rule; --emit, --check, --run and --info take one rule");
    Compiler compiler(compileOptions(o));
    return compileBatch(o.file, compiler);
  }
  if (o.rule.empty() == o.tokens.empty())
    return fail("give exactly one rule: a RULE argument or --tokens TEXT");
  const std::string &source = o.tokens.empty() ? o.rule : o.tokens;
  // A built-in name means the built-in in every nos tool and API.
  ParseResult parsed =
      o.tokens.empty() ? parseRuleOrBuiltin(source) : parseTokens(source);
  if (!parsed)
    return parseFailure(source, parsed);
  Compiler compiler(compileOptions(o));
  std::string error;
  if (!o.emit.empty()) {
    Stage stage;
    if (!stageFromName(o.emit, stage))
      return fail("unknown stage '" + o.emit +
                  "' for --emit; stages: " + stageNames());
    std::string out;
    if (!compiler.emit(*parsed.expr, stage, out, &error))
      return fail(error);
    if (int rc = writeOutput(o, out, stage == Stage::Obj))
      return rc;
    if (!o.check && o.runDir.empty() && !o.info)
      return 0;
  }
  if (o.gpu) {
    if (!o.check || !o.runDir.empty())
      return fail("--gpu goes with --check only");
    return runGpuCheck(compiler, *parsed.expr, o);
  }
  CompiledRule compiled = compiler.compileRule(*parsed.expr, &error);
  if (!compiled)
    return fail(error);
  const CpuKernel *kernel = compiled.cpu().get();
  if (o.info || (o.emit.empty() && !o.check && o.runDir.empty()))
    printInfo(*kernel, o.tokens.empty() ? source : "");
  bool runs = o.check || !o.runDir.empty();
  if (runs)
    if (std::string why = checkTotalSteps(kernel->info.schedules,
                                          o.hyper.totalSteps, "--total-steps");
        !why.empty())
      return fail(why);
  if (o.check)
    if (int rc = runCheck(*kernel, o))
      return rc;
  if (!o.runDir.empty()) {
    if (std::string e =
            runSteps(*kernel, o.runDir, o.steps, o.hyper, o.threads);
        !e.empty())
      return fail(e);
    fmt::print("wrote {}/w_out.npy and the state after the steps\n", o.runDir);
  }
  return 0;
}
} // namespace

/// A rule such as '-g * sign(m)' is not an option: anything that starts
/// with '-' but holds a space or an operator character is moved behind
/// "--", where CLI11 takes it as the RULE argument.
std::vector<std::string> ruleArgumentsLast(int argc, char **argv) {
  std::vector<std::string> args, rules;
  bool rest = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    rest = rest || a == "--";
    if (!rest && a.size() > 1 && a[0] == '-' && a[1] != '-' &&
        a.find_first_of(" ()*/+^,") != std::string::npos)
      rules.push_back(a);
    else
      args.push_back(a);
  }
  if (!rules.empty() && !rest)
    args.push_back("--");
  args.insert(args.end(), rules.begin(), rules.end());
  std::reverse(args.begin(), args.end()); // CLI11 parses a reversed vector
  return args;
}

int main(int argc, char **argv) {
  CLI::App app{"nosc: compile optimizer update rules to fused kernels"};
  Options options;
  addOptions(app, options);
  std::vector<std::string> args = ruleArgumentsLast(argc, argv);
  try {
    app.parse(args);
  } catch (const CLI::ExtrasError &e) {
    int rc = app.exit(e);
    for (const std::string &a : app.remaining())
      if (a.size() > 1 && a[0] == '-' && a[1] != '-')
        fmt::print(stderr,
                   "nosc: a rule that starts with '-' goes after '--': "
                   "nosc [OPTIONS] -- '{}'\n",
                   a);
    return rc;
  } catch (const CLI::ParseError &e) {
    return app.exit(e);
  }
  return run(options);
}
