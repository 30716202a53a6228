"""loracode-qdrant: index a source tree into Qdrant with loracode-embed, and search it.

Example:
    >>> from loracode_qdrant import CodeIndex
    >>> index = CodeIndex("~/src/myrepo")          # doctest: +SKIP
    >>> summary = index.index()                     # doctest: +SKIP
    >>> hits = index.search("retry an http request with backoff", k=5)  # doctest: +SKIP
    >>> hits = index.search("getUserById", mode="hybrid")           # doctest: +SKIP
"""

from __future__ import annotations

from loracode_qdrant.chunking import CHUNKER_VERSION, Chunk, Chunker
from loracode_qdrant.fusion import reciprocal_rank_fusion
from loracode_qdrant.index import CodeIndex, Hit, IndexSummary
from loracode_qdrant.sparse import SparseEncoder, SparseVector, code_tokens
from loracode_qdrant.store import EdgeStore, ServerStore, Store, StoreLockedError
from loracode_qdrant.walk import walk_tree

__all__ = [
    "CHUNKER_VERSION",
    "Chunk",
    "Chunker",
    "CodeIndex",
    "EdgeStore",
    "Hit",
    "IndexSummary",
    "ServerStore",
    "SparseEncoder",
    "SparseVector",
    "Store",
    "StoreLockedError",
    "code_tokens",
    "reciprocal_rank_fusion",
    "walk_tree",
]
__version__ = "0.1.0"
