"""Several LoRA adapters in one forward pass, each row through its own adapter, with two batched products.

PEFT computes a mixed batch (``adapter_names=[...]``) with a loop per adapter in every LoRA layer:
select the adapter's rows, run its A and B, add the result back. For a search query embedded in six
languages' spaces that is six small loops in each of MiniLM's 36 LoRA layers, and the Python overhead
outweighs the arithmetic. Here each LoRA layer instead gathers every row's A and B (stacked once per
call) and computes the low-rank update for all rows with two ``torch.bmm``, as batched LoRA kernels
(Punica's BGMV) do; the base layer runs once for all rows, as before.

Only plain linear LoRA (no DoRA, no LoRA bias) is batched this way; :func:`batchable` says whether a
model qualifies, and :mod:`loracode_embed.adapters` falls back to PEFT's own mixed batch otherwise.

Example:
    >>> batchable([])
    False
"""

from __future__ import annotations

import contextlib
import weakref
from collections.abc import Iterator, Sequence
from typing import Any

import torch

#: Per LoRA layer, the gathered (A, B) rows of recent calls, keyed by adapters, rows and weight versions.
#: Stacking them on every call (36 layers x 6 adapters) was a large part of a six-space query embedding
#: on CPU (docs/benchmarks.md), and a search embeds every query for the same spaces.
_ROWS_CACHE: weakref.WeakKeyDictionary[Any, dict[tuple, tuple[tuple, tuple[torch.Tensor, torch.Tensor]]]] = (
    weakref.WeakKeyDictionary()
)
_ROWS_CACHE_PER_LAYER = 4


def batchable(layers: Sequence[Any]) -> bool:
    """Whether every LoRA layer is a plain linear LoRA that :func:`batched_rows` can compute."""
    if not layers:
        return False
    from peft.tuners.lora.layer import Linear as LoraLinear

    for layer in layers:
        if type(layer) is not LoraLinear or any(layer.use_dora.values()):
            return False
        if any(getattr(b, "bias", None) is not None for b in layer.lora_B.values()):
            return False
    return True


def _stacked(layer: Any, names: list[str], rank: int) -> tuple[torch.Tensor, torch.Tensor]:
    """A as ``[adapters + 1, rank, in]`` and B (times its scaling) as ``[adapters + 1, out, rank]``.

    Slot 0 is zeros: the base model's rows get no update. Smaller ranks are padded with zeros.
    """
    weight = layer.lora_A[names[0]].weight
    a = torch.zeros(len(names) + 1, rank, layer.in_features, dtype=weight.dtype, device=weight.device)
    b = torch.zeros(len(names) + 1, layer.out_features, rank, dtype=weight.dtype, device=weight.device)
    for slot, name in enumerate(names, start=1):
        r = layer.r[name]
        a[slot, :r] = layer.lora_A[name].weight
        b[slot, :, :r] = layer.lora_B[name].weight * layer.scaling[name]
    return a, b


def _rows(layer: Any, names: list[str], slots: list[int], rank: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Each row's A as ``[rows, in, rank]`` and B (times its scaling) as ``[rows, rank, out]``, cached on CPU.

    A cached entry is used only for the very same A and B tensors (held by the entry, so their identity
    cannot be reused), with the same storage and in-place version, ranks and scalings: replacing an
    adapter's weights or changing them in place (an optimizer step) computes the rows again.
    """
    weights = tuple(w for name in names for w in (layer.lora_A[name].weight, layer.lora_B[name].weight))
    if weights[0].device.type != "cpu":
        # Only CPU queries need the saving; on a GPU, cached rows would keep idle adapters' copies in
        # device memory, which adapter_residency.py moves to host memory.
        a, b = _stacked(layer, names, rank)
        index = torch.tensor(slots, device=a.device)
        return a[index].transpose(1, 2), b[index].transpose(1, 2)
    key = (
        tuple(names),
        tuple(slots),
        rank,
        tuple((w.data_ptr(), w._version) for w in weights),
        tuple((layer.r[name], layer.scaling[name]) for name in names),
    )
    cache = _ROWS_CACHE.setdefault(layer, {})
    entry = cache.get(key)
    if entry is None or any(held is not w for held, w in zip(entry[0], weights, strict=True)):
        a, b = _stacked(layer, names, rank)
        index = torch.tensor(slots, device=a.device)
        entry = (weights, (a[index].transpose(1, 2), b[index].transpose(1, 2)))
        if len(cache) >= _ROWS_CACHE_PER_LAYER:
            cache.clear()
        cache[key] = entry
    return entry[1]


@contextlib.contextmanager
def batched_rows(layers: Sequence[Any], adapter_names: Sequence[str | None]) -> Iterator[None]:
    """Within the block, row ``i`` of the next forward passes goes through ``adapter_names[i]``.

    PEFT's own LoRA branch is switched off and each layer's output gets the batched update from a
    forward hook. Callers hold the model's lock and set the adapters again before the next call.
    """
    names = [name for name in dict.fromkeys(adapter_names) if name is not None]
    slots = [0 if name is None else names.index(name) + 1 for name in adapter_names]
    rank = max(layer.r[name] for layer in layers for name in names)
    for layer in layers:
        if not layer.disable_adapters:  # (the call is costly even when there is nothing to switch)
            layer.enable_adapters(False)  # PEFT's layers now return their base layer's output alone
    handles = []
    for layer in layers:
        rows_a, rows_b = _rows(layer, names, slots, rank)  # [rows, in, r], [rows, r, out]

        def add_update(module: Any, inputs: tuple, output: torch.Tensor, rows_a=rows_a, rows_b=rows_b) -> Any:
            x = inputs[0]
            flat = x.unsqueeze(1) if x.dim() == 2 else x  # [rows, tokens, in]
            if flat.dim() != 3 or flat.shape[0] != rows_a.shape[0]:
                raise RuntimeError(
                    f"batched LoRA expects one input row per adapter row ({rows_a.shape[0]}), got {tuple(x.shape)}"
                )
            update = torch.bmm(torch.bmm(flat.to(rows_a.dtype), rows_a), rows_b)
            return output + update.reshape(output.shape).to(output.dtype)

        handles.append(layer.register_forward_hook(add_update))
    try:
        yield
    finally:
        for handle in handles:
            handle.remove()
