#!/usr/bin/env python3
"""python_step.py - one optimizer step: nos.Optimizer against what a PyTorch
2.x user would pick instead, on the CPU (or, with --device cuda, a GPU: the
GPU kit runs it there).

On two models -- an MLP of ~11.5M parameters and the search's child MLP
(196-128-10, ~26.5k parameters) -- it times optimizer.step() alone (the
gradients are set once; no forward or backward) for:

- nos.Optimizer: adam, adamw (adam with weight_decay=0.01, decoupled, in
  the same kernel), powersign, addsign and one rule the search sampled,
  `clip(g, 0.001) + m`;
- torch.optim.Adam / AdamW with fused=True and with foreach=True;
- PowerSign, AddSign and the sampled rule written with torch's foreach ops;
- torch.compile of the same steps (torch.optim's Adam/AdamW step, and the
  three rules as plain per-tensor torch code): steady state after warm-up,
  the time to the first step (a cold inductor cache), and whether changing
  lr recompiles.

nos's time from a new rule string to its first step is measured the same
way (a cold kernel cache). Rounds alternate between contenders, so a noisy
machine slows them alike; each figure is a median, each ratio is between
two figures of this run. With --json it prints one JSON object. Run it from
the build:

    PYTHONPATH=build/python .venv/bin/python bench/python_step.py --json
"""
import argparse
import json
import os
import statistics
import tempfile
import time

# Cold caches for both compilers: a user's new rule is compiled from scratch.
_CACHE = tempfile.mkdtemp(prefix="nos-python-step-")
os.environ["NOS_CACHE_DIR"] = os.path.join(_CACHE, "nos")
os.environ["TORCHINDUCTOR_CACHE_DIR"] = os.path.join(_CACHE, "inductor")

import torch  # noqa: E402

import nos  # noqa: E402

# One code object (RuleSteps.step_loop) serves three rules, each compiled
# again after an lr change: past dynamo's default of 8 entries it would fall
# back to eager and time that instead.
torch._dynamo.config.recompile_limit = 64

LR, BETA1, BETA2, EPS, DECAY, CLIP = 1e-3, 0.9, 0.999, 1e-8, 0.01, 0.001
SAMPLED = f"clip(g, {CLIP}) + m"
MODELS = {"mlp_11m": [1024, 2048, 2048, 2048, 512], "child": [196, 128, 10]}
DEVICE = torch.device("cpu")  # --device


def sync():
    """Waits for the device, so a GPU step is timed to its end."""
    if DEVICE.type == "cuda":
        torch.cuda.synchronize(DEVICE)


def make_params(widths):
    torch.manual_seed(0)
    layers = [torch.nn.Linear(a, b).to(DEVICE)
              for a, b in zip(widths, widths[1:])]
    params = [p for layer in layers for p in layer.parameters()]
    for p in params:
        p.requires_grad_(False)
        p.grad = torch.randn_like(p) * 1e-3
    return params


class RuleSteps:
    """PowerSign, AddSign and the sampled rule as torch code, per tensor
    (what torch.compile is given) and with foreach ops. The same formulas as
    nos's rules: m is the β1 running average, read bias-corrected."""

    def __init__(self, params, rule, lr=LR):
        self.params, self.rule, self.lr = params, rule, lr
        self.grads = [p.grad for p in params]
        self.m = [torch.zeros_like(p) for p in params]
        self.t = 0
        # The compiled step counts in a tensor, as torch.optim's capturable
        # steps do: a Python int would be a guard, recompiling every step.
        self.t_tensor = torch.zeros(())

    def _factor(self, sg, sm):
        if self.rule == "powersign":
            return torch.exp(sg * sm)
        return sg * sm + 1  # addsign

    def step_loop(self):
        self.t_tensor += 1
        correction = 1 / (1 - BETA1**self.t_tensor)
        for p, g, m in zip(self.params, self.grads, self.m):
            m.mul_(BETA1).add_(g, alpha=1 - BETA1)
            if self.rule == "sampled":
                update = g.clamp(-CLIP, CLIP) + m * correction
            else:
                update = self._factor(torch.sign(g), torch.sign(m)) * g
            p.add_(update, alpha=-self.lr)

    def step_foreach(self):
        self.t += 1
        correction = 1 / (1 - BETA1**self.t)
        torch._foreach_mul_(self.m, BETA1)
        torch._foreach_add_(self.m, self.grads, alpha=1 - BETA1)
        if self.rule == "sampled":
            update = torch._foreach_clamp_min(self.grads, -CLIP)
            torch._foreach_clamp_max_(update, CLIP)
            torch._foreach_add_(update, self.m, alpha=correction)
        else:
            update = torch._foreach_sign(self.grads)
            torch._foreach_mul_(update, torch._foreach_sign(self.m))
            if self.rule == "powersign":
                torch._foreach_exp_(update)
            else:
                torch._foreach_add_(update, 1.0)
            torch._foreach_mul_(update, self.grads)
        torch._foreach_add_(self.params, update, alpha=-self.lr)


