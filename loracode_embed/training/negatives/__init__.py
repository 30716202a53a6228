"""Hard negatives and consistency filtering for adapter training data (the ``trainers/data/hard_negatives.py`` step).

Modules, one job each:

* :mod:`.search`: each query's nearest codes by chunked matrix products (never the full score matrix);
* :mod:`.guards`: the false-negative guards (same file, duplicate, MinHash near-duplicate, same query, margin);
* :mod:`.mine`: :class:`MiningSettings` and the seeded choice of negatives from a rank window;
* :mod:`.consistency`: drop pairs whose positive is not in the top k for its own query;
* :mod:`.encode`: embed a split with the base model or a trained adapter;
* :mod:`.step`: :func:`build_negatives_set`, the whole step from a language folder to a derived one.

docs/training.md ("Hard negatives") describes the step and how training reads its output.

Example:
    >>> from loracode_embed.training.negatives import MiningSettings
    >>> MiningSettings(num_negatives=2, rank_min=10, rank_max=100).window
    91
"""

from __future__ import annotations

from loracode_embed.training.negatives.consistency import consistency_filter, consistency_keep
from loracode_embed.training.negatives.mine import MiningSettings, mine_negatives
from loracode_embed.training.negatives.search import search_neighbours
from loracode_embed.training.negatives.step import REPORT, build_negatives_set

__all__ = [
    "REPORT",
    "MiningSettings",
    "build_negatives_set",
    "consistency_filter",
    "consistency_keep",
    "mine_negatives",
    "search_neighbours",
]
