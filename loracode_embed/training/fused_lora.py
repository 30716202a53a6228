"""A training forward/backward for PEFT LoRA Linear layers with fewer passes over the activations.

PEFT computes ``base(x) + lora_B(lora_A(dropout(x))) * scaling``: besides the matmuls that is a
scaling multiply and an add over the whole ``(tokens, d_out)`` output in the forward pass, and the
same again plus a gradient accumulation over ``(tokens, d_in)`` in the backward pass. With a frozen
base those elementwise passes cost about as much as the LoRA matmuls themselves. Here the scaling
goes into ``B`` (a ``d_out x r`` matrix), and both additions happen inside the GEMMs (``addmm`` with
``beta=1``, i.e. cuBLAS's ``C = A @ B + C`` epilogue):

    forward:   out    = x @ W.T + bias;   out    += (x @ A.T) @ (s * B).T
    backward:  grad_x = g @ W;            grad_x += (g @ (s * B)) @ A

(Sharing one GEMM between ``W`` and ``A``, i.e. ``x @ [W; A].T``, and in the backward between ``W``
and ``s * B``, was measured too and was slower on an H100: the results are column slices, which cost
the following ops more than the shared read saved.)

Attention's query, key and value read the same input, so autograd also adds their three input
gradients with extra passes over ``(tokens, d_in)``. :func:`use_fused_lora` therefore makes each
``query``/``key``/``value`` (or ``q``/``k``/``v``) triple one autograd node: the first projection's
module computes all three outputs, and the other two hand back theirs when they are called with the
same input (Hugging Face's BERT/RoBERTa/MPNet attention calls them in that order; called in another
order the other two compute their outputs again: correct, only slower).

The maths is PEFT's; a CPU test checks outputs and gradients against PEFT's own forward.
:func:`use_fused_lora` switches the layers it can handle (one active adapter, plain LoRA, no LoRA
bias, a frozen ``nn.Linear`` base); DoRA and other variants keep PEFT's forward. The switch only
changes the modules' class, so state dicts, saving and adapters are unaffected, and each call still
falls back to PEFT's forward when adapters are disabled, merged, or several are active.

    >>> import torch
    >>> from peft import LoraConfig, get_peft_model
    >>> net = torch.nn.Sequential(torch.nn.Linear(8, 8))
    >>> net = get_peft_model(net, LoraConfig(r=2, target_modules=["0"]))
    >>> use_fused_lora(net)
    1
    >>> net(torch.randn(3, 8)).shape
    torch.Size([3, 8])
"""

from __future__ import annotations

from typing import Any

import torch


class _LoRALinearFunction(torch.autograd.Function):
    """``x @ W.T + bias + (x_lora @ A.T) @ (s * B).T`` with W and bias frozen; x and x_lora: (T, d_in)."""

    @staticmethod
    def forward(ctx: Any, x, x_lora, weight, bias, lora_a, lora_b_scaled):  # type: ignore[override]
        xa = x_lora @ lora_a.t()
        out = torch.addmm(bias, x, weight.t()) if bias is not None else x @ weight.t()
        out.addmm_(xa, lora_b_scaled.t())  # the LoRA term, added in the GEMM's epilogue
        ctx.same_input = x_lora is x
        ctx.save_for_backward(x_lora, xa, weight, lora_a, lora_b_scaled)
        return out

    @staticmethod
    def backward(ctx: Any, grad_out):  # type: ignore[override]
        x_lora, xa, weight, lora_a, lora_b_scaled = ctx.saved_tensors
        grad_x = grad_x_lora = None
        grad_xa = grad_out @ lora_b_scaled
        if ctx.needs_input_grad[0]:  # the first layer's input (frozen embeddings) needs none
            grad_x = grad_out @ weight
        if grad_x is not None and ctx.same_input:
            grad_x.addmm_(grad_xa, lora_a)  # the LoRA path's input gradient, added in the epilogue
        if not ctx.same_input and ctx.needs_input_grad[1]:
            grad_x_lora = grad_xa @ lora_a  # flows back through the dropout separately
        grad_a = grad_xa.t() @ x_lora
        grad_b_scaled = grad_out.t() @ xa
        return grad_x, grad_x_lora, None, None, grad_a, grad_b_scaled


def _peft_linear_class() -> type:
    from peft.tuners.lora.layer import Linear

    return Linear


