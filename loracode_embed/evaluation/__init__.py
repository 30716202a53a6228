"""Evaluation: read retrieval sets into one record type, rank with a model, report MRR/NDCG/Recall.

Modules, one job each: :mod:`.records` (``Pair``, ``EvalSet``), :mod:`.shared_sets` (public sets in
``../shared/data``), :mod:`.corpus` (mined training shards, ``datasets.Dataset``), :mod:`.pairs_file`
(``--pairs`` JSON lines), :mod:`.metrics` (numpy ranks and scores), :mod:`.runner` (``evaluate``),
:mod:`.presets` (named sets for ``loracode eval --preset``).

Example:
    >>> from loracode_embed.evaluation import EvalSet, Pair, evaluate, load_preset
"""

from __future__ import annotations

from loracode_embed.evaluation.presets import load_preset, preset_names
from loracode_embed.evaluation.records import EvalSet, Pair
from loracode_embed.evaluation.runner import combine, evaluate

__all__ = ["EvalSet", "Pair", "evaluate", "combine", "load_preset", "preset_names"]
