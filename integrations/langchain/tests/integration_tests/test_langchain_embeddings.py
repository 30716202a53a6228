"""LoRACodeEmbeddings against direct LoRACodeModel calls: equality, routing, text kept intact, async."""

from __future__ import annotations

import asyncio
import json
import threading

import numpy as np
import pytest
from loracode_embed.language_guess import guess_language

from langchain_loracode import LoRACodeEmbeddings

NL_QUERY = "read a yaml file and return a dict"
CODE_QUERY = "def load(path):\n    with open(path) as f:\n        return yaml.safe_load(f)\n"


def _min_cosine(a: list[list[float]] | np.ndarray, b: np.ndarray) -> float:
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    cos = (a * b).sum(axis=1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))
    return float(cos.min())


def test_documents_equal_direct_calls_on_100_real_samples(default_model, real_code_samples) -> None:
    texts = [code for _, code in real_code_samples]
    wrapper = LoRACodeEmbeddings(language=None, model=default_model)
    vectors = wrapper.embed_documents(texts)
    direct = default_model.encode_code(texts, languages=[guess_language(t) for t in texts], task="text2code")
    assert len(vectors) == 100
    assert all(type(v) is list and all(type(x) is float for x in v) for v in vectors)
    assert _min_cosine(vectors, direct) >= 0.999999


def test_queries_equal_direct_calls(default_model, real_code_samples, shared_data) -> None:
    cosqa = json.loads((shared_data / "cosqa" / "cosqa-dev.json").read_text(encoding="utf-8"))
    queries = sorted({item["doc"] for item in cosqa})[:20] + [code for _, code in real_code_samples[::10]]
    wrapper = LoRACodeEmbeddings(language="python", model=default_model)
    vectors = [wrapper.embed_query(q) for q in queries]
    direct = default_model.encode_query(queries, language="python", task="auto")
    assert all(type(x) is float for x in vectors[0])
    assert _min_cosine(vectors, direct) >= 0.999999


def test_default_bundle_is_loaded_when_no_model_is_given(default_model) -> None:
    text = "def add(a, b):\n    return a + b\n"
    own = LoRACodeEmbeddings(language="python")
    assert own.client is not default_model
    assert own.client.fingerprint == default_model.fingerprint
    assert (
        _min_cosine(own.embed_documents([text]), default_model.encode_code([text], languages="python"))
        > 0.999999
    )


def test_text_reaches_the_model_unchanged(tiny_model) -> None:
    """Newlines and indentation are kept: the exact strings reach the model, and layout changes the vector."""
    original = "def f(x):\n    if x:\n        return 1\n\treturn 2\n"
    flattened = " ".join(original.split())
    received: list[list[str]] = []

    class Spy:
        def __getattr__(self, name):
            return getattr(tiny_model, name)

        def encode_code(self, texts, **kwargs):
            received.append(list(texts))
            return tiny_model.encode_code(texts, **kwargs)

    a, b = LoRACodeEmbeddings(language="python", model=Spy()).embed_documents([original, flattened])
    assert received == [[original, flattened]]
    assert _min_cosine([a], tiny_model.encode_code([flattened], languages="python")) < 0.9999


def test_routing_with_a_language_uses_its_adapters(tiny_model) -> None:
    code = ["def add(a, b):\n    return a + b\n", "func Add(a, b int) int {\n\treturn a + b\n}\n"]
    embeddings = LoRACodeEmbeddings(language="python", model=tiny_model)
    docs = np.asarray(embeddings.embed_documents(code))
    assert _min_cosine(docs, tiny_model.encode_code(code, adapter="text2code-python")) > 0.999999
    assert _min_cosine(docs, tiny_model.encode_code(code, adapter="base")) < 0.999
    nl = np.asarray([embeddings.embed_query(NL_QUERY)])
    as_code = np.asarray([embeddings.embed_query(CODE_QUERY)])
    assert _min_cosine(nl, tiny_model.encode_query([NL_QUERY], adapter="text2code-python")) > 0.999999
    assert _min_cosine(as_code, tiny_model.encode_query([CODE_QUERY], adapter="code2code")) > 0.999999


def test_routing_without_a_language_guesses_documents_and_uses_unified_queries(tiny_model) -> None:
    python_code = "def add(self, a, b):\n    return a + b\n"
    go_code = "func (s *Server) Add(a, b int) int {\n\treturn a + b\n}\n"
    assert (guess_language(python_code), guess_language(go_code)) == ("python", "go")
    embeddings = LoRACodeEmbeddings(model=tiny_model)
    py_vec, go_vec = embeddings.embed_documents([python_code, go_code])
    assert _min_cosine([py_vec], tiny_model.encode_code([python_code], adapter="text2code-python")) > 0.999999
    assert _min_cosine([go_vec], tiny_model.encode_code([go_code], adapter="text2code")) > 0.999999
    query = np.asarray([embeddings.embed_query(NL_QUERY)])
    assert _min_cosine(query, tiny_model.encode_query([NL_QUERY], adapter="text2code")) > 0.999999


def test_code2code_task_applies_to_documents_and_queries(tiny_model) -> None:
    embeddings = LoRACodeEmbeddings(language="python", task="code2code", model=tiny_model)
    doc = embeddings.embed_documents([CODE_QUERY])
    assert _min_cosine(doc, tiny_model.encode_code([CODE_QUERY], adapter="code2code")) > 0.999999
    query = [embeddings.embed_query(NL_QUERY)]
    assert _min_cosine(query, tiny_model.encode_query([NL_QUERY], adapter="code2code")) > 0.999999


def test_empty_string_document_is_embedded(default_model) -> None:
    [vector] = LoRACodeEmbeddings(language="python", model=default_model).embed_documents([""])
    assert len(vector) == default_model.embedding_dim


async def test_async_runs_off_the_event_loop_and_matches_sync(default_model) -> None:
    embeddings = LoRACodeEmbeddings(language="python", model=default_model)
    loop_thread = threading.get_ident()
    seen: list[int] = []
    original = default_model.encode_code

    class Spy:
        def __getattr__(self, name):
            return getattr(default_model, name)

        def encode_code(self, *args, **kwargs):
            seen.append(threading.get_ident())
            return original(*args, **kwargs)

    spied = LoRACodeEmbeddings(language="python", model=Spy())
    texts = ["def f():\n    return 1\n", "class A:\n    pass\n"]
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0)

    task = asyncio.create_task(ticker())
    async_vectors = await spied.aembed_documents(texts)
    task.cancel()
    assert seen and all(ident != loop_thread for ident in seen)
    assert ticks > 1, "the event loop was blocked while the model ran"
    assert async_vectors == embeddings.embed_documents(texts)
    assert await embeddings.aembed_query(NL_QUERY) == embeddings.embed_query(NL_QUERY)
    assert await embeddings.aembed_documents([]) == []


@pytest.mark.parametrize("texts", [[None], ["ok", 3]])
def test_bad_items_raise_before_any_model_call(default_model, texts) -> None:
    with pytest.raises(TypeError, match=r"texts\[\d\] must be a string"):
        LoRACodeEmbeddings(language="python", model=default_model).embed_documents(texts)
