"""Evaluation: read retrieval sets into one record type, rank with a model, report MRR/NDCG/Recall.

Modules, one job each: :mod:`.records` (``Pair``, ``EvalSet``), :mod:`.shared_sets` (public sets in
``../shared/data``), :mod:`.corpus` (mined training shards, ``datasets.Dataset``), :mod:`.pairs_file`
(``--pairs`` JSON lines), :mod:`.metrics` (numpy ranks and scores), :mod:`.runner` (``evaluate``),
:mod:`.presets` (named sets for ``loracode eval --preset``).

Example:
    >>> from loracode_embed.evaluation import EvalSet, Pair, evaluate, load_preset
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from loracode_embed.evaluation.presets import load_preset, preset_names
from loracode_embed.evaluation.records import EvalSet, Pair

if TYPE_CHECKING:
    from loracode_embed.evaluation.runner import combine, evaluate

__all__ = ["EvalSet", "Pair", "evaluate", "combine", "load_preset", "preset_names"]


def __getattr__(name: str) -> Any:
    # The runner (numpy) loads on first use: `loracode --help` and a refused argument stay cheap.
    if name in ("combine", "evaluate"):
        from loracode_embed.evaluation import runner

        return getattr(runner, name)
    raise AttributeError(f"module 'loracode_embed.evaluation' has no attribute {name!r}")