def compiled_optim(cls, params, **kw):
    """torch.optim's step under torch.compile, as PyTorch's recipe writes it."""
    opt = cls(params, lr=LR, **kw)

    @torch.compile(fullgraph=False)
    def step():
        opt.step()

    def set_lr(lr):
        for group in opt.param_groups:
            group["lr"] = lr
    return step, set_lr


def compiled_rule(params, rule):
    steps = RuleSteps(params, rule)
    step = torch.compile(steps.step_loop)

    def set_lr(lr):
        steps.lr = lr
    return step, set_lr


def nos_step(params, rule, **kw):
    return nos.Optimizer(params, rule=rule, lr=LR, **kw).step


def contenders(widths):
    """name -> (step, set_lr or None); compiled ones are not yet warm."""
    p = lambda: make_params(widths)  # noqa: E731
    out = {
        "nos_adam": nos_step(p(), "adam"),
        "nos_adamw": nos_step(p(), "adam", weight_decay=DECAY),
        "nos_powersign": nos_step(p(), "powersign"),
        "nos_addsign": nos_step(p(), "addsign"),
        "nos_sampled": nos_step(p(), SAMPLED),
        "adam_fused": torch.optim.Adam(p(), lr=LR, fused=True).step,
        "adam_foreach": torch.optim.Adam(p(), lr=LR, foreach=True).step,
        "adamw_fused": torch.optim.AdamW(p(), lr=LR, weight_decay=DECAY,
                                         fused=True).step,
        "adamw_foreach": torch.optim.AdamW(p(), lr=LR, weight_decay=DECAY,
                                           foreach=True).step,
    }
    for rule in ("powersign", "addsign", "sampled"):
        out[f"{rule}_foreach"] = RuleSteps(p(), rule).step_foreach
    out = {name: (step, None) for name, step in out.items()}
    out["adam_compiled"] = compiled_optim(torch.optim.Adam, p())
    out["adamw_compiled"] = compiled_optim(torch.optim.AdamW, p(),
                                           weight_decay=DECAY)
    for rule in ("powersign", "addsign", "sampled"):
        out[f"{rule}_compiled"] = compiled_rule(p(), rule)
    return out


def timed(fn):
    sync()
    start = time.perf_counter()
    fn()
    sync()
    return time.perf_counter() - start


def graphs():
    from torch._dynamo.utils import counters
    return counters["stats"]["unique_graphs"]


def warm_up_inductor():
    """The first torch.compile of a process also starts inductor itself
    (about 15 s here); that is paid once, so no contender is charged it."""
    torch.compile(lambda x: (x * 2).sin())(torch.ones(4, device=DEVICE))


def first_steps(widths, opts):
    """Seconds from a new rule to its first step, and lr recompiles."""
    warm_up_inductor()
    first = {}
    # A rule string nos has never seen (a constant no other run uses).
    fresh = f"exp(sign(g) * sign(m)) * g * {1 + time.time_ns() % 997 * 1e-9}"
    params = make_params(widths)
    first["nos_new_rule_s"] = timed(lambda: nos_step(params, fresh)())
    recompiles = {}
    for name, (step, set_lr) in opts.items():
        if set_lr is None:
            continue
        first[f"{name}_s"] = timed(step)
        for _ in range(3):  # later calls may still specialise (step counts)
            step()
        steady = min(timed(step) for _ in range(3))
        before = graphs()
        set_lr(LR / 2)
        changed = timed(step)
        recompiles[name] = {"new_graphs": graphs() - before,
                            "step_after_change_over_steady": changed / steady}
    return first, recompiles


