"""Nearest codes per query by chunked matrix products: top-k candidates, the positive's score and rank.

A train split holds up to ~210k pairs, so the full query x code score matrix (210k x 210k floats,
176 GB) is never built: queries go through in chunks of ``chunk_size`` rows, each one
``(chunk, N)`` product on the embeddings' device, reduced at once to its top-k and to the rank of
each query's own positive.

Example:
    >>> import torch
    >>> unit = lambda rows: torch.nn.functional.normalize(torch.tensor(rows), dim=1)
    >>> queries = unit([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    >>> codes = unit([[1.0, 0.2], [0.3, 1.0], [1.0, 0.25]])
    >>> found = search_neighbours(queries, codes, k=2, chunk_size=2)
    >>> found.indices.tolist()      # each query's own positive (code i) is never a candidate
    [[2, 1], [2, 0], [1, 0]]
    >>> found.positive_ranks.tolist()  # 1 + codes scoring above the positive
    [1, 1, 2]
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch


@dataclass
class Neighbours:
    """Search results for ``Q`` queries against ``N`` codes (numpy, on the host).

    Attributes:
        scores: ``(Q, k)`` float32 cosine scores of the candidates, best first.
        indices: ``(Q, k)`` int64 code indices of the candidates; the query's own positive is excluded.
        positive_scores: ``(Q,)`` float32 score of each query's own positive.
        positive_ranks: ``(Q,)`` int64, 1 + the number of codes scoring strictly above the positive.
    """

    scores: np.ndarray
    indices: np.ndarray
    positive_scores: np.ndarray
    positive_ranks: np.ndarray


def search_neighbours(
    queries: torch.Tensor,
    codes: torch.Tensor,
    k: int,
    chunk_size: int = 2048,
    positives: Sequence[int] | np.ndarray | None = None,
) -> Neighbours:
    """Top-``k`` codes per query (own positive excluded), the positive's score and rank; chunked.

    Args:
        queries: ``(Q, d)`` L2-normalised query embeddings.
        codes: ``(N, d)`` L2-normalised code embeddings, on the same device as ``queries``.
        k: Candidates kept per query (capped at ``N - 1``); 0 computes scores and ranks only.
        chunk_size: Query rows per matrix product; memory is ``chunk_size x N`` floats.
        positives: Index into ``codes`` of each query's positive; default ``i`` for query ``i``
            (queries and codes from the same records).

    Raises:
        ValueError: shapes or arguments do not fit (names the argument).
    """
    if queries.ndim != 2 or codes.ndim != 2 or queries.shape[1] != codes.shape[1]:
        raise ValueError(
            f"queries {tuple(queries.shape)} and codes {tuple(codes.shape)} must be (n, d) alike"
        )
    if queries.device != codes.device:
        raise ValueError(f"queries on {queries.device} but codes on {codes.device}")
    if k < 0:
        raise ValueError(f"k must be >= 0, got {k}")
    if chunk_size < 1:
        raise ValueError(f"chunk_size must be >= 1, got {chunk_size}")
    num_queries, num_codes = queries.shape[0], codes.shape[0]
    if positives is None:
        if num_queries != num_codes:
            raise ValueError(
                f"positives is required when queries ({num_queries}) and codes ({num_codes}) differ"
            )
        positive_index = torch.arange(num_queries, device=queries.device)
    else:
        positive_index = torch.as_tensor(np.asarray(positives), dtype=torch.long, device=queries.device)
        if positive_index.shape != (num_queries,):
            raise ValueError(
                f"positives must hold one index per query ({num_queries}), got {tuple(positive_index.shape)}"
            )
        if num_queries and (int(positive_index.min()) < 0 or int(positive_index.max()) >= num_codes):
            raise ValueError(f"positives must index codes (0..{num_codes - 1})")
    k = min(k, max(num_codes - 1, 0))
    scores = np.empty((num_queries, k), dtype=np.float32)
    indices = np.empty((num_queries, k), dtype=np.int64)
    positive_scores = np.empty(num_queries, dtype=np.float32)
    positive_ranks = np.empty(num_queries, dtype=np.int64)
    codes_t = codes.float().T
    with torch.no_grad():
        for start in range(0, num_queries, chunk_size):
            end = min(start + chunk_size, num_queries)
            sims = queries[start:end].float() @ codes_t  # (chunk, N), fp32 whatever the encoder's dtype
            own = positive_index[start:end, None]
            own_scores = sims.gather(1, own)
            positive_ranks[start:end] = ((sims > own_scores).sum(dim=1) + 1).cpu().numpy()
            positive_scores[start:end] = own_scores[:, 0].cpu().numpy()
            if k:
                sims.scatter_(1, own, float("-inf"))
                top = sims.topk(k, dim=1)
                scores[start:end] = top.values.cpu().numpy()
                indices[start:end] = top.indices.cpu().numpy()
    return Neighbours(scores, indices, positive_scores, positive_ranks)
