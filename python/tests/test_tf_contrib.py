"""nos's PowerSign, AddSign and sign decays against TensorFlow's contrib.

TensorFlow 1.x's tf.contrib.opt.PowerSignOptimizer and AddSignOptimizer
with sign_decay.py are the reference implementation of the paper's authors.
Their formulas, transcribed here in float64 from those files and their
tests (powersign_test.py, addsign_test.py, sign_decay_test.py):

  m <- beta * m + (1 - beta) * g                (first; no bias correction)
  PowerSign: w <- w - lr * exp(log(base) * decay * sign(g) * sign(m)) * g
  AddSign:   w <- w - lr * (alpha + decay * sign(g) * sign(m)) * g
  decay = sign_decay_fn(global_step), global_step read before the
  optimizer increments it: 0 at the first update.
  linear:  max(0, (T - min(s, T)) / T)
  cosine:  0.5 * (1 + cos(pi * 2 * num_periods * min(s, T) / T))
  restart: 0.5 * (1 + cos(pi * ((num_periods * min(s, T)) % T) / T))

nos's rules with base e and alpha 1 are the built-ins; other bases and
alphas are rule strings. nos reads m bias-corrected, which sign() ignores.
"""
import math

import pytest
import torch

import nos

T = 10


def linear(s):
    return max(0.0, (T - min(s, T)) / T)


def cosine(s, periods=0.5):
    return 0.5 * (1 + math.cos(math.pi * 2 * periods * min(s, T) / T))


def restart(s, periods=1.0):
    return 0.5 * (1 + math.cos(math.pi * ((periods * min(s, T)) % T) / T))


def tf_run(rule, decay, grads, lr, beta, base=math.e, alpha=1.0):
    w = torch.zeros_like(grads[0], dtype=torch.float64)
    m = torch.zeros_like(w)
    for step, g in enumerate(grads):  # step: global_step before the update
        g = g.double()
        m.mul_(beta).add_(g, alpha=1 - beta)
        agree = (1.0 if decay is None else decay(step)) * \
            torch.sign(g) * torch.sign(m)
        if rule == "powersign":
            scale = torch.exp(math.log(base) * agree)
        else:
            scale = alpha + agree
        w.sub_(lr * scale * g)
    return w


def nos_run(rule, grads, lr, beta, total_steps=T):
    param = torch.zeros_like(grads[0])
    opt = nos.Optimizer([param], rule=rule, lr=lr, betas=(beta, 0.999),
                        total_steps=total_steps)
    for g in grads:
        param.grad = g.clone()
        opt.step()
    return param.double()


def gradients(steps, seed):
    gen = torch.Generator().manual_seed(seed)
    # Signs that change between steps, so sign(g) * sign(m) takes both
    # values and the decay shows in every update.
    return [torch.randn(256, generator=gen) for _ in range(steps)]


CASES = [
    # (nos rule, TF optimizer, decay, base, alpha, beta)
    ("powersign", "powersign", None, math.e, 1.0, 0.9),
    ("addsign", "addsign", None, math.e, 1.0, 0.9),
    ("powersign-ld", "powersign", linear, math.e, 1.0, 0.9),
    ("powersign-cd", "powersign", cosine, math.e, 1.0, 0.9),
    ("powersign-rd", "powersign", restart, math.e, 1.0, 0.9),
    ("addsign-ld", "addsign", linear, math.e, 1.0, 0.9),
    ("addsign-cd", "addsign", cosine, math.e, 1.0, 0.9),
    ("addsign-rd", "addsign", restart, math.e, 1.0, 0.9),
    # TF's own tests: base 10 and 2 with beta 0.8, alpha 0.1.
    ("10 ^ (ld * sign(g) * sign(m)) * g", "powersign", linear, 10.0, 1.0, 0.8),
    ("2 ^ (ld * sign(g) * sign(m)) * g", "powersign", linear, 2.0, 1.0, 0.8),
    ("(0.1 + ld * sign(g) * sign(m)) * g", "addsign", linear, math.e, 0.1,
     0.8),
    ("exp(cd(5) * sign(g) * sign(m)) * g", "powersign",
     lambda s: cosine(s, 5), math.e, 1.0, 0.9),
    ("exp(rd(3) * sign(g) * sign(m)) * g", "powersign",
     lambda s: restart(s, 3), math.e, 1.0, 0.9),
]


@pytest.mark.parametrize("rule, tf_rule, decay, base, alpha, beta", CASES)
def test_matches_tf_contrib_step_by_step(rule, tf_rule, decay, base, alpha,
                                         beta):
    # T + 3 updates: through the end of the schedule and past it.
    grads = gradients(T + 3, seed=len(rule))
    for steps in range(1, T + 4):
        expected = tf_run(tf_rule, decay, grads[:steps], 0.1, beta, base,
                          alpha)
        got = nos_run(rule, grads[:steps], 0.1, beta)
        assert (got - expected).abs().max().item() < 1e-5, f"update {steps}"


def test_schedule_step_is_tf_contribs():
    """The first update reads the decay at 0 (ld = 1), not at 1."""
    grads = gradients(1, seed=0)
    decayed = nos_run("powersign-ld", grads, 0.1, 0.9)
    plain = nos_run("powersign", grads, 0.1, 0.9)
    assert torch.equal(decayed, plain)
    # ...and the comparison can fail: reading at 1 would give e^0.9.
    shifted = tf_run("powersign", lambda s: linear(s + 1), grads, 0.1, 0.9)
    assert (decayed - shifted).abs().max().item() > 1e-3
