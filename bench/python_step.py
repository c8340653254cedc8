#!/usr/bin/env python3
"""python_step.py - one optimizer step of nos.Optimizer against torch.optim.

Times optimizer.step() alone (gradients are set once, no forward or
backward) on a ~10M-parameter MLP for nos.Optimizer("adam") against
torch.optim.Adam (default and foreach=True), and nos.Optimizer("powersign")
against PowerSign written as eager torch ops, each on its own copy of the
model. Rounds alternate between the contenders, so a noisy machine slows
them alike; the medians and the ratios are printed, and with --json one
JSON object. Run with the build's package on the path:

    PYTHONPATH=build/python /usr/bin/python3 bench/python_step.py
"""
import argparse
import json
import os
import statistics
import time

import torch

import nos


def make_model(widths):
    torch.manual_seed(0)
    layers = [torch.nn.Linear(a, b) for a, b in zip(widths, widths[1:])]
    model = torch.nn.Sequential(*layers)
    for p in model.parameters():
        p.grad = torch.randn_like(p) * 1e-3
    return model


class EagerPowerSign:
    """exp(sign(g) * sign(m)) * g as a user writes it in torch, per tensor."""

    def __init__(self, params, lr=1e-3, beta=0.9):
        self.params, self.lr, self.beta = list(params), lr, beta
        self.m = [torch.zeros_like(p) for p in self.params]

    @torch.no_grad()
    def step(self):
        for p, m in zip(self.params, self.m):
            g = p.grad
            m.mul_(self.beta).add_(g, alpha=1 - self.beta)
            p.add_(torch.exp(torch.sign(g) * torch.sign(m)) * g,
                   alpha=-self.lr)


def contenders(widths):
    def fresh():
        return make_model(widths).parameters()
    return {
        "nos_adam": nos.Optimizer(fresh(), rule="adam", lr=1e-3),
        "torch_adam": torch.optim.Adam(fresh(), lr=1e-3),
        "torch_adam_foreach": torch.optim.Adam(fresh(), lr=1e-3,
                                               foreach=True),
        "nos_powersign": nos.Optimizer(fresh(), rule="powersign", lr=1e-3),
        "eager_powersign": EagerPowerSign(fresh()),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--widths", default="1024,2048,2048,2048,512",
                        help="layer widths of the MLP")
    parser.add_argument("--reps", type=int, default=15,
                        help="timed rounds (median reported)")
    parser.add_argument("--threads", type=int, default=os.cpu_count(),
                        help="torch intra-op threads (nos uses the same)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    widths = [int(w) for w in args.widths.split(",")]
    opts = contenders(widths)
    params = sum(p.numel() for p in make_model(widths).parameters())
    times = {name: [] for name in opts}
    for name, opt in opts.items():  # warm-up: state allocation, first touch
        for _ in range(3):
            opt.step()
    for _ in range(args.reps):
        for name, opt in opts.items():
            start = time.perf_counter()
            opt.step()
            times[name].append(time.perf_counter() - start)
    ms = {name: 1e3 * statistics.median(t) for name, t in times.items()}
    result = {
        "params": params, "threads": args.threads, "reps": args.reps,
        "torch": torch.__version__, "median_ms": ms,
        "adam_speedup": ms["torch_adam"] / ms["nos_adam"],
        "adam_foreach_speedup": ms["torch_adam_foreach"] / ms["nos_adam"],
        "powersign_speedup": ms["eager_powersign"] / ms["nos_powersign"],
    }
    if args.json:
        print(json.dumps(result))
        return
    print(f"{params / 1e6:.1f}M parameters, {args.threads} threads, "
          f"torch {torch.__version__}, median of {args.reps} steps")
    for name, value in ms.items():
        print(f"  {name:20s} {value:8.2f} ms")
    print(f"nos adam vs torch.optim.Adam:              "
          f"{result['adam_speedup']:.2f}x")
    print(f"nos adam vs torch.optim.Adam(foreach=True): "
          f"{result['adam_foreach_speedup']:.2f}x")
    print(f"nos powersign vs eager torch PowerSign:    "
          f"{result['powersign_speedup']:.2f}x")


if __name__ == "__main__":
    main()
