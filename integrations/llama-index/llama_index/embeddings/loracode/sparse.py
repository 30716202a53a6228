"""Sparse document and query functions for LlamaIndex's ``QdrantVectorStore`` hybrid mode.

``sparse_doc_fn`` and ``sparse_query_fn`` give the identifier-aware BM25 vectors of
``loracode search --mode hybrid`` (``loracode_qdrant.sparse``) in the shape LlamaIndex expects,
``(indices per text, values per text)``. :func:`hybrid_store_kwargs` gathers everything
``QdrantVectorStore`` needs for hybrid search, including the sparse vector's IDF modifier (the store
computes inverse document frequencies, so adding nodes never changes stored weights). Needs the
``hybrid`` extra: ``pip install "llama-index-embeddings-loracode[hybrid]"``.

Example:
    >>> from llama_index.vector_stores.qdrant import QdrantVectorStore
    >>> from qdrant_client import QdrantClient
    >>> store = QdrantVectorStore(client=QdrantClient(":memory:"), collection_name="code",
    ...                           **hybrid_store_kwargs())
    >>> store.enable_hybrid
    True
    >>> indices, values = sparse_query_fn(["getUserById"])
    >>> len(indices[0]) == len(values[0]) > 0
    True
"""

from __future__ import annotations

from typing import Any

try:
    from loracode_qdrant.sparse import SparseEncoder
except ImportError as exc:  # pragma: no cover - depends on the installed extras
    raise ImportError(
        'The sparse functions need loracode-qdrant: pip install "llama-index-embeddings-loracode[hybrid]"'
    ) from exc

_ENCODER = SparseEncoder()
BatchSparseEncoding = tuple[list[list[int]], list[list[float]]]


def _check(texts: list[str]) -> None:
    if isinstance(texts, str):
        raise TypeError("texts must be a list of strings, not a string")


def sparse_doc_fn(texts: list[str]) -> BatchSparseEncoding:
    """BM25 document vectors (term-frequency weights; the store applies IDF) of each text."""
    _check(texts)
    vectors = _ENCODER.encode_documents(texts)
    return [v.indices for v in vectors], [v.values for v in vectors]


def sparse_query_fn(texts: list[str]) -> BatchSparseEncoding:
    """Query vectors: weight 1 per distinct term (empty when a query has only stop words)."""
    _check(texts)
    vectors = _ENCODER.encode_queries(texts)
    return [v.indices for v in vectors], [v.values for v in vectors]


def hybrid_store_kwargs() -> dict[str, Any]:
    """Keyword arguments for ``QdrantVectorStore`` hybrid search with these functions.

    ``enable_hybrid``, ``sparse_doc_fn``, ``sparse_query_fn`` and ``sparse_config`` (a sparse vector
    with the IDF modifier, which LlamaIndex leaves off for functions it did not make).
    """
    from qdrant_client import models

    return {
        "enable_hybrid": True,
        "sparse_doc_fn": sparse_doc_fn,
        "sparse_query_fn": sparse_query_fn,
        "sparse_config": models.SparseVectorParams(modifier=models.Modifier.IDF),
    }
