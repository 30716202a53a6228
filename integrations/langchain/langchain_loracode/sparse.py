"""``LoRACodeSparseEmbeddings``: identifier-aware BM25 vectors for langchain-qdrant's hybrid mode.

The sparse half of a hybrid pair (the dense half is :class:`~langchain_loracode.LoRACodeEmbeddings`):
the same terms and weights as ``loracode search --mode hybrid`` (``loracode_qdrant.sparse``: names
kept whole and split at camelCase, snake_case, kebab-case, dots and slashes; Qdrant's BM25 weighting).
Declare the sparse vector with Qdrant's IDF modifier, so the store computes inverse document
frequencies and adding documents never changes stored weights. Needs the ``hybrid`` extra:
``pip install "langchain-loracode[hybrid]"`` (loracode-qdrant and langchain-qdrant).

Example:
    >>> from langchain_qdrant import QdrantVectorStore, RetrievalMode
    >>> from qdrant_client import models
    >>> from langchain_loracode import LoRACodeEmbeddings
    >>> from langchain_loracode.sparse import LoRACodeSparseEmbeddings
    >>> store = QdrantVectorStore.from_texts(                      # doctest: +SKIP
    ...     ["def getUserById(user_id): ..."], LoRACodeEmbeddings(language="python"), location=":memory:",
    ...     collection_name="code", retrieval_mode=RetrievalMode.HYBRID,
    ...     sparse_embedding=LoRACodeSparseEmbeddings(),
    ...     sparse_vector_params={"modifier": models.Modifier.IDF})
    >>> LoRACodeSparseEmbeddings().embed_query("the of").indices   # only stop words: no term
    []
"""

from __future__ import annotations

try:
    from langchain_qdrant import SparseEmbeddings, SparseVector
    from loracode_qdrant.sparse import SparseEncoder
except ImportError as exc:  # pragma: no cover - depends on the installed extras
    raise ImportError(
        "LoRACodeSparseEmbeddings needs langchain-qdrant and loracode-qdrant: "
        'pip install "langchain-loracode[hybrid]"'
    ) from exc


class LoRACodeSparseEmbeddings(SparseEmbeddings):
    """BM25 sparse vectors over code-aware terms, for ``QdrantVectorStore(retrieval_mode=HYBRID)``.

    Args:
        k: BM25 term-frequency saturation.
        b: BM25 length normalisation (0 to 1).
        avg_len: The fixed average document length, in terms, that ``b`` normalises against.

    Example:
        >>> sparse = LoRACodeSparseEmbeddings()
        >>> q = sparse.embed_query("getUserById")
        >>> set(q.indices) <= set(sparse.embed_documents(["function getUserById(id) {}"])[0].indices)
        True
    """

    def __init__(self, k: float = 1.2, b: float = 0.75, avg_len: float = 120.0) -> None:
        self._encoder = SparseEncoder(k=k, b=b, avg_len=avg_len)

    def embed_documents(self, texts: list[str]) -> list[SparseVector]:
        """One BM25 document vector per text (term-frequency weights; the store applies IDF)."""
        if isinstance(texts, str):
            raise TypeError("texts must be a list of strings, not a string")
        return [SparseVector(**v.to_dict()) for v in self._encoder.encode_documents(texts)]

    def embed_query(self, text: str) -> SparseVector:
        """The query vector: weight 1 per distinct term (empty when only stop words remain)."""
        return SparseVector(**self._encoder.encode_query(text).to_dict())
