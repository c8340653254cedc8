#!/usr/bin/env python3
# torch_gpu.py - PyTorch's baselines for `nos-bench cuda`, on the same GPU.
#
# Times one optimizer step over the same parameter layout nos-bench uses
# (n parameters as `tensors` equal tensors): torch.optim.Adam with
# fused=True and with foreach=True, and PowerSign written as eager torch ops,
# each the median of CUDA-event timings after a warm-up. Prints one JSON
# object. Run by bench/gpu.sh; needs PyTorch with CUDA.
import argparse
import json
import statistics

import torch


def timed_ms(step, reps):
    step()  # warm-up: allocations, kernel selection
    torch.cuda.synchronize()
    times = []
    for _ in range(reps):
        start = torch.cuda.Event(enable_timing=True)
        end = torch.cuda.Event(enable_timing=True)
        start.record()
        step()
        end.record()
        end.synchronize()
        times.append(start.elapsed_time(end))
    return statistics.median(times)


def make_params(n, tensors):
    per = (n + tensors - 1) // tensors
    params = []
    for begin in range(0, n, per):
        p = torch.empty(min(per, n - begin), device="cuda").uniform_(-1, 1)
        p.grad = torch.empty_like(p).uniform_(-1, 1)
        params.append(p)
    return params


def adam_ms(n, tensors, reps, **kind):
    params = make_params(n, tensors)
    opt = torch.optim.Adam(params, lr=1e-6, **kind)
    ms = timed_ms(opt.step, reps)
    del opt, params
    torch.cuda.empty_cache()
    return ms


def powersign_eager_ms(n, tensors, reps, lr=1e-6, beta=0.9):
    params = make_params(n, tensors)
    moments = [torch.zeros_like(p) for p in params]

    @torch.no_grad()
    def step():
        for p, m in zip(params, moments):
            g = p.grad
            m.mul_(beta).add_(g, alpha=1 - beta)
            p.add_(torch.exp(torch.sign(g) * torch.sign(m)) * g, alpha=-lr)

    ms = timed_ms(step, reps)
    del params, moments
    torch.cuda.empty_cache()
    return ms


def copy_gbps(n, reps):
    src = torch.empty(n, device="cuda").uniform_(-1, 1)
    dst = torch.empty_like(src)
    ms = timed_ms(lambda: dst.copy_(src), reps)
    return 2 * 4 * n / ms / 1e6


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=1 << 28)
    parser.add_argument("--tensors", type=int, default=64)
    parser.add_argument("--reps", type=int, default=20)
    a = parser.parse_args()
    out = {
        "torch": torch.__version__,
        "device": torch.cuda.get_device_name(),
        "adam_fused_ms": adam_ms(a.n, a.tensors, a.reps, fused=True),
        "adam_foreach_ms": adam_ms(a.n, a.tensors, a.reps, foreach=True),
        "powersign_eager_ms": powersign_eager_ms(a.n, a.tensors, a.reps),
        "torch_copy_gbps": copy_gbps(a.n, a.reps),
    }
    print(json.dumps(out))


if __name__ == "__main__":
    main()
