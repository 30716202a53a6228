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
order the other two compute their outputs again: correct, only slower). LoRA dropout is applied to
each LoRA input as PEFT applies it, in the same order.

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


class _ProjectionsFunction(torch.autograd.Function):
    """Frozen projections ``x @ W_i.T + b_i`` of one input, each with an optional LoRA term.

    The LoRA term of projection ``i`` is ``(x_lora_i @ A_i.T) @ (s_i * B_i).T``, where ``x_lora_i`` is
    ``x`` itself or, with LoRA dropout, a dropout of it. Inputs after ``x``, per projection:
    ``x_lora`` (``None``: ``x``), ``weight``, ``bias``, ``lora_a``, ``lora_b_scaled`` (the last two
    ``None`` for a projection without LoRA). Every input gradient that flows into ``x`` is added
    inside a GEMM (``addmm_``); a dropout input's gradient is returned on its own, for its dropout.
    """

    @staticmethod
    def forward(ctx: Any, x, *params):  # type: ignore[override]
        outs, xas = [], []
        for i in range(0, len(params), 5):
            x_lora, weight, bias, lora_a, lora_b_scaled = params[i : i + 5]
            out = torch.addmm(bias, x, weight.t()) if bias is not None else x @ weight.t()
            xa = None
            if lora_a is not None:
                xa = (x if x_lora is None else x_lora) @ lora_a.t()
                out.addmm_(xa, lora_b_scaled.t())  # the LoRA term, added in the GEMM's epilogue
            outs.append(out)
            xas.append(xa)
        ctx.save_for_backward(x, *xas, *params)
        return tuple(outs)

    @staticmethod
    def backward(ctx: Any, *grads):  # type: ignore[override]
        x, *rest = ctx.saved_tensors
        xas, params = rest[: len(grads)], rest[len(grads) :]
        grad_x = None
        param_grads: list[torch.Tensor | None] = [None] * len(params)
        for i, grad in enumerate(grads):
            if grad is None:
                continue
            x_lora, weight, _, lora_a, lora_b_scaled = params[5 * i : 5 * i + 5]
            if ctx.needs_input_grad[0]:  # the first layer's input (frozen embeddings) needs none
                grad_x = grad @ weight if grad_x is None else grad_x.addmm_(grad, weight)
            if lora_a is None:
                continue
            grad_xa = grad @ lora_b_scaled
            param_grads[5 * i + 3] = grad_xa.t() @ (x if x_lora is None else x_lora)
            param_grads[5 * i + 4] = grad.t() @ xas[i]
            if x_lora is None:
                if grad_x is not None:
                    grad_x.addmm_(grad_xa, lora_a)  # the LoRA path's input gradient, in the epilogue
            elif ctx.needs_input_grad[1 + 5 * i]:
                param_grads[5 * i] = grad_xa @ lora_a  # flows back through its dropout
        return (grad_x, *param_grads)


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


def _joinable(module: Any) -> bool:
    """Whether the module's projection can run in :class:`_ProjectionsFunction` right now."""
    if isinstance(module, _peft_linear_class()):
        active = module.active_adapters
        if module.disable_adapters or module.merged or len(active) != 1:
            return False
        return _fusable(module, active[0])
    return (
        isinstance(module, torch.nn.Linear)
        and not module.weight.requires_grad
        and (module.bias is None or not module.bias.requires_grad)
    )


def _projection_params(module: Any, x: torch.Tensor, flat: torch.Tensor, dtype: torch.dtype) -> list[Any]:
    """``[x_lora, weight, bias, lora_a, lora_b_scaled]`` of a joinable projection of ``x`` (``flat``: x
    as ``(tokens, d_in)`` in ``dtype``)."""
    x_lora = lora_a = lora_b_scaled = None
    base = module
    if isinstance(module, _peft_linear_class()):
        adapter = module.active_adapters[0]
        base = module.get_base_layer()
        dropout = module.lora_dropout[adapter]
        if not isinstance(dropout, torch.nn.Identity):  # as PEFT: a dropout mask per LoRA layer
            x_lora = dropout(x).reshape(flat.shape).to(dtype)
        lora_a = module.lora_A[adapter].weight.to(dtype)
        lora_b_scaled = (module.lora_B[adapter].weight * module.scaling[adapter]).to(dtype)
    bias = base.bias.to(dtype) if base.bias is not None else None
    return [x_lora, base.weight.to(dtype), bias, lora_a, lora_b_scaled]


def _own_forward(module: Any) -> Any:
    """The forward of the module's class before this module switched it."""
    return next(cls for cls in type(module).__mro__ if cls.__module__ != __name__).forward


def _fused_forward(self: Any, x: torch.Tensor, *args: Any, **kwargs: Any) -> torch.Tensor:
    """This projection, and the rest of its query/key/value group if it leads one, in one autograd node."""
    group = self.__dict__.get("_fused_group", (self,))
    if group[0] is not self:
        # A shallow copy of the lead (a DataParallel replica): its group still names the original
        # modules, whose weights live on another device. Run this projection on its own.
        group = (self,)
    if args or kwargs or not all(_joinable(m) for m in group):
        return _own_forward(self)(self, x, *args, **kwargs)
    dtype = _compute_dtype(x)
    flat = x.reshape(-1, x.shape[-1]).to(dtype)
    params = [_projection_params(m, x, flat, dtype) for m in group]
    # autocast off inside: every operand is already in the compute dtype
    with torch.autocast(device_type=x.device.type, enabled=False):
        outs = _ProjectionsFunction.apply(flat, *(t for p in params for t in p))
    lead = x.shape[:-1]
    for member, out in zip(group[1:], outs[1:], strict=True):
        member._fused_output = (x, out.reshape(*lead, out.shape[-1]))
    return outs[0].reshape(*lead, outs[0].shape[-1])


def _follow_forward(self: Any, x: torch.Tensor, *args: Any, **kwargs: Any) -> torch.Tensor:
    """A grouped key/value: the output its group's first projection computed for this very input."""
    ready = self.__dict__.get("_fused_output")
    self._fused_output = None
    if ready is not None and ready[0] is x and not args and not kwargs:
        return ready[1]
    return _own_forward(self)(self, x, *args, **kwargs)


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
        forward = _fused_forward if role == "lead" else _follow_forward
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
