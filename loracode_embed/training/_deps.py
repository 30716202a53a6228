"""Import the ``train`` extra's packages lazily, with an error that says how to install them."""

from __future__ import annotations

import importlib
from typing import Any

from loracode_embed.training.config import TRAIN_EXTRA_HINT


def require(module: str) -> Any:
    """Import ``module`` or raise ImportError naming the extra to install.

    Example:
        >>> require("json").__name__
        'json'
    """
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise ImportError(f"Training needs the {module.split('.')[0]!r} package: {TRAIN_EXTRA_HINT}") from exc


def require_st(submodule: str) -> Any:
    """A sentence-transformers submodule at its v6 home (``sentence_transformer.<name>``) or its v3-5 one.

    Example:
        >>> require_st("losses").MultipleNegativesRankingLoss.__name__
        'MultipleNegativesRankingLoss'
    """
    try:
        return importlib.import_module(f"sentence_transformers.sentence_transformer.{submodule}")
    except ImportError:
        return require(f"sentence_transformers.{submodule}")
