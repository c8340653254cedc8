"""nos.compile: the same rules, names and errors as nosc."""
import pytest

import nos


def test_builtin_name_means_its_rule():
    adam = nos.compile("adam")
    assert adam.canonical == nos.compile(nos.builtin_rule("adam")).canonical
    rmsprop = nos.compile("rmsprop")
    # The built-in name, not the language's bias-corrected rmsprop operand.
    assert rmsprop.canonical == nos.compile("g / sqrt(ema(g2, 0.99))").canonical
    assert rmsprop.canonical != nos.compile("g / rmsprop").canonical
    assert set(nos.builtin_names()) >= {"sgd", "adam", "powersign", "lion"}


def test_kernel_describes_the_rule():
    k = nos.compile("adam + ema(g2, 0.9) * noise")
    assert k.state_slots == ["m", "v", "ema0"]
    assert k.uses_random and not k.uses_schedule
    assert len(k.hash) == 16 and int(k.hash, 16) >= 0
    assert not nos.compile("sign(g)").uses_random
    assert nos.compile("powersign-ld").uses_schedule
    # Two spellings of one rule are one kernel.
    assert nos.compile("sign(m) * sign(g)").hash == \
        nos.compile("sign(g) * sign(m)").hash
    assert nos.compile("g * 1").canonical == "g"
    assert nos.compile("g + g").hash != nos.compile("3 * g").hash


def test_emit_every_stage_nosc_knows():
    k = nos.compile("exp(sign(g) * sign(m)) * g")
    assert "nos.ema" in nos.compile("ema(g, 0.5)").emit("mlir")
    names = nos.stage_names().split(", ")
    assert names[:4] == ["ast", "mlir", "canonical", "canonical-mlir"]
    assert "nos.sign" in k.emit("mlir")
    assert k.emit("canonical").strip() == k.canonical
    assert "define" in k.emit("llvm")
    obj = k.emit("obj")
    assert isinstance(obj, bytes) and obj[:4] == b"\x7fELF"
    for stage in ("gpu", "nvvm", "ptx"):
        try:
            assert k.emit(stage)
        except RuntimeError as error:  # no CUDA toolkit (libdevice) here
            assert "cannot emit" in str(error)
    with pytest.raises(ValueError, match="unknown stage 'bogus'; stages: ast"):
        k.emit("bogus")


@pytest.mark.parametrize("rule, where", [
    ("exp(sign(g) * sign(m) * g", "1:26: error: expected '\\)'"),
    ("g +", "1:4"),
    ("sign(q)", "1:6"),
])
def test_bad_rule_raises_value_error_with_position(rule, where):
    with pytest.raises(ValueError, match=where):
        nos.compile(rule)