def _fusable(layer: Any, adapter: str) -> bool:
    base = layer.get_base_layer()
    return (
        type(base) is torch.nn.Linear
        and not base.weight.requires_grad
        and (base.bias is None or not base.bias.requires_grad)
        and adapter in layer.lora_A
        and adapter not in layer.lora_variant
        and not layer.lora_bias.get(adapter, False)
        and type(layer.lora_A[adapter]) is torch.nn.Linear
        and type(layer.lora_B[adapter]) is torch.nn.Linear
    )


def _compute_dtype(x: torch.Tensor) -> torch.dtype:
    if torch.is_autocast_enabled(x.device.type):
        return torch.get_autocast_dtype(x.device.type)
    return x.dtype


def _fused_forward(self: Any, x: torch.Tensor, *args: Any, **kwargs: Any) -> torch.Tensor:
    active = self.active_adapters
    if (
        args
        or kwargs
        or self.disable_adapters
        or self.merged
        or len(active) != 1
        or not _fusable(self, active[0])
    ):
        return _peft_linear_class().forward(self, x, *args, **kwargs)
    adapter = active[0]
    base = self.get_base_layer()
    dtype = _compute_dtype(x)
    dropout = self.lora_dropout[adapter]
    x_lora = x if isinstance(dropout, torch.nn.Identity) else dropout(x)
    lead = x.shape[:-1]
    flat = x.reshape(-1, x.shape[-1]).to(dtype)
    flat_lora = flat if x_lora is x else x_lora.reshape(-1, x.shape[-1]).to(dtype)
    lora_a = self.lora_A[adapter].weight.to(dtype)
    lora_b_scaled = (self.lora_B[adapter].weight * self.scaling[adapter]).to(dtype)
    bias = base.bias.to(dtype) if base.bias is not None else None
    # autocast off inside: every operand is already in the compute dtype
    with torch.autocast(device_type=x.device.type, enabled=False):
        out = _LoRALinearFunction.apply(flat, flat_lora, base.weight.to(dtype), bias, lora_a, lora_b_scaled)
    return out.reshape(*lead, out.shape[-1])


class _ProjectionsFunction(torch.autograd.Function):
    """Frozen projections ``x @ W_i.T + b_i`` of one input, each with an optional LoRA term.

    Attention's query, key and value all read the same ``x``: computed separately, autograd adds their
    three input gradients with two extra passes over ``(tokens, d)``; here each projection's input
    gradient goes into one buffer inside its GEMM (``addmm_``). Per projection the inputs are
    ``weight, bias, lora_a, lora_b_scaled``; the last two are ``None`` for a projection without LoRA.
    """

    @staticmethod
    def forward(ctx: Any, x, *params):  # type: ignore[override]
        outs, xas = [], []
        for i in range(0, len(params), 4):
            weight, bias, lora_a, lora_b_scaled = params[i : i + 4]
            out = torch.addmm(bias, x, weight.t()) if bias is not None else x @ weight.t()
            xa = None
            if lora_a is not None:
                xa = x @ lora_a.t()
                out.addmm_(xa, lora_b_scaled.t())
            outs.append(out)
            xas.append(xa)
        ctx.save_for_backward(x, *xas, *params)
        return tuple(outs)

    @staticmethod
    def backward(ctx: Any, *grads):  # type: ignore[override]
        x, *rest = ctx.saved_tensors
        n = len(grads)
        xas, params = rest[:n], rest[n:]
        grad_x = None
        param_grads: list[torch.Tensor | None] = [None] * len(params)
        for i, grad in enumerate(grads):
            if grad is None:
                continue
            weight, _, lora_a, lora_b_scaled = params[4 * i : 4 * i + 4]
            grad_xa = None
            if lora_a is not None:
                grad_xa = grad @ lora_b_scaled
                param_grads[4 * i + 2] = grad_xa.t() @ x
                param_grads[4 * i + 3] = grad.t() @ xas[i]
            if ctx.needs_input_grad[0]:
                if grad_x is None:
                    grad_x = grad @ weight
                else:
                    grad_x.addmm_(grad, weight)
                if grad_xa is not None:
                    grad_x.addmm_(grad_xa, lora_a)
        return (grad_x, *param_grads)


