"""nos.Optimizer against torch.optim and pure-torch references.

The built-in rules must follow PyTorch's own optimizers step for step on a
small model, PowerSign and AddSign a transcription of TensorFlow's formulas;
a resumed run must equal the one that never stopped, bit for bit.
"""
import io
import math

import pytest
import torch

import nos


def make_model(seed=7):
    torch.manual_seed(seed)
    return torch.nn.Sequential(torch.nn.Linear(20, 32), torch.nn.Tanh(),
                               torch.nn.Linear(32, 5))


def make_data():
    gen = torch.Generator().manual_seed(99)
    return (torch.randn(64, 20, generator=gen),
            torch.randint(0, 5, (64,), generator=gen))


def train(model, optimizer, steps, data=None, scheduler=None):
    x, y = data or make_data()
    for _ in range(steps):
        optimizer.zero_grad()
        torch.nn.functional.cross_entropy(model(x), y).backward()
        optimizer.step()
        if scheduler is not None:
            scheduler.step()


def max_difference(a, b):
    return max((pa - pb).abs().max().item()
               for pa, pb in zip(a.parameters(), b.parameters()))


@pytest.mark.parametrize("rule, make_reference, tolerance, options", [
    ("sgd", lambda p: torch.optim.SGD(p, lr=0.1), 1e-5, {}),
    ("momentum", lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.9), 1e-4,
     {}),
    ("nesterov", lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.9,
                                           nesterov=True), 1e-4, {}),
    ("adam", lambda p: torch.optim.Adam(p, lr=1e-3), 1e-4, {}),
    ("rmsprop", lambda p: torch.optim.RMSprop(p, lr=1e-3), 1e-4, {}),
    # torch.optim's options, in the same fused kernel.
    ("adam", lambda p: torch.optim.AdamW(p, lr=1e-3, weight_decay=0.5),
     1e-4, dict(weight_decay=0.5)),
    ("adam", lambda p: torch.optim.Adam(p, lr=1e-3, maximize=True), 1e-4,
     dict(maximize=True)),
    ("sgd", lambda p: torch.optim.SGD(p, lr=0.1, maximize=True), 1e-5,
     dict(maximize=True)),
    # Without momentum, SGD's coupled L2 decay is the decoupled one.
    ("sgd", lambda p: torch.optim.SGD(p, lr=0.1, weight_decay=0.1), 1e-5,
     dict(weight_decay=0.1)),
])
def test_builtin_follows_torch_optim(rule, make_reference, tolerance,
                                     options):
    reference, model = make_model(), make_model()
    torch_opt = make_reference(reference.parameters())
    lr = torch_opt.param_groups[0]["lr"]
    nos_opt = nos.Optimizer(model.parameters(), rule=rule, lr=lr, **options)
    train(reference, torch_opt, 200)
    train(model, nos_opt, 200)
    moved = max((p - q).abs().max().item()
                for p, q in zip(model.parameters(), make_model().parameters()))
    assert moved > 100 * tolerance  # the comparison is not of two idle models
    assert max_difference(reference, model) <= tolerance
    assert all(nos_opt.state[p]["step"] == 200 for p in model.parameters())


def tf_sign_step(w, m, g, lr, beta, power):
    """TensorFlow contrib's PowerSign (base e) and AddSign (alpha 1)."""
    m.mul_(beta).add_(g, alpha=1 - beta)
    agree = torch.sign(g) * torch.sign(m)
    scale = torch.exp(agree) if power else 1 + agree
    w.sub_(lr * scale * g)


@pytest.mark.parametrize("power", [True, False])
def test_powersign_addsign_follow_tensorflow(power):
    torch.manual_seed(3)
    param = torch.randn(1000)
    w, m = param.double().clone(), torch.zeros(1000, dtype=torch.float64)
    opt = nos.Optimizer([param], rule="powersign" if power else "addsign",
                        lr=0.01)
    for _ in range(50):
        g = torch.randn(1000)
        param.grad = g.clone()
        opt.step()
        tf_sign_step(w, m, g.double(), 0.01, 0.9, power)
    assert (w - param.double()).abs().max().item() < 1e-5
    assert (w - param.double()).abs().max().item() < \
        (w - torch.randn(1000).double()).abs().max().item()


