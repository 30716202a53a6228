"""Hybrid search: the dense spaces and the sparse (BM25) space of an index, fused in the store.

``CodeIndex.search(mode="hybrid")`` builds one :class:`~loracode_qdrant.store.HybridPlan`: a dense
leg per space the per-language search would use (same spaces, same language filters) and a sparse
leg over the identifier-aware BM25 vectors (:mod:`loracode_qdrant.sparse`). The store runs the legs
as prefetches of one query and fuses them (Qdrant Edge and the Qdrant server do this themselves:
DBSF by default, ``Fusion.Dbsf`` / ``FusionQuery(fusion=Fusion.DBSF)``, or reciprocal rank fusion,
``Fusion.Rrf`` / ``RrfQuery``), then the payloads of the hits kept are read in one ``retrieve``.
``mode="sparse"`` searches the sparse space alone (no query embedding).

Queries with no term left after tokenising (only stop words or punctuation) have an empty sparse
vector: hybrid search then runs the dense legs only, and sparse search returns no hit.

Example:
    >>> plan_defaults()["fusion"], plan_defaults()["prefetch_limit"]
    ('dbsf', 50)
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from loracode_qdrant.sparse import SPARSE_SPACE, SPARSE_VERSION, SparseEncoder, SparseVector
from loracode_qdrant.store import HybridPlan, Store, StoredHit

logger = logging.getLogger(__name__)

#: Search modes that use the sparse vectors.
SPARSE_MODES = ("hybrid", "sparse")
#: Candidates each leg brings to the fusion (measured, docs/benchmarks.md "Hybrid search").
PREFETCH_LIMIT = 50
#: RRF constant (the same as the dense per-language fusion, :mod:`loracode_qdrant.fusion`).
RRF_K = 60
#: Weight of the sparse leg against each dense leg (RRF only).
SPARSE_WEIGHT = 1.0
#: How the legs are fused: ``"dbsf"`` (distribution-based score fusion: each leg's scores normalised by
#: their mean and 3 standard deviations, then summed) or ``"rrf"``. DBSF measured better than RRF on
#: the dev projects (MRR@10 0.679 vs 0.653, 118 queries, benchmarks/results/hybrid_quality_dev.json);
#: chosen there, before the held-out report set was looked at.
FUSION = "dbsf"

_ENCODER: SparseEncoder | None = None


def plan_defaults() -> dict[str, Any]:
    """The fusion settings hybrid search uses."""
    return {
        "fusion": FUSION,
        "rrf_k": RRF_K,
        "prefetch_limit": PREFETCH_LIMIT,
        "sparse_weight": SPARSE_WEIGHT,
    }


def encoder() -> SparseEncoder:
    """The shared :class:`SparseEncoder` (stateless; built once)."""
    global _ENCODER
    if _ENCODER is None:
        _ENCODER = SparseEncoder()
    return _ENCODER


def sparse_document(path: str, text: str) -> SparseVector:
    """The sparse vector of a chunk: its text and its file path (so a file name finds its chunks).

    Example:
        >>> bool(sparse_document("src/http_client.py", "x = 1"))
        True
    """
    return encoder().encode_document(f"{path}\n{text}")


def store_has_sparse(meta: dict[str, Any] | None) -> bool:
    """Whether an index's metadata says its chunks carry sparse vectors of the current version."""
    return bool(meta) and meta.get("sparse") == SPARSE_VERSION  # type: ignore[union-attr]


def backfill_sparse(store: Store) -> int:
    """Give every stored chunk its sparse vector (an index built before hybrid search); returns how many.

    The sparse space is declared first; each chunk's vector is computed from its stored path and text,
    so nothing is embedded again.
    """
    add = getattr(store, "add_sparse_space", None)
    if add is None:
        raise TypeError(f"{type(store).__name__} cannot hold sparse vectors (no add_sparse_space)")
    add(SPARSE_SPACE)
    store.sparse_space = SPARSE_SPACE  # type: ignore[attr-defined]
    pending: dict[str, SparseVector] = {}
    done = 0
    for hit in store.scroll("chunk", ["path", "text"]):
        vec = sparse_document(hit.payload.get("path", ""), hit.payload.get("text", ""))
        if vec:
            pending[hit.id] = vec
        if len(pending) >= 1024:
            store.set_sparse(pending, SPARSE_SPACE)  # type: ignore[attr-defined]
            done += len(pending)
            pending = {}
    if pending:
        store.set_sparse(pending, SPARSE_SPACE)  # type: ignore[attr-defined]
        done += len(pending)
    logger.info("Added sparse vectors to %d stored chunks", done)
    return done


def fused_search(
    store: Store,
    query: str,
    dense: Sequence[tuple[str, list[float], list[str] | None]],
    languages: list[str] | None,
    paths: list[str] | None,
    k: int,
) -> list[StoredHit]:
    """Run one hybrid (``dense`` non-empty) or sparse-only (``dense`` empty) search; ids and scores.

    Raises:
        TypeError: the store has no ``hybrid_search``.
    """
    run = getattr(store, "hybrid_search", None)
    if run is None:
        raise TypeError(f"{type(store).__name__} does not support hybrid search (no hybrid_search method)")
    sparse = encoder().encode_query(query)
    if not dense and not sparse:
        return []
    plan = HybridPlan(dense=[(s, list(v), langs) for s, v, langs in dense], sparse_space=SPARSE_SPACE,
                      sparse=sparse, sparse_languages=languages, paths=paths,
                      prefetch_limit=max(k, PREFETCH_LIMIT), fusion=FUSION, rrf_k=RRF_K,
                      sparse_weight=SPARSE_WEIGHT)  # fmt: skip
    return list(run(plan, k))[:k]
