"""Embed a split's anchors and positives for mining: the base model, or base plus a trained adapter.

Encoding goes through :class:`~loracode_embed.LoRACodeModel`, the serving path (length-sorted batches,
results kept on the GPU while the next batch tokenises), so a mined neighbour is what a search would
find. On a GPU pass ``dtype="bfloat16"`` (or the serving default, float16); scores are computed in
float32 afterwards either way.

Example:
    >>> split_adapter("text2code-python=runs/x")
    ('text2code-python', PosixPath('runs/x'))
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch


def split_adapter(spec: str) -> tuple[str, Path]:
    """``NAME=DIR`` -> ``(NAME, DIR)``; raises ValueError naming ``spec`` when it has no ``=``."""
    if not isinstance(spec, str) or "=" not in spec:
        raise ValueError(f"adapter must look like NAME=DIR (e.g. text2code-python=runs/py), got {spec!r}")
    name, folder = spec.split("=", 1)
    return name.strip(), Path(folder)


def adapter_folder(folder: Path) -> Path:
    """The PEFT adapter directory: ``folder`` itself or a training run's ``folder/adapter``.

    Raises:
        FileNotFoundError: neither holds ``adapter_config.json``.
    """
    for candidate in (folder, folder / "adapter"):
        if (candidate / "adapter_config.json").is_file():
            return candidate
    raise FileNotFoundError(f"adapter {os.fspath(folder)!r}: no adapter_config.json there or in its adapter/")


def load_encoder(
    base: str | os.PathLike[str] | None,
    adapter: str | None = None,
    device: str | None = None,
    dtype: str | None = None,
) -> tuple[Any, str]:
    """The model to mine with and the adapter name to encode under (``"base"`` when none).

    Args:
        base: The base encoder (directory or hub id; None: all-MiniLM-L6-v2 from its package).
        adapter: ``NAME=DIR`` of a trained adapter (a PEFT directory or a run directory), or None.
        device, dtype: As in :meth:`LoRACodeModel.from_base` (default: CUDA in float16 when present).
    """
    from loracode_embed import LoRACodeModel

    adapters = {}
    name = "base"
    if adapter:
        name, folder = split_adapter(adapter)
        adapters[name] = adapter_folder(folder)
    return LoRACodeModel.from_base(base, adapters=adapters, device=device, dtype=dtype), name


def encode_pairs(
    model: Any, anchors: Sequence[str], positives: Sequence[str], adapter: str = "base", batch_size: int = 256
) -> tuple[torch.Tensor, torch.Tensor]:
    """``(anchors, positives)`` embeddings as float32 tensors on the model's device, L2-normalised.

    Both sides go through the same adapter (or the base alone), as in training.
    """
    queries = model.encode_query(list(anchors), adapter=adapter, batch_size=batch_size)
    codes = model.encode_code(list(positives), adapter=adapter, batch_size=batch_size)
    return torch.from_numpy(queries).to(model.device), torch.from_numpy(codes).to(model.device)