def test_schedule_rule_with_lr_scheduler_does_not_recompile():
    total = 40
    torch.manual_seed(5)
    param = torch.randn(500)
    w, m = param.double().clone(), torch.zeros(500, dtype=torch.float64)
    opt = nos.Optimizer([param], rule="powersign-ld", lr=0.02,
                        total_steps=total)
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=10, gamma=0.5)
    before = nos.compiler_stats()
    for t in range(1, total + 1):
        lr = opt.param_groups[0]["lr"]
        g = torch.randn(500)
        param.grad = g.clone()
        opt.step()
        sched.step()
        # exp(ld * sign(g) * sign(m)) * g; step t reads ld at t - 1.
        g = g.double()
        m.mul_(0.9).add_(g, alpha=0.1)
        decay = max(0.0, 1 - (t - 1) / total)
        w.sub_(lr * torch.exp(decay * torch.sign(g) * torch.sign(m)) * g)
    assert opt.param_groups[0]["lr"] == pytest.approx(0.02 * 0.5 ** 4)
    assert (w - param.double()).abs().max().item() < 1e-5
    assert nos.compiler_stats() == before


def test_schedule_rule_needs_total_steps():
    with pytest.raises(ValueError, match="decay schedule"):
        nos.Optimizer([torch.zeros(3, requires_grad=True)], rule="addsign-cd")


@pytest.mark.parametrize("rule", ["adam", "adam + 0.01 * noise * g"])
def test_state_dict_resumes_bit_identically(rule):
    data = make_data()
    uninterrupted = make_model()
    opt = nos.Optimizer(uninterrupted.parameters(), rule=rule, lr=1e-3,
                        seed=11)
    train(uninterrupted, opt, 30, data)

    first = make_model()
    opt1 = nos.Optimizer(first.parameters(), rule=rule, lr=1e-3, seed=11)
    train(first, opt1, 12, data)
    buffer = io.BytesIO()
    torch.save({"model": first.state_dict(), "opt": opt1.state_dict()},
               buffer)
    buffer.seek(0)
    # Only tensors, numbers and strings: loads without unpickling code.
    checkpoint = torch.load(buffer, weights_only=True)

    resumed = make_model(seed=123)
    opt2 = nos.Optimizer(resumed.parameters(), rule=rule, lr=1e-3, seed=11)
    resumed.load_state_dict(checkpoint["model"])
    opt2.load_state_dict(checkpoint["opt"])
    train(resumed, opt2, 18, data)
    for a, b in zip(uninterrupted.parameters(), resumed.parameters()):
        assert torch.equal(a, b)
    # Not trivially equal: another seed's noise gives other weights.
    if nos.compile(rule).uses_random:
        other = make_model()
        train(other, nos.Optimizer(other.parameters(), rule=rule, lr=1e-3,
                                   seed=12), 30, data)
        assert max_difference(other, uninterrupted) > 0


def test_state_of_another_rule_is_refused():
    model = make_model()
    saved = nos.Optimizer(model.parameters(), rule="adam").state_dict()
    with pytest.raises(ValueError, match="state is of rule"):
        nos.Optimizer(model.parameters(), rule="powersign").load_state_dict(
            saved)


def test_param_groups_have_their_own_lr():
    torch.manual_seed(1)
    a, b = torch.zeros(100), torch.zeros(100)
    opt = nos.Optimizer([{"params": [a]}, {"params": [b], "lr": 0.5}],
                        rule="sgd", lr=0.1)
    g = torch.randn(100)
    a.grad, b.grad = g.clone(), g.clone()
    opt.step()
    assert torch.allclose(a, -0.1 * g)
    assert torch.allclose(b, -0.5 * g)
    assert len(opt.param_groups) == 2


