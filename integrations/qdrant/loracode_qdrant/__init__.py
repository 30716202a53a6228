"""loracode-qdrant: index a source tree into Qdrant with loracode-embed, and search it.

Example:
    >>> from loracode_qdrant import CodeIndex
    >>> index = CodeIndex("~/src/myrepo")          # doctest: +SKIP
    >>> summary = index.index()                     # doctest: +SKIP
    >>> hits = index.search("retry an http request with backoff", k=5)  # doctest: +SKIP
    >>> hits = index.search("getUserById", mode="hybrid")           # doctest: +SKIP
"""

from __future__ import annotations

TYPE_CHECKING = False  # typing is not imported at run time: `loracode search` starts faster
if TYPE_CHECKING:
    from typing import Any

    from loracode_qdrant.chunking import CHUNKER_VERSION, Chunk, Chunker
    from loracode_qdrant.fusion import reciprocal_rank_fusion
    from loracode_qdrant.hits import Hit
    from loracode_qdrant.index import CodeIndex, IndexStatus, IndexSummary, group_hits
    from loracode_qdrant.runlog import RunRecord
    from loracode_qdrant.sparse import SparseEncoder, SparseVector, code_tokens
    from loracode_qdrant.store import EdgeStore, ServerStore, Store, StoreLockedError
    from loracode_qdrant.walk import walk_tree

#: Where each public name lives; imported on first use, so that ``loracode`` can register this
#: package's commands without importing numpy, tree-sitter or Qdrant.
_HOMES = {
    "CHUNKER_VERSION": "chunking",
    "Chunk": "chunking",
    "Chunker": "chunking",
    "CodeIndex": "index",
    "EdgeStore": "store",
    "Hit": "hits",
    "IndexStatus": "index",
    "IndexSummary": "index",
    "RunRecord": "runlog",
    "ServerStore": "store",
    "SparseEncoder": "sparse",
    "SparseVector": "sparse",
    "Store": "store",
    "StoreLockedError": "store",
    "code_tokens": "sparse",
    "group_hits": "index",
    "reciprocal_rank_fusion": "fusion",
    "walk_tree": "walk",
}

__all__ = [
    "CHUNKER_VERSION",
    "Chunk",
    "Chunker",
    "CodeIndex",
    "EdgeStore",
    "Hit",
    "IndexStatus",
    "IndexSummary",
    "RunRecord",
    "ServerStore",
    "SparseEncoder",
    "SparseVector",
    "Store",
    "StoreLockedError",
    "code_tokens",
    "group_hits",
    "reciprocal_rank_fusion",
    "walk_tree",
]
__version__ = "0.1.0"


def __getattr__(name: str) -> Any:
    if name in _HOMES:
        import importlib

        value = getattr(importlib.import_module(f"loracode_qdrant.{_HOMES[name]}"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'loracode_qdrant' has no attribute {name!r}")
