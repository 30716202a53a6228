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
import re
from collections.abc import Sequence
from typing import Any

from loracode_qdrant.hits import Hit
from loracode_qdrant.sparse import (
    SPARSE_SPACE,
    SPARSE_VERSION,
    SparseEncoder,
    SparseVector,
    defined_names,
    identifier_names,
)
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
#: Query weight of the defines terms of an identifier query (each other term weighs 1): how strongly
#: the chunk that defines the name is preferred to those that only mention it. Chosen on the dev
#: projects (docs/benchmarks.md "Hybrid search").
DEFINES_WEIGHT = 2.0
#: Whether an identifier query's hits that define the name go first (:func:`definitions_first`).
DEFINITIONS_FIRST = True
#: Whether the hits that assign an upper-case constant query count as its definition there.
CONSTANTS_FIRST = True
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
        "defines_weight": DEFINES_WEIGHT,
        "definitions_first": DEFINITIONS_FIRST,
    }


def encoder() -> SparseEncoder:
    """The shared :class:`SparseEncoder` (stateless; built once)."""
    global _ENCODER
    if _ENCODER is None:
        _ENCODER = SparseEncoder()
    return _ENCODER


def sparse_document(path: str, text: str, symbol: str | None = None) -> SparseVector:
    """The sparse vector of a chunk: its text, its file path (so a file name finds its chunks) and the
    defines terms of its symbol (so an identifier query finds the definition first).

    Example:
        >>> bool(sparse_document("src/http_client.py", "x = 1"))
        True
    """
    return encoder().encode_document(f"{path}\n{text}", defines=defined_names(symbol))


def sparse_query(query: str) -> SparseVector:
    """The sparse vector of a query, with the defines terms of an identifier query."""
    return encoder().encode_query(query, defines=DEFINES_WEIGHT)


#: Versions of stored sparse vectors that search can use (older ones lack only the defines terms).
SEARCHABLE_VERSIONS = ("1", SPARSE_VERSION)


def store_has_sparse(meta: dict[str, Any] | None) -> bool:
    """Whether an index's metadata says its chunks carry sparse vectors that search can use."""
    return bool(meta) and meta.get("sparse") in SEARCHABLE_VERSIONS  # type: ignore[union-attr]


def sparse_is_current(meta: dict[str, Any] | None) -> bool:
    """Whether an index's sparse vectors are of the current version (else an index run recomputes them)."""
    return bool(meta) and meta.get("sparse") == SPARSE_VERSION  # type: ignore[union-attr]


def backfill_sparse(store: Store) -> int:
    """Give every stored chunk its current sparse vector; returns how many.

    For an index built before hybrid search, or with sparse vectors of an older version. The sparse
    space is declared first (if missing); each chunk's vector is computed from its stored path, text
    and symbol, so nothing is embedded again.
    """
    add = getattr(store, "add_sparse_space", None)
    if add is None:
        raise TypeError(f"{type(store).__name__} cannot hold sparse vectors (no add_sparse_space)")
    add(SPARSE_SPACE)
    store.sparse_space = SPARSE_SPACE  # type: ignore[attr-defined]
    pending: dict[str, SparseVector] = {}
    done = 0
    for hit in store.scroll("chunk", ["path", "text", "symbol"]):
        p = hit.payload
        vec = sparse_document(p.get("path", ""), p.get("text", ""), p.get("symbol"))
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
    sparse = sparse_query(query)
    if not dense and not sparse:
        return []
    plan = HybridPlan(dense=[(s, list(v), langs) for s, v, langs in dense], sparse_space=SPARSE_SPACE,
                      sparse=sparse, sparse_languages=languages, paths=paths,
                      prefetch_limit=max(k, PREFETCH_LIMIT), fusion=FUSION, rrf_k=RRF_K,
                      sparse_weight=SPARSE_WEIGHT)  # fmt: skip
    return list(run(plan, k))[:k]


_CONSTANT = re.compile(r"[A-Z][A-Z0-9_]+")
_SEGMENTS = re.compile(r"\.|-|/|::")  # the joints of a compound name, as in sparse.code_tokens


def _assigns(name: str) -> re.Pattern[str]:
    """A line (``match``) that assigns the constant ``name``: ``NAME = 1``, ``const NAME = 1``,
    ``public static final int NAME = 1;``, ``NAME: 1`` (an object key), ``define('NAME', 1)``, Go's
    ``NAME Type = 1``."""
    n = re.escape(name)
    return re.compile(
        rf"[ \t]*(?:(?:[\w$<>\[\]]+[ \t]+)*['\"]?{n}['\"]?(?:[ \t]+[\w.]+)?[ \t]*(?::(?!:)|=(?!=))"
        rf"|define\([ \t]*['\"]{n}['\"][ \t]*,)"
    )


def definitions_first(query: str, hits: Sequence[Hit]) -> list[Hit]:
    """For an identifier query, the hits that define the name first (each group in its fused order).

    A hit defines the name when its symbol does (:func:`~loracode_qdrant.sparse.defined_names`) or,
    for an upper-case constant such as ``MAX_RETRIES``, when one of its lines assigns it. Definitions
    of the name as typed come before those in another case (``getString`` before ``GetString``).
    The fused ranking often puts a short call site, import or test of a name above the longer chunk
    that defines it; a person who types the exact name wants the definition. Prose and code queries
    (:func:`~loracode_qdrant.sparse.identifier_names`) keep the fused order.

    Example:
        >>> call = Hit("app.py", 9, 9, "main", "function", "python", 0.9, "fetch_user(1)", "hybrid", 0.9)
        >>> define = Hit("db.py", 1, 4, "Repo.fetch_user", "function", "python", 0.7, "...", "hybrid", 0.7)
        >>> [h.path for h in definitions_first("fetch_user", [call, define])]
        ['db.py', 'app.py']
    """
    names = set(identifier_names(query)) if DEFINITIONS_FIRST else set()
    if not names:
        return list(hits)
    name = query.strip()
    as_typed = {name, *_SEGMENTS.split(name)}  # the names in the query's own case
    assigns = _assigns(name) if CONSTANTS_FIRST and _CONSTANT.fullmatch(name) else None

    def tier(hit: Hit) -> int:
        """0: defines the name as typed (or assigns the constant), 1: in another case, 2: neither."""
        if (
            assigns is not None
            and name in hit.text
            and any(assigns.match(line) for line in hit.text.splitlines() if name in line)
        ):
            return 0
        if not hit.symbol or names.isdisjoint(defined_names(hit.symbol)):
            return 2
        return 0 if {hit.symbol, _SEGMENTS.split(hit.symbol)[-1]} & as_typed else 1

    return sorted(hits, key=tier)  # stable: each tier keeps the fused order
