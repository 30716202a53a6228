"""End to end: langchain-qdrant's hybrid mode with LoRACodeEmbeddings + LoRACodeSparseEmbeddings."""

from __future__ import annotations

import pytest
from langchain_core.documents import Document
from langchain_qdrant import QdrantVectorStore, RetrievalMode, SparseEmbeddings
from qdrant_client import models

from langchain_loracode import LoRACodeEmbeddings
from langchain_loracode.sparse import LoRACodeSparseEmbeddings

SNIPPETS = {
    "getUserById": "def getUserById(user_id):\n    return db.users.find_one({'_id': user_id})\n",
    "retry_with_backoff": "def retry_with_backoff(fn, attempts=3):\n    for i in range(attempts):\n"
    "        try:\n            return fn()\n        except IOError:\n            time.sleep(2 ** i)\n",
    "parse_config": "def parse_config(text):\n    return json.loads(text)\n",
    "ERR_STREAM_WRITE_AFTER_END": "ERR_STREAM_WRITE_AFTER_END = 'write after end'\n",
    "getUserByEmail": "def getUserByEmail(email):\n    return db.users.find_one({'email': email})\n",
}


@pytest.fixture(scope="module")
def store(default_model) -> QdrantVectorStore:
    docs = [Document(page_content=text, metadata={"name": name}) for name, text in SNIPPETS.items()]
    return QdrantVectorStore.from_documents(
        docs,
        LoRACodeEmbeddings(language="python", model=default_model),
        location=":memory:",
        collection_name="hybrid",
        retrieval_mode=RetrievalMode.HYBRID,
        sparse_embedding=LoRACodeSparseEmbeddings(),
        sparse_vector_params={"modifier": models.Modifier.IDF},
    )


def test_is_a_langchain_qdrant_sparse_embeddings() -> None:
    assert issubclass(LoRACodeSparseEmbeddings, SparseEmbeddings)


def test_collection_declares_the_idf_modifier(store: QdrantVectorStore) -> None:
    params = store.client.get_collection("hybrid").config.params
    assert params.sparse_vectors[store.sparse_vector_name].modifier == models.Modifier.IDF


@pytest.mark.parametrize("name", ["getUserById", "ERR_STREAM_WRITE_AFTER_END", "getUserByEmail"])
def test_exact_identifiers_come_first(store: QdrantVectorStore, name: str) -> None:
    assert store.similarity_search(name, k=1)[0].metadata["name"] == name


def test_meaning_still_counts(store: QdrantVectorStore) -> None:
    top = store.similarity_search("retry a flaky call with exponential sleep", k=2)
    assert "retry_with_backoff" in [d.metadata["name"] for d in top]


def test_stop_word_query_falls_back_without_error(store: QdrantVectorStore) -> None:
    assert LoRACodeSparseEmbeddings().embed_query("the of and").indices == []
    assert len(store.similarity_search("find the user", k=2)) == 2


def test_rejects_a_bare_string() -> None:
    with pytest.raises(TypeError, match="texts must be a list of strings"):
        LoRACodeSparseEmbeddings().embed_documents("def f(): pass")  # type: ignore[arg-type]


async def test_async_twins_match(store: QdrantVectorStore) -> None:
    sparse = LoRACodeSparseEmbeddings()
    assert await sparse.aembed_query("getUserById") == sparse.embed_query("getUserById")
    assert await sparse.aembed_documents(["a_b"]) == sparse.embed_documents(["a_b"])