def _projection_params(module: Any, dtype: torch.dtype) -> list[Any] | None:
    """``[weight, bias, lora_a, lora_b_scaled]`` in ``dtype`` for a group member, or None if it cannot join now."""
    if isinstance(module, _peft_linear_class()):
        active = module.active_adapters
        if module.disable_adapters or module.merged or len(active) != 1 or not _fusable(module, active[0]):
            return None
        if not isinstance(module.lora_dropout[active[0]], torch.nn.Identity):
            return None
        base = module.get_base_layer()
        lora_a = module.lora_A[active[0]].weight.to(dtype)
        lora_b_scaled = (module.lora_B[active[0]].weight * module.scaling[active[0]]).to(dtype)
    elif isinstance(module, torch.nn.Linear):
        base, lora_a, lora_b_scaled = module, None, None
    else:  # pragma: no cover - groups are only built from these two kinds
        return None
    if base.weight.requires_grad or (base.bias is not None and base.bias.requires_grad):
        return None
    bias = base.bias.to(dtype) if base.bias is not None else None
    return [base.weight.to(dtype), bias, lora_a, lora_b_scaled]


def _lead_forward(self: Any, x: torch.Tensor, *args: Any, **kwargs: Any) -> torch.Tensor:
    """The first projection of a group computes every member's output; the others pick theirs up."""
    group = self._fused_group
    dtype = _compute_dtype(x)
    params = None if (args or kwargs) else [_projection_params(m, dtype) for m in group]
    if params is None or any(p is None for p in params):
        return type(self).__mro__[1].forward(self, x, *args, **kwargs)
    flat = x.reshape(-1, x.shape[-1]).to(dtype)
    with torch.autocast(device_type=x.device.type, enabled=False):
        outs = _ProjectionsFunction.apply(flat, *(t for p in params for t in p))
    lead = x.shape[:-1]
    for member, out in zip(group[1:], outs[1:], strict=True):
        member._fused_output = (x, out.reshape(*lead, out.shape[-1]))
    return outs[0].reshape(*lead, outs[0].shape[-1])


def _follow_forward(self: Any, x: torch.Tensor, *args: Any, **kwargs: Any) -> torch.Tensor:
    ready = self.__dict__.get("_fused_output")
    self._fused_output = None
    if ready is not None and ready[0] is x and not args and not kwargs:
        return ready[1]
    return type(self).__mro__[1].forward(self, x, *args, **kwargs)


_GROUP_NAMES = (("query", "key", "value"), ("q", "k", "v"))


def _group_projections(model: torch.nn.Module) -> int:
    """Make each attention's query/key/value (``q``/``k``/``v``) one :class:`_ProjectionsFunction` call."""
    fused_lora_cls = _FUSED.get(_peft_linear_class())
    groups = 0
    for module in model.modules():
        for names in _GROUP_NAMES:
            members = [getattr(module, name, None) for name in names]
            if not all(
                type(m) is torch.nn.Linear or (fused_lora_cls is not None and type(m) is fused_lora_cls)
                for m in members
            ):
                continue
            if len({m.in_features for m in members}) != 1:
                continue
            members[0].__class__ = _role_class(type(members[0]), "lead")
            for member in members[1:]:
                member.__class__ = _role_class(type(member), "follow")
            object.__setattr__(members[0], "_fused_group", tuple(members))  # not a submodule
            groups += 1
    return groups


_ROLES: dict[tuple[type, str], type] = {}


def _role_class(cls: type, role: str) -> type:
    if (cls, role) not in _ROLES:
        forward = _lead_forward if role == "lead" else _follow_forward
        name = f"Fused{role.capitalize()}{cls.__name__}"
        _ROLES[cls, role] = globals()[name] = type(name, (cls,), {"forward": forward, "__module__": __name__})
    return _ROLES[cls, role]


def use_fused_lora(model: torch.nn.Module, group_projections: bool = True) -> int:
    """Give every PEFT LoRA ``Linear`` of ``model`` that can use it the fused forward/backward.

    With ``group_projections`` each attention's query, key and value projections (LoRA or frozen
    ``nn.Linear``) then also run as one autograd node, so their input gradients are summed inside the
    GEMMs.

    Returns:
        The number of LoRA layers switched (0 if the model has no plain LoRA Linear layers).
    """
    linear = _peft_linear_class()
    fused_cls = _fused_class(linear)
    switched = 0
    for module in model.modules():
        if type(module) is linear and module.active_adapters and _fusable(module, module.active_adapters[0]):
            module.__class__ = fused_cls
            switched += 1
    if switched and group_projections:
        _group_projections(model)
    return switched


_FUSED: dict[type, type] = {}


def _fused_class(linear: type) -> type:
    if linear not in _FUSED:
        # also a module attribute, so that pickle finds the class by name
        _FUSED[linear] = globals()["FusedLoraLinear"] = type(
            "FusedLoraLinear", (linear,), {"forward": _fused_forward, "__module__": __name__}
        )
    return _FUSED[linear]
