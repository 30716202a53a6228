"""Unit tests: the standard LangChain suite, the public surface and argument checking (sockets off)."""

from __future__ import annotations

import socket

import pytest
from langchain_core.embeddings import Embeddings
from langchain_tests.unit_tests import EmbeddingsUnitTests

import langchain_loracode
from langchain_loracode import LoRACodeEmbeddings


class TestLoRACodeEmbeddingsStandard(EmbeddingsUnitTests):
    @property
    def embeddings_class(self) -> type[LoRACodeEmbeddings]:
        return LoRACodeEmbeddings

    @property
    def embedding_model_params(self) -> dict:
        return {"language": "python"}


def test_all_is_pinned_and_sorted() -> None:
    assert langchain_loracode.__all__ == ["LoRACodeEmbeddings"]
    assert sorted(langchain_loracode.__all__) == langchain_loracode.__all__


def test_is_a_langchain_embeddings() -> None:
    assert issubclass(LoRACodeEmbeddings, Embeddings)


def test_sockets_are_disabled_here() -> None:
    """The unit tests run with pytest-socket's --disable-socket: any network use would fail."""
    with pytest.raises(Exception, match="socket"):
        socket.socket(socket.AF_INET, socket.SOCK_STREAM)


def test_defaults_and_language_aliases_are_canonicalised() -> None:
    embeddings = LoRACodeEmbeddings()
    assert embeddings.language is None
    assert embeddings.task == "auto"
    assert embeddings.batch_size == 32
    assert embeddings.show_progress is False
    assert LoRACodeEmbeddings(language="golang").language == "go"
    assert LoRACodeEmbeddings(language="C#").language == "csharp"


def test_construction_loads_no_model() -> None:
    """A path is only loaded on first use, so a bad path fails then, not at construction."""
    embeddings = LoRACodeEmbeddings(language="python", model="/nonexistent/bundle")
    assert embeddings._loaded is None
    with pytest.raises((OSError, ValueError)):
        embeddings.embed_query("read a file")


def test_unknown_language_is_a_value_error_listing_supported() -> None:
    with pytest.raises(ValueError, match="Unknown language 'cobol'.*python"):
        LoRACodeEmbeddings(language="cobol")


def test_unknown_task_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="task"):
        LoRACodeEmbeddings(task="summarise")


@pytest.mark.parametrize("batch_size", [0, -1])
def test_non_positive_batch_size_is_a_value_error(batch_size: int) -> None:
    with pytest.raises(ValueError, match="batch_size"):
        LoRACodeEmbeddings(batch_size=batch_size)


def test_unknown_parameter_is_refused() -> None:
    with pytest.raises(ValueError, match="model_kwargs"):
        LoRACodeEmbeddings(model_kwargs={"device": "cpu"})


@pytest.mark.parametrize("bad_model", [3, object(), ["a"]])
def test_bad_model_is_a_type_error(bad_model: object) -> None:
    with pytest.raises(TypeError, match="model must be None, a bundle path"):
        LoRACodeEmbeddings(model=bad_model)


def test_empty_list_needs_no_model() -> None:
    embeddings = LoRACodeEmbeddings(language="python", model="/nonexistent/bundle")
    assert embeddings.embed_documents([]) == []


@pytest.mark.parametrize(
    "texts, match",
    [
        ("def f(): pass", "texts must be a list of strings"),
        (None, "texts must be a list of strings"),
        (["def f(): pass", None], r"texts\[1\] must be a string, got NoneType"),
        (["ok", "ok", 7], r"texts\[2\] must be a string, got int"),
    ],
)
def test_bad_documents_are_type_errors_naming_the_item(texts: object, match: str) -> None:
    embeddings = LoRACodeEmbeddings(language="python", model="/nonexistent/bundle")
    with pytest.raises(TypeError, match=match):
        embeddings.embed_documents(texts)  # type: ignore[arg-type]


@pytest.mark.parametrize("query", [None, 3, ["read a file"], b"read"])
def test_bad_query_is_a_type_error(query: object) -> None:
    embeddings = LoRACodeEmbeddings(language="python", model="/nonexistent/bundle")
    with pytest.raises(TypeError, match="text must be a string"):
        embeddings.embed_query(query)  # type: ignore[arg-type]


async def test_async_bad_input_raises_the_same_error() -> None:
    embeddings = LoRACodeEmbeddings(language="python", model="/nonexistent/bundle")
    with pytest.raises(TypeError, match=r"texts\[0\] must be a string"):
        await embeddings.aembed_documents([None])  # type: ignore[list-item]