def measure(name, widths, reps, inner):
    # Each model's compiles start cold: dynamo's caches reset, inductor's
    # on-disk cache a new folder.
    torch._dynamo.reset()
    os.environ["TORCHINDUCTOR_CACHE_DIR"] = os.path.join(_CACHE, name)
    opts = contenders(widths)
    first, recompiles = first_steps(widths, opts)
    for step, _ in opts.values():  # warm-up: state, first touch, compiles
        for _ in range(3):
            step()
    times = {name: [] for name in opts}
    for _ in range(reps):
        for name, (step, _) in opts.items():
            sync()
            start = time.perf_counter()
            for _ in range(inner):
                step()
            sync()
            times[name].append((time.perf_counter() - start) / inner)
    ms = {name: 1e3 * statistics.median(t) for name, t in times.items()}
    params = sum(p.numel() for p in make_params(widths))
    return {"params": params, "reps": reps, "inner": inner, "median_ms": ms,
            "first_step_s": first, "lr_change_recompiles": recompiles,
            "ratios": ratios(ms, first)}


def ratios(ms, first):
    """Each goal's ratio, > 1 meaning nos is ahead, except *_vs_compiled,
    which is nos's time over torch.compile's (the goal: at most 1.1)."""
    out = {
        "adam_vs_fused": ms["adam_fused"] / ms["nos_adam"],
        "adam_vs_foreach": ms["adam_foreach"] / ms["nos_adam"],
        "adamw_vs_fused": ms["adamw_fused"] / ms["nos_adamw"],
        "adamw_vs_foreach": ms["adamw_foreach"] / ms["nos_adamw"],
    }
    for rule in ("adam", "adamw"):
        out[f"{rule}_nos_over_compiled"] = (ms[f"nos_{rule}"] /
                                            ms[f"{rule}_compiled"])
    for rule in ("powersign", "addsign", "sampled"):
        out[f"{rule}_vs_foreach"] = ms[f"{rule}_foreach"] / ms[f"nos_{rule}"]
        out[f"{rule}_nos_over_compiled"] = (ms[f"nos_{rule}"] /
                                            ms[f"{rule}_compiled"])
        out[f"{rule}_first_step_vs_compile"] = (first[f"{rule}_compiled_s"] /
                                                first["nos_new_rule_s"])
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--models", default="mlp_11m,child",
                        help=f"which of {', '.join(MODELS)}")
    parser.add_argument("--reps", type=int, default=15,
                        help="timed rounds (median reported)")
    parser.add_argument("--threads", type=int, default=os.cpu_count(),
                        help="torch intra-op threads (nos uses the same)")
    parser.add_argument("--device", default="cpu",
                        help="cpu, cuda or cuda:N: where the models live")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    global DEVICE
    DEVICE = torch.device(args.device)
    if DEVICE.type == "cuda" and not torch.cuda.is_available():
        parser.error(f"--device {args.device}: this torch sees no CUDA device")
    torch.set_num_threads(args.threads)
    result = {"threads": args.threads, "device": str(DEVICE),
              "torch": torch.__version__,
              "nos": nos.compiler_version, "models": {}}
    for name in args.models.split(","):
        widths = MODELS[name]
        inner = 1 if sum(widths) > 2000 else 200
        result["models"][name] = measure(name, widths, args.reps, inner)
        if not args.json:
            show(name, result["models"][name])
    if args.json:
        print(json.dumps(result))


def show(name, r):
    print(f"{name}: {r['params']:,} parameters, median of {r['reps']} rounds")
    for key, value in r["median_ms"].items():
        print(f"  {key:20s} {value:10.4f} ms")
    for key, value in r["first_step_s"].items():
        print(f"  first step {key:24s} {value:8.3f} s")
    for key, value in r["lr_change_recompiles"].items():
        print(f"  lr change {key:16s} {value['new_graphs']} new graphs, "
              f"step {value['step_after_change_over_steady']:.0f}x steady")
    for key, value in r["ratios"].items():
        print(f"  {key:34s} {value:8.2f}")


if __name__ == "__main__":
    main()
