"""Security: token and loopback rules, nothing outside the tree, limits with clear 4xx errors."""

from __future__ import annotations

import os

import httpx
import pytest
from starlette.testclient import TestClient

from loracode_serve import Limits, WarmIndex, check_bind, create_app, create_mcp


@pytest.fixture
def guarded(warm):
    return TestClient(
        create_app(warm, token="s3cret-token", mcp=create_mcp(warm)), base_url="http://10.1.2.3:8765"
    )


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.5", "::"])
def test_non_loopback_bind_needs_a_token(host):
    with pytest.raises(ValueError, match="--token"):
        check_bind(host, None)
    check_bind(host, "t")  # with a token it is allowed


def test_cli_refuses_public_bind_without_token(tree, monkeypatch, capsys):
    from loracode_embed.cli import main

    monkeypatch.delenv("LORACODE_SERVE_TOKEN", raising=False)
    assert main(["serve", str(tree), "--host", "0.0.0.0"]) == 1
    assert "LORACODE_SERVE_TOKEN" in capsys.readouterr().err
    assert not (tree / ".loracode" / "server.json").exists()


@pytest.mark.parametrize("path", ["/v1/models", "/v1/status", "/v1/health"])
def test_token_required_on_every_route(guarded, path):
    assert guarded.get(path).status_code == 401
    wrong = guarded.get(path, headers={"Authorization": "Bearer s3cret-tokem"})
    assert wrong.status_code == 401 and wrong.json()["error"]["param"] == "authorization"
    assert guarded.get(path, headers={"Authorization": "Bearer s3cret-token"}).status_code == 200


def test_token_required_on_post_and_mcp(guarded):
    assert guarded.post("/v1/embeddings", json={"input": "x"}).status_code == 401
    assert guarded.post("/v1/search", json={"query": "x"}).status_code == 401
    assert guarded.post("/mcp", json={"jsonrpc": "2.0", "id": 1, "method": "ping"}).status_code == 401


def test_token_is_compared_in_constant_time():
    import inspect

    from loracode_serve import http

    assert "hmac.compare_digest" in inspect.getsource(http.AccessGuard.__call__)


def test_without_token_only_loopback_host_headers(warm):
    app = create_app(warm)
    assert TestClient(app, base_url="http://127.0.0.1:8765").get("/v1/health").status_code == 200
    assert TestClient(app, base_url="http://localhost:8765").get("/v1/health").status_code == 200
    rebound = TestClient(app, base_url="http://attacker.example:8765").get("/v1/health")
    assert rebound.status_code == 403 and rebound.json()["error"]["param"] == "host"


@pytest.fixture
def api(warm):
    return TestClient(create_app(warm), base_url="http://127.0.0.1")


@pytest.mark.parametrize(
    "glob",
    ["../*", "pkg/../../etc/passwd", "/etc/*", "~/secrets/*", "C:/Windows/*", "..\\x", ["pkg/*", "../*"]],
)
def test_path_glob_outside_the_tree_is_rejected(api, glob):
    response = api.post("/v1/search", json={"query": "x", "path_glob": glob})
    assert response.status_code == 400
    assert response.json()["error"]["param"] == "path_glob"


def test_symlinked_out_files_never_in_results(warm, tree, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    secret = "def leak_secret_token():\n    return 'hunter2-' + str(42)\n"
    (outside / "secret.py").write_text(secret)
    (tree / "leak.py").write_text(secret)
    warm.refresh()
    assert [h.path for h in warm.find_similar(secret, k=1)] == ["leak.py"]
    (tree / "leak.py").unlink()
    (tree / "leak.py").symlink_to(outside / "secret.py")  # now a link out of the tree (not re-indexed yet)
    assert "leak.py" not in [h.path for h in warm.find_similar(secret, k=10)]
    (tree / "linked.py").symlink_to(outside / "secret.py")
    warm.refresh()  # the walk never follows links: neither file is indexed any more
    assert {"leak.py", "linked.py"}.isdisjoint(h.path for h in warm.find_similar(secret, k=10))


@pytest.mark.parametrize(
    ("body", "status", "param"),
    [
        ({"input": ["x"] * 9}, 413, "input"),
        ({"input": "y" * 101}, 413, "input"),
        ({"input": ["ok", "z" * 101]}, 413, "input"),
        ({"input": []}, 400, "input"),
        ({"input": [[1, 2, 3]]}, 400, "input"),
        ({}, 400, "input"),
        ({"input": "x", "model": "gpt-4"}, 404, "model"),
        ({"input": "x", "dimensions": 3}, 400, "dimensions"),
        ({"input": "x", "input_type": "passage"}, 400, "input_type"),
        ({"input": "x", "language": "klingon"}, 400, "language"),
        ({"input": "x", "encoding_format": "int8"}, 400, "encoding_format"),
        ({"input": "x", "model": "loracode/code2code", "task": "text2code"}, 400, "task"),
    ],
)
def test_embedding_limits_and_errors_name_the_field(tree, tiny_model, body, status, param):
    with WarmIndex(tree, model=tiny_model, limits=Limits(max_inputs=8, max_chars=100, max_k=5)) as warm:
        response = TestClient(create_app(warm), base_url="http://127.0.0.1").post("/v1/embeddings", json=body)
    assert response.status_code == status, response.text
    assert response.json()["error"]["param"] == param
    assert response.json()["error"]["message"]


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"query": "x", "k": 6}, "k"),
        ({"query": "x", "k": 0}, "k"),
        ({"query": "x", "k": "3"}, "k"),
        ({"query": ""}, "query"),
        ({"query": "q" * 101}, "query"),
        ({"query": "x", "mode": "fuzzy"}, "mode"),
        ({"query": "x", "limit": 3}, "limit"),
        ({"k": 3}, "query"),
    ],
)
def test_search_limits_and_errors_name_the_field(tree, tiny_model, body, param):
    with WarmIndex(tree, model=tiny_model, limits=Limits(max_inputs=8, max_chars=100, max_k=5)) as warm:
        warm.refresh()
        before = warm.status()
        response = TestClient(create_app(warm), base_url="http://127.0.0.1").post("/v1/search", json=body)
        after = warm.status()
    assert 400 <= response.status_code < 500
    assert response.json()["error"]["param"] == param
    assert (before["files"], before["chunks"]) == (after["files"], after["chunks"])  # nothing stored touched


def test_body_size_and_json_errors(tree, tiny_model):
    with WarmIndex(tree, model=tiny_model, limits=Limits(max_body_bytes=1000)) as warm:
        api = TestClient(create_app(warm), base_url="http://127.0.0.1")
        assert api.post("/v1/embeddings", json={"input": "x" * 2000}).status_code == 413
        bad = api.post("/v1/search", content=b"{not json", headers={"content-type": "application/json"})
        assert bad.status_code == 400 and "JSON" in bad.json()["error"]["message"]


def test_live_server_binds_loopback_only(live):
    import socket

    assert live.host == "127.0.0.1"
    assert httpx.get(live.url + "/v1/health").json()["pid"] == os.getpid()
    other = [
        a
        for a in {i[4][0] for i in socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET)}
        if not a.startswith("127.")
    ]
    for address in other:  # the machine's other addresses do not answer
        with pytest.raises(httpx.ConnectError):
            httpx.get(f"http://{address}:{live.port}/v1/health", timeout=2)
