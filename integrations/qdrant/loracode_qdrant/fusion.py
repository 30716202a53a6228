"""Fuse several ranked lists (one per embedding space searched) into one ranking.

With no ``--language``, a query is embedded once per adapter space that the indexed languages route
to, and each space is searched with a filter on its languages. Those lists have scores from different
models (a Go adapter's cosine and a Python adapter's cosine are not on the same scale), so they are
fused by **reciprocal rank fusion** (Cormack et al., 2009): a hit at rank ``r`` (1-based) in a list
scores ``1 / (k + r)``, summed over the lists that contain it, with ``k = 60``. Because every
language lives in exactly one list (the filters are disjoint), a hit appears once, and RRF amounts to
interleaving the lists by rank, ties broken by the raw cosine.

When every language routes to the same space (a bundle without language adapters), there is only
one list and its order is kept unchanged.

Example:
    >>> fused = reciprocal_rank_fusion([[("a", 0.9), ("b", 0.8)], [("c", 0.7), ("a", 0.6)]])
    >>> [key for key, _ in fused]
    ['a', 'c', 'b']
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import TypeVar

K = TypeVar("K", bound=Hashable)
RRF_K = 60


def reciprocal_rank_fusion(
    ranked_lists: Sequence[Sequence[tuple[K, float]]], k: int = RRF_K
) -> list[tuple[K, float]]:
    """Fuse lists of ``(key, raw_score)`` (best first) into ``(key, rrf_score)``, best first.

    Ties on the RRF score are broken by the best raw score a key had in any list.
    """
    if k < 0:
        raise ValueError(f"k must be >= 0, got {k}")
    fused: dict[K, float] = {}
    best_raw: dict[K, float] = {}
    for ranked in ranked_lists:
        for rank, (key, raw) in enumerate(ranked, start=1):
            fused[key] = fused.get(key, 0.0) + 1.0 / (k + rank)
            best_raw[key] = max(best_raw.get(key, float("-inf")), raw)
    order = sorted(fused, key=lambda key: (-fused[key], -best_raw[key]))
    return [(key, fused[key]) for key in order]
