"""LoRACodeEmbedding against direct LoRACodeModel calls: equality, routing, batching, no retries, async."""

from __future__ import annotations

import asyncio
import json
import threading

import numpy as np
import pytest
from loracode_embed.language_guess import guess_language

from llama_index.embeddings.loracode import LoRACodeEmbedding

NL_QUERY = "read a yaml file and return a dict"
CODE_QUERY = "def load(path):\n    with open(path) as f:\n        return yaml.safe_load(f)\n"


def _min_cosine(a, b) -> float:
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    cos = (a * b).sum(axis=1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))
    return float(cos.min())


class Spy:
    """Wraps a LoRACodeModel and records every encode call (the texts of each call)."""

    def __init__(self, model, fail: bool = False) -> None:
        self.model = model
        self.fail = fail
        self.calls: list[tuple[str, list[str], dict]] = []

    def __getattr__(self, name):
        return getattr(self.model, name)

    def encode_code(self, texts, **kwargs):
        self.calls.append(("code", list(texts), kwargs))
        if self.fail:
            raise RuntimeError("inference failed")
        return self.model.encode_code(texts, **kwargs)

    def encode_query(self, texts, **kwargs):
        self.calls.append(("query", list(texts), kwargs))
        if self.fail:
            raise RuntimeError("inference failed")
        return self.model.encode_query(texts, **kwargs)


def test_texts_equal_direct_calls_on_100_real_samples(default_model, real_code_samples) -> None:
    texts = [code for _, code in real_code_samples]
    vectors = LoRACodeEmbedding(model=default_model).get_text_embedding_batch(texts)
    direct = default_model.encode_code(texts, languages=[guess_language(t) for t in texts], task="text2code")
    assert len(vectors) == 100
    assert all(type(v) is list and all(type(x) is float for x in v) for v in vectors)
    assert _min_cosine(vectors, direct) >= 0.999999


def test_queries_equal_direct_calls(default_model, real_code_samples, shared_data) -> None:
    cosqa = json.loads((shared_data / "cosqa" / "cosqa-dev.json").read_text(encoding="utf-8"))
    queries = sorted({item["doc"] for item in cosqa})[:20] + [code for _, code in real_code_samples[::10]]
    embed_model = LoRACodeEmbedding(language="python", model=default_model)
    vectors = [embed_model.get_query_embedding(q) for q in queries]
    direct = default_model.encode_query(queries, language="python", task="auto")
    assert _min_cosine(vectors, direct) >= 0.999999


def test_default_bundle_is_loaded_when_no_model_is_given(default_model) -> None:
    own = LoRACodeEmbedding(language="python")
    assert own.client is not default_model
    assert own.client.fingerprint == default_model.fingerprint
    text = "def add(a, b):\n    return a + b\n"
    assert (
        _min_cosine([own.get_text_embedding(text)], default_model.encode_code([text], languages="python"))
        > 0.999999
    )


def test_routing_with_a_language(tiny_model) -> None:
    embed_model = LoRACodeEmbedding(language="python", model=tiny_model)
    text = embed_model.get_text_embedding(CODE_QUERY)
    assert _min_cosine([text], tiny_model.encode_code([CODE_QUERY], adapter="text2code-python")) > 0.999999
    assert _min_cosine([text], tiny_model.encode_code([CODE_QUERY], adapter="base")) < 0.999
    nl = embed_model.get_query_embedding(NL_QUERY)
    code = embed_model.get_query_embedding(CODE_QUERY)
    assert _min_cosine([nl], tiny_model.encode_query([NL_QUERY], adapter="text2code-python")) > 0.999999
    assert _min_cosine([code], tiny_model.encode_query([CODE_QUERY], adapter="code2code")) > 0.999999


def test_routing_without_a_language(tiny_model) -> None:
    python_code = "def add(self, a, b):\n    return a + b\n"
    go_code = "func (s *Server) Add(a, b int) int {\n\treturn a + b\n}\n"
    embed_model = LoRACodeEmbedding(model=tiny_model)
    py_vec, go_vec = embed_model.get_text_embedding_batch([python_code, go_code])
    assert _min_cosine([py_vec], tiny_model.encode_code([python_code], adapter="text2code-python")) > 0.999999
    assert _min_cosine([go_vec], tiny_model.encode_code([go_code], adapter="text2code")) > 0.999999
    query = embed_model.get_query_embedding(NL_QUERY)
    assert _min_cosine([query], tiny_model.encode_query([NL_QUERY], adapter="text2code")) > 0.999999


def test_respects_embed_batch_size_and_keeps_text_unchanged(tiny_model) -> None:
    texts = [f"def f{i}(x):\n    return x + {i}\n" for i in range(5)]
    spy = Spy(tiny_model)
    vectors = LoRACodeEmbedding(language="python", model=spy, embed_batch_size=2).get_text_embedding_batch(
        texts
    )
    assert [call[1] for call in spy.calls] == [texts[0:2], texts[2:4], texts[4:5]]
    assert all(call[2]["batch_size"] == 2 for call in spy.calls)
    assert _min_cosine(vectors, tiny_model.encode_code(texts, languages="python")) > 0.999999


def test_local_inference_is_not_retried(tiny_model) -> None:
    spy = Spy(tiny_model, fail=True)
    embed_model = LoRACodeEmbedding(language="python", model=spy)
    with pytest.raises(RuntimeError, match="inference failed"):
        embed_model.get_text_embedding_batch(["def f(): pass"])
    with pytest.raises(RuntimeError, match="inference failed"):
        embed_model.get_query_embedding(NL_QUERY)
    assert [call[0] for call in spy.calls] == ["code", "query"]


async def test_async_runs_off_the_event_loop_and_matches_sync(tiny_model) -> None:
    loop_thread = threading.get_ident()
    seen: list[int] = []

    class ThreadSpy(Spy):
        def encode_code(self, texts, **kwargs):
            seen.append(threading.get_ident())
            return super().encode_code(texts, **kwargs)

    embed_model = LoRACodeEmbedding(language="python", model=ThreadSpy(tiny_model), embed_batch_size=2)
    texts = ["def f():\n    return 1\n", "class A:\n    pass\n", "x = [i for i in range(3)]\n"]
    async_vectors = await embed_model.aget_text_embedding_batch(texts)
    assert seen and all(ident != loop_thread for ident in seen)
    assert async_vectors == embed_model.get_text_embedding_batch(texts)
    assert await embed_model.aget_query_embedding(NL_QUERY) == embed_model.get_query_embedding(NL_QUERY)
    assert await embed_model.aget_text_embedding(texts[0]) == embed_model.get_text_embedding(texts[0])
    assert await embed_model.aget_text_embedding_batch([]) == []
    await asyncio.sleep(0)
