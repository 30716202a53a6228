"""Start a training run from a trained adapter's LoRA weights (``init_adapter``), e.g. a second stage.

The run's fresh LoRA layers get the saved weights; shapes must match, so r, alpha and the target
modules are checked first and a mismatch names each differing setting.

Example:
    >>> check_fits({"r": 16, "lora_alpha": 32, "target_modules": ["query", "value"]},
    ...            r=16, alpha=32, targets=["value", "query"])
    []
    >>> check_fits({"r": 8, "lora_alpha": 32, "target_modules": ["query"]}, r=16, alpha=32, targets=["query"])
    ['r: adapter 8, run 16']
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any


def check_fits(saved: dict[str, Any], r: int, alpha: int, targets: Sequence[str]) -> list[str]:
    """The settings in which a saved ``adapter_config.json`` differs from the run (empty: it fits)."""
    out = [
        f"{key}: adapter {saved.get(key)!r}, run {want!r}"
        for key, want in (("r", r), ("lora_alpha", alpha))
        if saved.get(key) != want
    ]
    if set(saved.get("target_modules") or []) != set(targets):
        out.append(
            f"target_modules: adapter {sorted(saved.get('target_modules') or [])}, run {sorted(targets)}"
        )
    return out


def load_init_adapter(peft_model: Any, directory: str, r: int, alpha: int, targets: Sequence[str]) -> None:
    """Copy the adapter in ``directory`` into ``peft_model``'s LoRA weights (safetensors only).

    Raises:
        ValueError: the adapter's LoRA settings differ from the run's, or its weights leave some of the
            run's LoRA weights unset (or name ones the run does not have).
    """
    import peft
    from safetensors.torch import load_file

    folder = Path(directory)
    saved = json.loads((folder / "adapter_config.json").read_text(encoding="utf-8"))
    differences = check_fits(saved, r, alpha, targets)
    if differences:
        raise ValueError(f"init_adapter={directory!r} does not fit this run's LoRA: {'; '.join(differences)}")
    result = peft.set_peft_model_state_dict(peft_model, load_file(str(folder / "adapter_model.safetensors")))
    missing = [k for k in result.missing_keys if "lora_" in k]
    unexpected = [k for k in result.unexpected_keys if "lora_" in k]
    if missing or unexpected:
        raise ValueError(
            f"init_adapter={directory!r}: weights do not match the model's LoRA layers "
            f"(missing {missing[:3]}, unexpected {unexpected[:3]})"
        )
