"""End to end: chunk this repository's own source with CodeSplitter, store in Qdrant (in memory), retrieve."""

from __future__ import annotations

from pathlib import Path

import pytest
import tree_sitter_python
from llama_index.core import Document, StorageContext, VectorStoreIndex
from llama_index.core.node_parser import CodeSplitter
from llama_index.vector_stores.qdrant import QdrantVectorStore
from qdrant_client import QdrantClient
from tree_sitter import Language, Parser

from llama_index.embeddings.loracode import LoRACodeEmbedding

REPO = Path(__file__).resolve().parents[3]
SOURCE_FILES = [
    "languages.py",
    "language_guess.py",
    "routing.py",
    "inputs.py",
    "manifest.py",
    "query_type.py",
]


@pytest.fixture(scope="module")
def index(default_model) -> VectorStoreIndex:
    documents = [
        Document(text=(REPO / "loracode_embed" / name).read_text(encoding="utf-8"), metadata={"path": name})
        for name in SOURCE_FILES
    ]
    # A parser object built from the installed grammar wheel: nothing tries to download a grammar.
    splitter = CodeSplitter(
        language="python", parser=Parser(Language(tree_sitter_python.language())), tokenizer=str.split
    )
    nodes = splitter.get_nodes_from_documents(documents)
    assert len(nodes) >= 20
    store = QdrantVectorStore(client=QdrantClient(":memory:"), collection_name="code")
    return VectorStoreIndex(
        nodes,
        storage_context=StorageContext.from_defaults(vector_store=store),
        embed_model=LoRACodeEmbedding(language="python", model=default_model),
    )


@pytest.mark.parametrize(
    "query, path, expected",
    [
        ("language named by the #! shebang line of a script", "languages.py", "def language_for_shebang("),
        # The module docstring of language_guess.py ("Guess a snippet's programming language from its
        # content alone") is as right an answer as the function itself, so the function may come second.
        (
            "guess the programming language of a snippet from its content",
            "language_guess.py",
            "def guess_language(",
        ),
    ],
)
def test_natural_language_query_retrieves_the_right_chunk(
    index, query: str, path: str, expected: str
) -> None:
    hits = index.as_retriever(similarity_top_k=2).retrieve(query)
    assert hits[0].node.metadata["path"] == path
    assert any(expected in hit.node.get_content() for hit in hits)
