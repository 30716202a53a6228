"""Consistency filtering: keep a pair only if its positive is among the top k codes for its own query.

Under the base model, each query is scored against every code of its split; a pair whose own positive
ranks below ``k`` is likely noise (a docstring that does not describe its function) and is dropped from
training. The counts say how many pairs each language loses.

Example:
    >>> import numpy as np
    >>> kept = consistency_keep(np.array([1, 3, 12, 2]), k=5)
    >>> kept.keep.tolist(), kept.counts["dropped"]
    ([True, True, False, True], 1)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from loracode_embed.training.negatives.search import search_neighbours

#: The k values whose kept-pair counts every report lists (``kept_at_k``).
RANK_CUTS = (1, 2, 5, 10, 20, 50, 100, 1000)


@dataclass
class Consistency:
    """``keep``: ``(N,)`` bool per pair; ``counts``: k, pairs, kept, dropped, and the rank distribution."""

    keep: np.ndarray
    counts: dict[str, float]


def consistency_keep(positive_ranks: np.ndarray, k: int) -> Consistency:
    """Keep the pairs whose positive rank (1-based, among all codes of the split) is at most ``k``; 0 keeps all.

    Raises:
        ValueError: ``k`` is negative.
    """
    if k < 0:
        raise ValueError(f"consistency k must be >= 0 (0: off), got {k}")
    ranks = np.asarray(positive_ranks)
    keep = ranks <= k if k else np.ones(len(ranks), dtype=bool)
    counts: dict[str, float] = {
        "k": k,
        "pairs": int(len(ranks)),
        "kept": int(keep.sum()),
        "dropped": int(len(ranks) - keep.sum()),
        "positive_rank_1": int((ranks == 1).sum()),
        "positive_rank_median": float(np.median(ranks)) if len(ranks) else 0.0,
        # pairs a filter at each k would keep: one mining run tells what every k costs
        "kept_at_k": {str(at): int((ranks <= at).sum()) for at in RANK_CUTS},
    }
    return Consistency(keep, counts)


def consistency_filter(
    queries: torch.Tensor, codes: torch.Tensor, k: int, chunk_size: int = 2048
) -> Consistency:
    """Rank each pair's positive among all ``codes`` for its query (chunked) and keep those in the top ``k``.

    Example:
        >>> import torch
        >>> q = torch.nn.functional.normalize(torch.tensor([[1.0, 0, 0], [1.0, 0.1, 0], [0, 0, 1.0]]), dim=1)
        >>> c = torch.eye(3)
        >>> consistency_filter(q, c, k=1).keep.tolist()   # query 1 prefers code 0 to its own positive
        [True, False, True]
    """
    return consistency_keep(search_neighbours(queries, codes, k=0, chunk_size=chunk_size).positive_ranks, k)
