#!/usr/bin/env python3
"""train.py - a PyTorch training loop with nos.Optimizer.

Describes the compiled PowerSign kernel, fits a small network to a fixed
teacher with it under a cosine lr schedule, and shows the error a bad rule
gets. Exits 1 if the loss did not fall to a quarter, so the install test can
tell a working package from a broken one.
"""
import sys

import torch

import nos

kernel = nos.compile("exp(sign(g) * sign(m)) * g")
print(f"kernel {kernel.hash}: {kernel.canonical}, state {kernel.state_slots}")

torch.manual_seed(0)
model = torch.nn.Sequential(torch.nn.Linear(16, 64), torch.nn.Tanh(),
                            torch.nn.Linear(64, 1))
x = torch.randn(256, 16)
y = x.sum(1, keepdim=True).tanh()
opt = nos.Optimizer(model.parameters(), rule="powersign", lr=0.01)
sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=300)
first = None
for step in range(300):
    opt.zero_grad()
    loss = torch.nn.functional.mse_loss(model(x), y)
    first = first or loss.item()
    loss.backward()
    opt.step()
    sched.step()
print(f"loss {first:.4f} -> {loss.item():.4f} in {opt.state[model[0].weight]['step']} steps")

try:
    nos.Optimizer(model.parameters(), rule="exp(sign(g) * sign(m) * g")
except ValueError as error:
    print(f"ValueError: {error}")
sys.exit(0 if loss.item() < first / 4 else 1)
