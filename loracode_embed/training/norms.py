"""LayerNorms that stay in a bf16 base model's own dtype under autocast.

CUDA and CPU autocast run ``layer_norm`` in float32 and return float32. In a model whose frozen
weights are stored in bf16 that turns the whole residual stream into float32: every LayerNorm
output is float32, each following Linear casts it back to bf16, each residual add mixes the two
and produces float32, and the backward pass mirrors every cast. On one H100 those casts and the
float32 elementwise work took about a third of a UniXcoder-shape LoRA training step
(``benchmarks/train_throughput.py --profile``).

:func:`keep_layer_norms_in_weight_dtype` makes each LayerNorm with half-precision weights run in that
precision. PyTorch's bf16 LayerNorm kernels still accumulate mean and variance in float32; only the
output is rounded to bf16, as in a bf16 model run without autocast. LoRA weights are untouched:
they stay float32 and autocast still runs their matmuls in bf16.

    >>> import torch
    >>> norm = torch.nn.LayerNorm(8).to(torch.bfloat16)
    >>> keep_layer_norms_in_weight_dtype(norm)
    1
    >>> with torch.autocast("cpu", dtype=torch.bfloat16):
    ...     norm(torch.randn(2, 8, dtype=torch.bfloat16)).dtype
    torch.bfloat16
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

_HALF = (torch.bfloat16, torch.float16)


class WeightDtypeLayerNorm(torch.nn.LayerNorm):
    """A ``torch.nn.LayerNorm`` that computes in its weights' dtype even inside autocast."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        dtype = self.weight.dtype if self.weight is not None else x.dtype
        with torch.autocast(device_type=x.device.type, enabled=False):
            return F.layer_norm(x.to(dtype), self.normalized_shape, self.weight, self.bias, self.eps)


def keep_layer_norms_in_weight_dtype(model: torch.nn.Module) -> int:
    """Switch every plain ``nn.LayerNorm`` with bf16/fp16 weights in ``model`` to :class:`WeightDtypeLayerNorm`.

    The modules keep their parameters, buffers and state-dict keys (only their class changes), so
    checkpoints and PEFT adapters are unaffected. Float32 LayerNorms are left alone.

    Returns:
        The number of LayerNorms switched.
    """
    switched = 0
    for module in model.modules():
        if type(module) is torch.nn.LayerNorm and module.weight is not None and module.weight.dtype in _HALF:
            module.__class__ = WeightDtypeLayerNorm
            switched += 1
    return switched