def test_bf16_parameters_keep_float32_state():
    torch.manual_seed(2)
    master = torch.randn(256)
    p = master.to(torch.bfloat16)
    opt = nos.Optimizer([p], rule="adam", lr=1e-3)
    for _ in range(5):
        p.grad = torch.randn(256).to(torch.bfloat16)
        opt.step()
    state = opt.state[p]
    assert state["m"].dtype == torch.float32
    assert state["master"].dtype == torch.float32
    assert torch.equal(p, state["master"].to(torch.bfloat16))
    # The f32 master survives a round trip through the state dict.
    q = p.clone()
    opt2 = nos.Optimizer([q], rule="adam", lr=1e-3)
    opt2.load_state_dict(opt.state_dict())
    assert opt2.state[q]["master"].dtype == torch.float32
    assert torch.equal(opt2.state[q]["master"], state["master"])


def test_bad_rule_raises_value_error_with_position():
    with pytest.raises(ValueError, match=r"1:7.*expected"):
        nos.Optimizer([torch.zeros(3)], rule="sign(g")


@pytest.mark.parametrize("options, message", [
    (dict(lr=-1.0), "lr is -1"),
    (dict(lr=math.nan), "lr is nan"),
    (dict(betas=(1.5, 0.9)), "beta1"),
    (dict(betas=0.9), "bad hyperparameters"),
    (dict(weight_decay=-0.1), "weight_decay is -0.1"),
])
def test_bad_hyperparameters_raise(options, message):
    with pytest.raises(ValueError, match=message):
        nos.Optimizer([torch.zeros(3)], rule="adam", **options)


def test_unsupported_device_and_dtype_raise():
    with pytest.raises(ValueError, match="parameters on meta"):
        nos.Optimizer([torch.zeros(3, device="meta")], rule="adam")
    with pytest.raises(ValueError, match="float32 or bfloat16"):
        nos.Optimizer([torch.zeros(3, dtype=torch.float64)], rule="adam")
    with pytest.raises(ValueError, match="parameters must be contiguous"):
        nos.Optimizer([torch.zeros(4, 3).t()], rule="adam")
    opt = nos.Optimizer([torch.zeros(3)], rule="adam")
    with pytest.raises(ValueError, match="parameters on meta"):
        opt.add_param_group({"params": [torch.zeros(3, device="meta")]})
    assert len(opt.param_groups) == 1


def test_one_kernel_call_per_group(monkeypatch):
    model = make_model()
    opt = nos.Optimizer(model.parameters(), rule="adam")
    calls = []
    real = type(opt.kernel).run
    monkeypatch.setattr(opt, "kernel", _Spy(opt.kernel, real, calls))
    train(model, opt, 3)
    assert [len(w) for w in calls] == [4, 4, 4]


class _Spy:
    def __init__(self, kernel, run, calls):
        self._kernel, self._run, self._calls = kernel, run, calls

    def __getattr__(self, name):
        return getattr(self._kernel, name)

    def run(self, w, *args, **kwargs):
        self._calls.append(w)
        return self._run(self._kernel, w, *args, **kwargs)


def test_each_parameter_draws_its_own_noise():
    a, b = torch.zeros(64), torch.zeros(64)
    opt = nos.Optimizer([a, b], rule="g + noise", lr=1.0, seed=3)
    a.grad, b.grad = torch.zeros(64), torch.zeros(64)
    opt.step()
    assert a.abs().sum() > 0 and b.abs().sum() > 0
    assert not torch.equal(a, b)
    assert opt.state[b]["rng_base"] == opt.state[a]["rng_base"] + 64


def test_a_parameter_first_stepped_late_starts_at_step_one():
    # Steps are counted per parameter, as torch.optim and nos::Optimizer
    # count them (OptimizerState.h): b's first step is Adam's step 1.
    a, b = torch.linspace(-1, 1, 5), torch.full((3,), 2.0)
    ta, tb = a.clone(), b.clone()
    opt = nos.Optimizer([a, b], rule="adam", lr=0.1)
    ref = torch.optim.Adam([ta, tb], lr=0.1)
    for step in range(8):
        ga = torch.sin(torch.arange(5.0) + step)
        gb = torch.cos(torch.arange(3.0) * step)
        a.grad, ta.grad = ga, ga.clone()
        b.grad = None if step < 3 else gb
        tb.grad = None if step < 3 else gb.clone()
        opt.step()
        ref.step()
    assert (a - ta).abs().max() < 1e-5
    assert (b - tb).abs().max() < 1e-5
    assert opt.state[a]["step"] == 8 and opt.state[b]["step"] == 5
