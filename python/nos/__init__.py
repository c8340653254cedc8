"""nos: optimizer update rules compiled to fused kernels.

``nos.compile(rule)`` compiles a built-in name (``nos.builtin_names()``) or a
rule string of the nos language to a kernel and describes it;
``nos.Optimizer`` is a ``torch.optim.Optimizer`` that runs one. The rule
language is in docs/language.md of the nos repository.
"""
from ._nos import (CudaError, Kernel, builtin_names, builtin_rule,
                   compiler_stats, compiler_version, stage_names)
from ._nos import compile as _compile


def compile(rule):
    """Compiles ``rule`` (a built-in name or a rule string) to a Kernel.

    The Kernel gives ``canonical``, ``hash``, ``state_slots``,
    ``uses_random``, ``uses_schedule`` and ``emit(stage)`` for every stage
    ``nosc --emit`` knows (``nos.stage_names()``). A bad rule raises
    ValueError with the line:column of the problem.
    """
    return _compile(rule)


def __getattr__(name):
    # torch is imported only when the optimizer is asked for, so that
    # nos.compile works without it.
    if name == "Optimizer":
        from .optimizer import Optimizer
        return Optimizer
    raise AttributeError(f"module 'nos' has no attribute '{name}'")


__all__ = ["CudaError", "Kernel", "Optimizer", "builtin_names",
           "builtin_rule", "compile", "compiler_stats", "compiler_version",
           "stage_names"]
