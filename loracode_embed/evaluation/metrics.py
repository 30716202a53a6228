"""Retrieval metrics with exactly one relevant candidate per query (numpy only).

Ranks are 1-based. **Ties are counted pessimistically**: the gold's rank is one plus the number of
*other* candidates whose score is greater than or equal to the gold's score, so a model that gives every
candidate the same score gets the worst rank, never the best.

With one relevant item per query:

* reciprocal rank = ``1 / rank`` over the full ranking (no cut-off), averaged into MRR;
* NDCG@10 = ``1 / log2(rank + 1)`` if ``rank <= 10`` else 0 (the ideal DCG is 1);
* Recall@k = 1 if ``rank <= k`` else 0.

Example:
    >>> import numpy as np
    >>> scores = np.array([[0.9, 0.1, 0.5], [0.2, 0.3, 0.8]])
    >>> gold_ranks(scores, np.array([0, 1])).tolist()
    [1, 2]
    >>> m = retrieval_metrics(np.array([1, 2]))
    >>> round(m["mrr"], 4), m["recall@1"]
    (0.75, 0.5)
"""

from __future__ import annotations

import numpy as np

RECALL_KS: tuple[int, ...] = (1, 5, 10)
NDCG_K = 10


def gold_ranks(scores: np.ndarray, gold: np.ndarray) -> np.ndarray:
    """The 1-based rank of each query's gold candidate, ties counted pessimistically.

    Args:
        scores: ``(n_queries, n_candidates)`` similarity scores, higher is better.
        gold: ``(n_queries,)`` index of each query's gold candidate.

    Returns:
        ``(n_queries,)`` int64 ranks in ``1..n_candidates``.
    """
    scores = np.asarray(scores)
    gold = np.asarray(gold, dtype=np.int64)
    if scores.ndim != 2:
        raise ValueError(f"scores must be 2-D (queries x candidates), got shape {scores.shape}")
    if gold.shape != (scores.shape[0],):
        raise ValueError(f"gold must have shape ({scores.shape[0]},), got {gold.shape}")
    if gold.size and (gold.min() < 0 or gold.max() >= scores.shape[1]):
        raise ValueError(
            f"gold indices must be in [0, {scores.shape[1]}), got min {gold.min()} max {gold.max()}"
        )
    if np.isnan(scores).any():
        raise ValueError("scores contain NaN")
    gold_scores = scores[np.arange(scores.shape[0]), gold][:, None]
    # Every candidate scoring >= gold counts as ranked ahead, including the gold itself: that +1 is the rank.
    return (scores >= gold_scores).sum(axis=1).astype(np.int64)


def retrieval_metrics(ranks: np.ndarray) -> dict[str, float]:
    """MRR, NDCG@10 and Recall@1/5/10 from 1-based gold ranks.

    Returns:
        ``{"mrr", "ndcg@10", "recall@1", "recall@5", "recall@10"}`` as floats (0.0 for no queries).
    """
    ranks = np.asarray(ranks, dtype=np.float64)
    if ranks.ndim != 1:
        raise ValueError(f"ranks must be 1-D, got shape {ranks.shape}")
    if ranks.size and ranks.min() < 1:
        raise ValueError(f"ranks are 1-based, got a rank of {ranks.min()}")
    if ranks.size == 0:
        return {"mrr": 0.0, f"ndcg@{NDCG_K}": 0.0, **{f"recall@{k}": 0.0 for k in RECALL_KS}}
    ndcg = np.where(ranks <= NDCG_K, 1.0 / np.log2(ranks + 1.0), 0.0)
    out = {"mrr": float(np.mean(1.0 / ranks)), f"ndcg@{NDCG_K}": float(np.mean(ndcg))}
    for k in RECALL_KS:
        out[f"recall@{k}"] = float(np.mean(ranks <= k))
    return out


def ranks_from_embeddings(
    query_vecs: np.ndarray, cand_vecs: np.ndarray, gold: np.ndarray, block: int = 1024
) -> np.ndarray:
    """Gold ranks under cosine similarity of L2-normalised vectors (dot product), in query blocks.

    Blocks keep memory at ``block x n_candidates`` floats however many queries there are.
    """
    query_vecs = np.asarray(query_vecs, dtype=np.float32)
    cand_vecs = np.asarray(cand_vecs, dtype=np.float32)
    gold = np.asarray(gold, dtype=np.int64)
    if query_vecs.ndim != 2 or cand_vecs.ndim != 2 or query_vecs.shape[1] != cand_vecs.shape[1]:
        raise ValueError(
            f"incompatible embedding shapes: queries {query_vecs.shape}, candidates {cand_vecs.shape}"
        )
    out = np.empty(query_vecs.shape[0], dtype=np.int64)
    for start in range(0, query_vecs.shape[0], block):
        stop = start + block
        out[start:stop] = gold_ranks(query_vecs[start:stop] @ cand_vecs.T, gold[start:stop])
    return out
