"""The HTTP API through the official ``openai`` client and plain HTTP, against a real server on 127.0.0.1."""

from __future__ import annotations

import httpx
import numpy as np
import openai
import pytest

CODE = ["def add(a, b):\n    return a + b\n", "func Add(a, b int) int { return a + b }"]
QUERIES = ["add two numbers", "reverse the words of a sentence"]


@pytest.fixture
def client(live) -> openai.OpenAI:
    return openai.OpenAI(base_url=live.url + "/v1", api_key="unused", max_retries=0)


def _vectors(response) -> np.ndarray:
    return np.array([d.embedding for d in sorted(response.data, key=lambda d: d.index)], dtype=np.float32)


def test_models_lists_every_adapter(client, tiny_model):
    ids = [m.id for m in client.models.list()]
    assert ids == ["loracode/auto", "loracode/base"] + [f"loracode/{a}" for a in tiny_model.adapters]


@pytest.mark.parametrize("encoding_format", ["float", "base64"])
def test_document_vectors_equal_in_process(client, tiny_model, encoding_format):
    kwargs = (
        {} if encoding_format == "base64" else {"encoding_format": "float"}
    )  # the client defaults to base64
    response = client.embeddings.create(
        model="loracode/text2code-python",
        input=CODE,
        extra_body={"input_type": "document", "language": "python"},
        **kwargs,
    )
    expected = tiny_model.encode_code(CODE, languages="python", task="text2code", adapter="text2code-python")
    np.testing.assert_allclose(_vectors(response), expected, rtol=0, atol=1e-6)
    assert response.usage.prompt_tokens == sum(tiny_model.count_tokens(CODE))


def test_query_vectors_equal_in_process_and_model_selects_adapter(client, tiny_model):
    got = {}
    for name in ("text2code-python", "code2code", "base"):
        response = client.embeddings.create(
            model=f"loracode/{name}",
            input=QUERIES,
            encoding_format="float",
            extra_body={"input_type": "query"},
        )
        got[name] = _vectors(response)
    np.testing.assert_allclose(
        got["text2code-python"],
        tiny_model.encode_query(QUERIES, task="text2code", adapter="text2code-python"),
        atol=1e-6,
    )
    np.testing.assert_allclose(
        got["code2code"], tiny_model.encode_query(QUERIES, task="code2code", adapter="code2code"), atol=1e-6
    )
    np.testing.assert_allclose(got["base"], tiny_model.encode_query(QUERIES, adapter="base"), atol=1e-6)
    assert not np.allclose(got["text2code-python"], got["code2code"], atol=1e-3)  # adapters are not no-ops
    assert not np.allclose(got["text2code-python"], got["base"], atol=1e-3)


def test_auto_model_routes_like_in_process(client, tiny_model):
    query = client.embeddings.create(
        model="loracode/auto",
        input=QUERIES[0],
        encoding_format="float",
        extra_body={"input_type": "query", "language": "python"},
    )
    np.testing.assert_allclose(
        _vectors(query), tiny_model.encode_query([QUERIES[0]], language="python"), atol=1e-6
    )
    docs = client.embeddings.create(
        model="loracode/auto",
        input=CODE,
        encoding_format="float",
        extra_body={"language": "go", "task": "code2code"},
    )
    np.testing.assert_allclose(
        _vectors(docs), tiny_model.encode_code(CODE, languages="go", task="code2code"), atol=1e-6
    )


def test_unknown_model_is_404_naming_model(client):
    with pytest.raises(openai.NotFoundError) as info:
        client.embeddings.create(model="loracode/text2code-cobol", input="x")
    assert info.value.body["param"] == "model"
    assert "loracode/code2code" in info.value.body["message"]  # the available names are listed


def test_search_matches_in_process(live, warm):
    chunk = warm.search("parse a json config", k=10, task="text2code")
    body = {"query": "parse a json config", "k": 10, "task": "text2code"}
    data = httpx.post(live.url + "/v1/search", json=body).json()["data"]
    assert [(h["path"], h["start_line"], h["score"]) for h in data] == [
        (h.path, h.start_line, h.score) for h in chunk
    ]
    assert {h["path"] for h in data} <= {"net.py", "pkg/parse.py", "cmd/main.go"}


def test_search_by_exact_code_finds_that_chunk(live, warm):
    target = next(h for h in warm.search("sort pairs", k=20) if h.symbol == "sort_pairs")
    data = httpx.post(live.url + "/v1/similar", json={"code": target.text, "k": 3}).json()["data"]
    assert (data[0]["path"], data[0]["symbol"]) == ("pkg/parse.py", "sort_pairs")
    assert data[0]["score"] > 0.99
    assert data[0]["snippet"].startswith("def sort_pairs")


def test_path_glob_and_language_filter(live):
    data = httpx.post(
        live.url + "/v1/search", json={"query": "words", "k": 10, "path_glob": "pkg/**"}
    ).json()["data"]
    assert data and {h["path"] for h in data} == {"pkg/parse.py"}
    data = httpx.post(live.url + "/v1/search", json={"query": "words", "k": 10, "language": "go"}).json()[
        "data"
    ]
    assert data and {h["language"] for h in data} == {"go"}


def test_status_reports_the_index(live):
    status = httpx.get(live.url + "/v1/status").json()
    assert status["state"] == "ready"
    assert status["files"] == 3
    assert set(status["languages"]) == {"python", "go"}
    assert status["last_index"]["added"] == 3
