"""End to end: LlamaIndex's QdrantVectorStore hybrid mode with the loracode sparse functions."""

from __future__ import annotations

import pytest
from llama_index.core import StorageContext, VectorStoreIndex
from llama_index.core.schema import TextNode
from llama_index.core.vector_stores.types import VectorStoreQueryMode
from llama_index.vector_stores.qdrant import QdrantVectorStore
from qdrant_client import QdrantClient, models

from llama_index.embeddings.loracode import LoRACodeEmbedding
from llama_index.embeddings.loracode.sparse import hybrid_store_kwargs, sparse_doc_fn, sparse_query_fn

SNIPPETS = {
    "getUserById": "def getUserById(user_id):\n    return db.users.find_one({'_id': user_id})\n",
    "retry_with_backoff": "def retry_with_backoff(fn, attempts=3):\n    for i in range(attempts):\n"
    "        try:\n            return fn()\n        except IOError:\n            time.sleep(2 ** i)\n",
    "parse_config": "def parse_config(text):\n    return json.loads(text)\n",
    "ERR_STREAM_WRITE_AFTER_END": "ERR_STREAM_WRITE_AFTER_END = 'write after end'\n",
    "getUserByEmail": "def getUserByEmail(email):\n    return db.users.find_one({'email': email})\n",
}


@pytest.fixture(scope="module")
def client() -> QdrantClient:
    return QdrantClient(":memory:")


@pytest.fixture(scope="module")
def index(default_model, client: QdrantClient) -> VectorStoreIndex:
    store = QdrantVectorStore(client=client, collection_name="hybrid", **hybrid_store_kwargs())
    nodes = [TextNode(text=text, metadata={"name": name}) for name, text in SNIPPETS.items()]
    return VectorStoreIndex(
        nodes,
        storage_context=StorageContext.from_defaults(vector_store=store),
        embed_model=LoRACodeEmbedding(language="python", model=default_model),
    )


def names(index: VectorStoreIndex, query: str, k: int = 1) -> list[str]:
    retriever = index.as_retriever(
        vector_store_query_mode=VectorStoreQueryMode.HYBRID, similarity_top_k=k, sparse_top_k=k
    )
    return [n.node.metadata["name"] for n in retriever.retrieve(query)]


def test_collection_has_dense_and_idf_sparse_vectors(index: VectorStoreIndex, client: QdrantClient) -> None:
    params = client.get_collection("hybrid").config.params
    assert params.sparse_vectors and all(
        p.modifier == models.Modifier.IDF for p in params.sparse_vectors.values()
    )
    assert params.vectors


@pytest.mark.parametrize("name", ["getUserById", "ERR_STREAM_WRITE_AFTER_END", "getUserByEmail"])
def test_exact_identifiers_come_first(index: VectorStoreIndex, name: str) -> None:
    assert names(index, name)[0] == name


def test_meaning_still_counts(index: VectorStoreIndex) -> None:
    assert "retry_with_backoff" in names(index, "retry a flaky call with exponential sleep", k=2)


def test_functions_have_the_batch_shape() -> None:
    indices, values = sparse_doc_fn(["def a_b(): pass", "x"])
    assert len(indices) == len(values) == 2
    assert all(len(i) == len(v) for i, v in zip(indices, values, strict=True))
    q_indices, q_values = sparse_query_fn(["the of", "a_b"])
    assert q_indices[0] == [] and q_values[1] == [1.0] * len(q_indices[1])
    with pytest.raises(TypeError, match="texts must be a list of strings"):
        sparse_query_fn("a_b")  # type: ignore[arg-type]
