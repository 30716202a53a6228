"""Training LoRA adapters (behind the ``train`` extra: ``pip install 'loracode-embed[train]'``).

Importing this package is cheap; torch, sentence-transformers and ``datasets`` load on first use.

Example:
    >>> from loracode_embed.training import TrainConfig
    >>> TrainConfig(name="code2code", task="code2code").task
    'code2code'
"""

from __future__ import annotations

from typing import Any

from loracode_embed.training.config import TrainConfig, default_target_modules

__all__ = ["NonFiniteLossError", "TrainConfig", "build_trainer", "default_target_modules", "train"]


def __getattr__(name: str) -> Any:
    if name in ("train", "build_trainer"):
        from loracode_embed.training import runner

        return getattr(runner, name)
    if name == "NonFiniteLossError":
        from loracode_embed.training.loss import NonFiniteLossError

        return NonFiniteLossError
    raise AttributeError(f"module 'loracode_embed.training' has no attribute {name!r}")
