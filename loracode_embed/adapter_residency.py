"""On a GPU, only the adapters a call uses live in GPU memory; the others wait in host memory.

A bundle can carry many adapters. Their LoRA weights are small next to the base model, but not nothing:
the eight shipped MiniLM adapters (r=16 on every Linear layer) hold 23 % as many parameters as MiniLM
itself. Keeping the idle ones in host memory (as S-LoRA does) makes a GPU replica cost about the base
model plus the adapters in use. Moving an adapter costs one small host-to-device copy per LoRA
matrix (about 1 ms for a MiniLM adapter), paid when a call switches to it; calls are grouped by
adapter, so an indexing call switches a handful of times.

Example:
    >>> import torch
    >>> residency = AdapterResidency(torch.nn.Linear(2, 2), torch.device("cpu"), host=torch.device("cpu"))
    >>> residency.use(["text2code-python"]); residency.resident
    {'text2code-python'}
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import torch


def move_adapter(model: torch.nn.Module, name: str, device: torch.device) -> None:
    """Move every LoRA weight of adapter ``name`` (A, B, embedding and DoRA parts) to ``device``."""
    from peft.tuners.lora import LoraLayer

    for layer in model.modules():
        if not isinstance(layer, LoraLayer):
            continue
        for attribute in layer.adapter_layer_names:
            parts: Any = getattr(layer, attribute, None)
            if parts is None or name not in parts:
                continue
            if isinstance(parts, torch.nn.ParameterDict):
                parts[name].data = parts[name].data.to(device)
            else:
                parts[name].to(device)


class AdapterResidency:
    """Which adapters of ``model`` are on ``device``; :meth:`use` brings the needed ones there.

    Adapters not needed by the current call go back to ``host`` memory. Callers hold the model's lock.
    """

    def __init__(
        self, model: torch.nn.Module, device: torch.device, host: torch.device | None = None
    ) -> None:
        self.model = model
        self.device = device
        self.host = host or torch.device("cpu")
        self.resident: set[str] = set()

    def use(self, names: Iterable[str]) -> None:
        """Make exactly ``names`` resident on the device (others back to host memory)."""
        wanted = set(names)
        for name in self.resident - wanted:
            move_adapter(self.model, name, self.host)
        for name in wanted - self.resident:
            move_adapter(self.model, name, self.device)
        self.resident = wanted
