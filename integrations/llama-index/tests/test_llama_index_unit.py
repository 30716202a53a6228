"""Public surface and argument checking; no model is loaded here (sockets off, as for every test)."""

from __future__ import annotations

import socket

import pytest
from llama_index.core.base.embeddings.base import BaseEmbedding

import llama_index.embeddings.loracode as package
from llama_index.embeddings.loracode import LoRACodeEmbedding

UNLOADED = "/nonexistent/bundle"  # loaded on first use only, so these tests never touch a model


def test_class_is_a_base_embedding() -> None:
    names_of_bases = [b.__name__ for b in LoRACodeEmbedding.__mro__]
    assert BaseEmbedding.__name__ in names_of_bases
    assert issubclass(LoRACodeEmbedding, BaseEmbedding)


def test_all_is_pinned_and_class_name() -> None:
    assert package.__all__ == ["LoRACodeEmbedding"]
    assert LoRACodeEmbedding.class_name() == "LoRACodeEmbedding"


def test_namespace_layout_has_no_init_above_the_package() -> None:
    from pathlib import Path

    here = Path(package.__file__).resolve().parent
    assert here.name == "loracode"
    assert not (here.parent / "__init__.py").exists()
    assert not (here.parent.parent / "__init__.py").exists()


def test_sockets_are_disabled_here() -> None:
    with pytest.raises(Exception, match="socket"):
        socket.socket(socket.AF_INET, socket.SOCK_STREAM)


def test_defaults_and_serialisation() -> None:
    embed_model = LoRACodeEmbedding(language="golang", model=UNLOADED, embed_batch_size=8)
    assert embed_model.language == "go"
    assert embed_model.task == "auto"
    assert embed_model.embed_batch_size == 8
    assert embed_model.model_name == UNLOADED
    data = embed_model.to_dict()
    assert data["class_name"] == "LoRACodeEmbedding"
    assert data["language"] == "go"
    assert LoRACodeEmbedding().model_name == "loracode-embed/default"
    assert LoRACodeEmbedding().embed_batch_size == 32


def test_unknown_language_and_task_are_value_errors() -> None:
    with pytest.raises(ValueError, match="Unknown language 'cobol'.*python"):
        LoRACodeEmbedding(language="cobol")
    with pytest.raises(ValueError, match="task"):
        LoRACodeEmbedding(task="summarise")
    with pytest.raises(ValueError, match="embed_batch_size"):
        LoRACodeEmbedding(embed_batch_size=0)


@pytest.mark.parametrize("bad_model", [3, object(), ["a"]])
def test_bad_model_is_a_type_error(bad_model: object) -> None:
    with pytest.raises(TypeError, match="model must be None, a bundle path"):
        LoRACodeEmbedding(model=bad_model)


def test_empty_list_needs_no_model() -> None:
    assert LoRACodeEmbedding(model=UNLOADED).get_text_embedding_batch([]) == []


def test_bad_item_is_named_by_its_index_in_the_whole_list() -> None:
    """Batching (embed_batch_size=2) must not hide which item was bad: index 3, not 1."""
    embed_model = LoRACodeEmbedding(model=UNLOADED, embed_batch_size=2)
    with pytest.raises(TypeError, match=r"texts\[3\] must be a string, got NoneType"):
        embed_model.get_text_embedding_batch(["a", "b", "c", None])  # type: ignore[list-item]
    with pytest.raises(TypeError, match="texts must be a list of strings"):
        embed_model.get_text_embedding_batch("def f(): pass")  # type: ignore[arg-type]


@pytest.mark.parametrize("bad", [None, 3, b"x"])
def test_bad_query_and_text_are_type_errors(bad: object) -> None:
    embed_model = LoRACodeEmbedding(model=UNLOADED)
    with pytest.raises(TypeError, match="query must be a string"):
        embed_model.get_query_embedding(bad)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="text must be a string"):
        embed_model.get_text_embedding(bad)  # type: ignore[arg-type]


async def test_async_bad_input_raises_the_same_error() -> None:
    embed_model = LoRACodeEmbedding(model=UNLOADED, embed_batch_size=2)
    with pytest.raises(TypeError, match=r"texts\[2\] must be a string"):
        await embed_model.aget_text_embedding_batch(["a", "b", 5])  # type: ignore[list-item]
    with pytest.raises(TypeError, match="query must be a string"):
        await embed_model.aget_query_embedding(None)  # type: ignore[arg-type]
