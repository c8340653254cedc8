"""torch.optim's generic optimizer checks, run against nos.Optimizer.

Part one runs the error inputs torch ships for every optimizer
(torch.testing._internal.common_optimizers.get_error_inputs_for_all_optims)
as torch's test_optim does. Part two restates, one test each, the generic
checks of torch's test/test_optim.py (not shipped in the wheel) that apply
to an optimizer running one rule: the direction of descent, maximize,
weight decay per group, no-op steps without gradients, tensor lr, hooks,
printing, deepcopy and pickling, state dicts that load with weights_only.
docs/python.md lists which pass and which do not apply, with why.
"""
import copy
import io
import pickle
import re
import warnings

import pytest
import torch
from torch.testing._internal.common_optimizers import \
    get_error_inputs_for_all_optims

import nos

ERRORS = get_error_inputs_for_all_optims("cpu", torch.float32)


@pytest.mark.parametrize("error", ERRORS,
                         ids=[e.optimizer_error_input.desc for e in ERRORS])
def test_torch_error_inputs(error):
    given = error.optimizer_error_input
    params = given.params
    if params is None:
        params = [torch.nn.Parameter(torch.randn(1, 1))]
    make = lambda: nos.Optimizer(params, rule="adam",  # noqa: E731
                                 **given.kwargs)
    if issubclass(error.error_type, Warning):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            make()
        assert any(issubclass(w.category, error.error_type) and
                   re.search(error.error_regex, str(w.message))
                   for w in caught)
    else:
        with pytest.raises(error.error_type, match=error.error_regex):
            make()


def quadratic(param):
    """0.5 * |A p - b|^2 for a fixed well-conditioned A and b."""
    gen = torch.Generator().manual_seed(0)
    a = torch.randn(8, 8, generator=gen) / 4 + torch.eye(8)
    b = torch.randn(8, generator=gen)
    return 0.5 * (a @ param - b).square().sum()


RULES = ["sgd", "momentum", "adam", "rmsprop", "powersign", "addsign"]


@pytest.mark.parametrize("rule", RULES)
@pytest.mark.parametrize("weight_decay", [0.0, 0.1])
def test_goes_right_direction(rule, weight_decay):
    param = torch.nn.Parameter(torch.zeros(8))
    opt = nos.Optimizer([param], rule=rule, lr=1e-2,
                        weight_decay=weight_decay)
    start = quadratic(param).item()
    for _ in range(20):
        opt.zero_grad()
        quadratic(param).backward()
        opt.step()
    assert quadratic(param).item() < start


@pytest.mark.parametrize("rule", RULES)
def test_maximize_goes_the_other_way(rule):
    param = torch.nn.Parameter(torch.zeros(8))
    opt = nos.Optimizer([param], rule=rule, lr=1e-2, maximize=True)
    start = quadratic(param).item()
    for _ in range(20):
        opt.zero_grad()
        quadratic(param).backward()
        opt.step()
    assert quadratic(param).item() > start


def test_weight_decay_per_group():
    decayed, kept = torch.ones(4), torch.ones(4)
    opt = nos.Optimizer([{"params": [decayed], "weight_decay": 0.5},
                         {"params": [kept]}], rule="sgd", lr=0.1)
    decayed.grad, kept.grad = torch.zeros(4), torch.zeros(4)
    opt.step()
    assert torch.allclose(decayed, torch.full((4,), 0.95))
    assert torch.equal(kept, torch.ones(4))


def test_step_without_gradients_is_a_no_op():
    param = torch.nn.Parameter(torch.randn(5))
    before = param.detach().clone()
    opt = nos.Optimizer([param], rule="adam", lr=0.1, weight_decay=0.1)
    opt.step()
    assert torch.equal(param, before)
    assert opt.state[param].get("step", 0) == 0


def test_tensor_lr_is_the_float_lr():
    by_float, by_tensor = torch.ones(6), torch.ones(6)
    for param, lr in ((by_float, 0.01), (by_tensor, torch.tensor(0.01))):
        opt = nos.Optimizer([param], rule="adam", lr=lr)
        for _ in range(3):
            param.grad = torch.linspace(-1, 1, 6)
            opt.step()
    assert torch.equal(by_float, by_tensor)


def test_step_hooks_run_once_per_step():
    param = torch.nn.Parameter(torch.randn(3))
    opt = nos.Optimizer([param], rule="sgd", lr=0.1)
    calls = []
    opt.register_step_pre_hook(lambda *_: calls.append("pre"))
    opt.register_step_post_hook(lambda *_: calls.append("post"))
    param.grad = torch.ones(3)
    opt.step()
    opt.step()
    assert calls == ["pre", "post", "pre", "post"]


def test_optimizer_can_be_printed():
    opt = nos.Optimizer([torch.nn.Parameter(torch.randn(2))], rule="adam",
                        weight_decay=0.01, maximize=True)
    text = repr(opt)
    assert "weight_decay: 0.01" in text and "maximize: True" in text


@pytest.mark.parametrize("how", ["deepcopy", "pickle"])
def test_copies_keep_the_rule_and_the_state(how):
    param = torch.nn.Parameter(torch.randn(4))
    opt = nos.Optimizer([param], rule="adam + 0.01 * noise * g", lr=0.01,
                        seed=3)
    param.grad = torch.ones(4)
    opt.step()
    pair = (param, opt)
    if how == "deepcopy":
        param2, opt2 = copy.deepcopy(pair)
    else:
        param2, opt2 = pickle.loads(pickle.dumps(pair))
    assert opt2.rule == opt.rule
    for p, o in ((param, opt), (param2, opt2)):
        p.grad = torch.ones(4)
        o.step()
    assert torch.equal(param, param2)


def test_state_dict_loads_with_weights_only():
    param = torch.nn.Parameter(torch.randn(4))
    opt = nos.Optimizer([param], rule="powersign", lr=0.01,
                        weight_decay=0.1, maximize=True)
    param.grad = torch.ones(4)
    opt.step()
    buffer = io.BytesIO()
    torch.save(opt.state_dict(), buffer)
    buffer.seek(0)
    loaded = torch.load(buffer, weights_only=True)
    assert loaded["param_groups"][0]["weight_decay"] == 0.1
    assert loaded["param_groups"][0]["maximize"] is True
    other = nos.Optimizer([torch.nn.Parameter(param.detach().clone())],
                          rule="powersign")
    other.load_state_dict(loaded)
    assert other.param_groups[0]["maximize"] is True


def test_state_dict_from_before_weight_decay_loads():
    param = torch.nn.Parameter(torch.randn(4))
    opt = nos.Optimizer([param], rule="adam", lr=0.01)
    saved = opt.state_dict()
    for group in saved["param_groups"]:
        del group["weight_decay"], group["maximize"]
    opt.load_state_dict(saved)
    param.grad = torch.ones(4)
    opt.step()  # the missing settings read as their defaults
    assert opt.state[param]["step"] == 1


def test_complex_parameters_are_refused():
    with pytest.raises(ValueError, match="float32 or bfloat16"):
        nos.Optimizer([torch.zeros(3, dtype=torch.complex64)], rule="adam")
