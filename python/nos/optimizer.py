"""nos.Optimizer: a torch.optim.Optimizer that runs a compiled rule.

Each step makes one fused kernel call per parameter group: the group's
parameters, gradients and state buffers go to the C++ runtime as one table
of addresses (``Kernel.run``), which updates them in place. State is kept in
``self.state`` as float32 tensors named after the rule's state slots, with
``step`` and ``rng_base`` (where the parameter's random stream starts), so
``state_dict()`` and ``load_state_dict()`` are torch's own and a resumed run
repeats an uninterrupted one bit for bit. Hyperparameters are kernel
arguments: changing them, as ``torch.optim.lr_scheduler`` does, never
recompiles. bfloat16 parameters keep a float32 master copy.
"""
import torch

from . import _nos

# nos::Hyper's defaults (include/nos/Hyper.h), the one place they live.
_DEFAULTS = _nos.default_hyper()

_SUPPORTED_DTYPES = (torch.float32, torch.bfloat16)


class Optimizer(torch.optim.Optimizer):
    """Runs the update rule ``rule`` (a built-in name or a rule string).

    ``betas`` are beta1 and beta2 of the rule's running averages (m, v),
    ``beta3`` that of its third (r), ``eps`` the epsilon of adam-like
    operands, ``delta`` that of protected division and square root,
    ``total_steps`` the T of the decay schedules (required by rules that use
    ld, cd or rd) and ``seed`` the seed of the rule's noise.
    ``weight_decay`` is decoupled, AdamW's ``w <- w - lr * weight_decay *
    w``, applied in the same fused kernel; ``maximize`` ascends (the rule
    sees -g), as in torch.optim.
    """

    def __init__(self, params, rule="powersign", lr=_DEFAULTS["lr"],
                 betas=(_DEFAULTS["beta1"], _DEFAULTS["beta2"]),
                 beta3=_DEFAULTS["beta3"], eps=_DEFAULTS["eps"],
                 delta=_DEFAULTS["delta"], total_steps=0, seed=0,
                 weight_decay=_DEFAULTS["weight_decay"],
                 maximize=_DEFAULTS["maximize"]):
        if torch.is_tensor(lr) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        self.kernel = _nos.compile(rule)
        self._rng_bases = _nos.RngBases()
        defaults = dict(lr=lr, betas=betas, beta3=beta3, eps=eps,
                        delta=delta, total_steps=total_steps, seed=seed,
                        weight_decay=weight_decay, maximize=maximize)
        super().__init__(params, defaults)

    @property
    def rule(self):
        """The canonical form of the rule this optimizer runs."""
        return self.kernel.canonical

    def add_param_group(self, param_group):
        super().add_param_group(param_group)
        group = self.param_groups[-1]
        try:
            for p in group["params"]:
                _check_parameter(p)
            try:
                hyper = _hyper(group)
            except (TypeError, ValueError) as error:
                raise ValueError(f"bad hyperparameters: {error}") from None
            self.kernel.check(**hyper)
        except ValueError as error:
            del self.param_groups[-1]
            raise ValueError(f"nos.Optimizer: {error}") from None

    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            self._step_group(group)
        return loss

    def _state_of(self, p):
        state = self.state[p]
        if not state:
            state["step"] = 0
            state["rng_base"] = self._rng_bases.take(p.numel())
            for slot in self.kernel.state_slots:
                state[slot] = torch.zeros_like(p, dtype=torch.float32,
                                               memory_format=torch.contiguous_format)
            if _nos.needs_master_copy(p.dtype == torch.float32):
                state["master"] = p.detach().to(torch.float32).contiguous()
        return state

    def _step_group(self, group):
        # Every parameter gets its state (and random stream) in order the
        # first time its group steps, as nos::Optimizer does at construction.
        params = group["params"]
        states = [self._state_of(p) for p in params]
        for p in params:
            if p.grad is not None and p.grad.is_sparse:
                raise ValueError("nos.Optimizer: sparse gradients are not "
                                 "supported")
        # The state rules of nos::Optimizer (OptimizerState.h): steps per
        # parameter, one launch per step count (normally one), and here one
        # per device too.
        plan = _nos.plan_launches([s["step"] for s in states],
                                  [p.grad is not None for p in params])
        for step, indices in plan:
            by_device = {}
            for i in indices:
                by_device.setdefault(params[i].device, []).append(
                    (params[i], states[i]))
            for device, entries in by_device.items():
                self._launch(group, step, device, entries)

    def _launch(self, group, step, device, entries):
        w, g, slots, n, rng, keep = [], [], [], [], [], []
        for p, state in entries:
            grad = p.grad
            if grad.dtype != torch.float32 or not grad.is_contiguous():
                grad = grad.to(torch.float32).contiguous()
                keep.append(grad)
            target = state.get("master", p)
            w.append(target.data_ptr())
            g.append(grad.data_ptr())
            slots.append([state[s].data_ptr() for s in self.kernel.state_slots])
            n.append(p.numel())
            rng.append(state["rng_base"])
        where = dict(threads=torch.get_num_threads())
        if device.type == "cuda":
            index = device.index if device.index is not None else \
                torch.cuda.current_device()
            where = dict(device=index,
                         stream=torch.cuda.current_stream(device).cuda_stream)
        self.kernel.run(w, g, slots, n, rng, step, **_hyper(group), **where)
        for p, state in entries:
            state["step"] = step
            if "master" in state:
                p.copy_(state["master"])

    # torch's own __getstate__ keeps defaults, state and param_groups only;
    # copy.deepcopy and pickle must also keep the rule and the stream bases.
    def __getstate__(self):
        state = super().__getstate__()
        state["nos_rule"] = self.kernel.canonical
        state["nos_next_rng_base"] = self._rng_bases.next
        return state

    def __setstate__(self, state):
        state = dict(state)
        if "nos_rule" in state:  # not from load_state_dict, which keeps both
            self.kernel = _nos.compile(state.pop("nos_rule"))
            self._rng_bases = _nos.RngBases(state.pop("nos_next_rng_base"))
        super().__setstate__(state)

    def state_dict(self):
        saved = super().state_dict()
        saved["nos_rule"] = self.kernel.canonical
        return saved

    def load_state_dict(self, state_dict):
        rule = state_dict.get("nos_rule", self.kernel.canonical)
        if rule != self.kernel.canonical:
            raise ValueError(f"nos.Optimizer.load_state_dict: the state is of "
                             f"rule '{rule}', not '{self.kernel.canonical}'")
        saved = state_dict["state"]
        super().load_state_dict(state_dict)
        # torch casts loaded tensors to each parameter's dtype; nos state is
        # float32 whatever the parameter (a bf16 master copy must stay f32).
        params = [p for group in self.param_groups for p in group["params"]]
        for index, p in enumerate(params):
            for key, value in saved.get(index, {}).items():
                if torch.is_tensor(value):
                    self.state[p][key] = value.to(device=p.device,
                                                  dtype=torch.float32,
                                                  copy=True).contiguous()
        self._rng_bases = _nos.RngBases(max(
            [s["rng_base"] + p.numel() for p, s in self.state.items()
             if "rng_base" in s], default=0))


def _hyper(group):
    beta1, beta2 = group["betas"]
    return dict(lr=float(group["lr"]), beta1=float(beta1),
                beta2=float(beta2), beta3=float(group["beta3"]),
                eps=float(group["eps"]), delta=float(group["delta"]),
                total_steps=int(group["total_steps"]),
                seed=int(group["seed"]),
                # Absent from state dicts saved before they existed.
                weight_decay=float(group.get("weight_decay",
                                             _DEFAULTS["weight_decay"])),
                maximize=bool(group.get("maximize", _DEFAULTS["maximize"])))


def _check_parameter(p):
    if p.device.type not in ("cpu", "cuda"):
        raise ValueError(f"parameters on {p.device} are not "
                         f"supported (CPU or CUDA only)")
    if p.dtype not in _SUPPORTED_DTYPES:
        raise ValueError(f"parameters must be float32 or "
                         f"bfloat16, got {p.dtype}")
    if not p.is_contiguous():
        raise ValueError("parameters must be contiguous")
