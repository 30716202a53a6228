"""A training forward/backward for PEFT LoRA Linear layers with fewer passes over the activations.

PEFT computes ``base(x) + lora_B(lora_A(dropout(x))) * scaling``: besides the matmuls that is a
scaling multiply and an add over the whole ``(tokens, d_out)`` output in the forward pass, and the
same again plus a gradient accumulation over ``(tokens, d_in)`` in the backward pass. With a frozen
base those elementwise passes cost about as much as the LoRA matmuls themselves. Here the scaling
goes into ``B`` (a ``d_out x r`` matrix), and both additions happen inside the GEMMs (``addmm`` with
``beta=1``, i.e. cuBLAS's ``C = A @ B + C`` epilogue):

    forward:   out    = x @ W.T + bias;   out    += (x @ A.T) @ (s * B).T
    backward:  grad_x = g @ W;            grad_x += (g @ (s * B)) @ A

(Sharing one GEMM between ``W`` and ``A``, i.e. ``x @ [W; A].T``, was measured too and was no faster
on an H100: its outputs are column slices, which cost the following ops what the shared read saved.)

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
        grad_xa = grad_out @ lora_b_scaled
        grad_a = grad_xa.t() @ x_lora
        grad_b_scaled = grad_out.t() @ xa
        grad_x = grad_x_lora = None
        if ctx.needs_input_grad[0]:  # the first layer's input (frozen embeddings) needs none
            grad_x = grad_out @ weight
            if ctx.same_input:
                grad_x.addmm_(grad_xa, lora_a)  # the LoRA path's input gradient, added in the epilogue
        if not ctx.same_input and ctx.needs_input_grad[1]:
            grad_x_lora = grad_xa @ lora_a  # flows back through the dropout separately
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


def use_fused_lora(model: torch.nn.Module) -> int:
    """Give every PEFT LoRA ``Linear`` of ``model`` that can use it the fused forward/backward.

    Returns:
        The number of layers switched (0 if the model has no plain LoRA Linear layers).
    """
    linear = _peft_linear_class()
    fused_cls = _fused_class(linear)
    switched = 0
    for module in model.modules():
        if type(module) is linear and module.active_adapters and _fusable(module, module.active_adapters[0]):
            module.__class__ = fused_cls
            switched += 1
    return switched


_FUSED: dict[type, type] = {}


def _fused_class(linear: type) -> type:
    if linear not in _FUSED:
        _FUSED[linear] = type(
            "FusedLoraLinear", (linear,), {"forward": _fused_forward, "__module__": __name__}
        )
    return _FUSED[linear]
