"""End to end: index this repository's own source functions in Qdrant (in memory), search in English."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from langchain_core.documents import Document
from langchain_qdrant import QdrantVectorStore
from qdrant_client import QdrantClient
from qdrant_client.http.models import Distance, VectorParams

from langchain_loracode import LoRACodeEmbeddings

REPO = Path(__file__).resolve().parents[4]
# Real source files of the core package (pure-Python modules with many small, documented functions).
SOURCE_FILES = [
    "languages.py",
    "language_guess.py",
    "routing.py",
    "inputs.py",
    "manifest.py",
    "query_type.py",
]


def function_documents() -> list[Document]:
    """One document per top-level function or method, with its exact source text (layout kept)."""
    documents = []
    for name in SOURCE_FILES:
        path = REPO / "loracode_embed" / name
        source = path.read_text(encoding="utf-8")
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                text = ast.get_source_segment(source, node)
                assert text is not None
                documents.append(
                    Document(
                        page_content=text, metadata={"path": f"loracode_embed/{name}", "function": node.name}
                    )
                )
    return documents


@pytest.fixture(scope="module")
def store(default_model) -> QdrantVectorStore:
    documents = function_documents()
    assert len(documents) >= 30
    embeddings = LoRACodeEmbeddings(language="python", model=default_model)
    client = QdrantClient(":memory:")
    client.create_collection(
        "code", vectors_config=VectorParams(size=default_model.embedding_dim, distance=Distance.COSINE)
    )
    vector_store = QdrantVectorStore(client=client, collection_name="code", embedding=embeddings)
    vector_store.add_documents(documents)
    return vector_store


@pytest.mark.parametrize(
    "query, function",
    [
        ("guess the programming language of a snippet from its content", "guess_language"),
        ("language named by the #! shebang line of a script", "language_for_shebang"),
    ],
)
def test_natural_language_query_finds_the_right_function(store, query: str, function: str) -> None:
    [top] = store.similarity_search(query, k=1)
    assert top.metadata["function"] == function
    assert f"def {function}(" in top.page_content
    assert "\n    " in top.page_content  # stored with its indentation


def test_code_query_finds_the_same_function(store) -> None:
    snippet = "def language_for_shebang(first_line: str):\n    match = _SHEBANG.match(first_line)\n"
    [top] = store.similarity_search(snippet, k=1)
    assert top.metadata["function"] == "language_for_shebang"
