"""The HTTP API: OpenAI-compatible embeddings, search, status; the MCP endpoint is mounted at ``/mcp``.

Routes (JSON in and out; errors as ``{"error": {"message", "type", "param", "code"}}``, ``param`` naming
the field at fault):

* ``GET /v1/models``: ``loracode/auto``, ``loracode/base`` and ``loracode/<adapter>`` for each adapter.
* ``POST /v1/embeddings``: OpenAI's request (``input``, ``model``, ``encoding_format`` ``float`` or
  ``base64``, ``dimensions``), plus ``input_type`` (``query`` or ``document``, default ``document``),
  ``language`` and ``task``; with the ``openai`` client pass them as ``extra_body``.
* ``POST /v1/search``: ``query``, ``k``, ``language``, ``path_glob``, ``mode``, ``task`` -> hits; with
  ``index_dir`` (what ``loracode search`` sends) the server answers 409 unless that is its index folder.
* ``POST /v1/similar``: ``code``, ``language``, ``k`` -> hits.
* ``GET /v1/status``, ``GET /v1/health``; ``POST /v1/reindex`` (what ``loracode index`` calls).

Access (:class:`AccessGuard`): with a token every request needs ``Authorization: Bearer <token>``
(compared with ``hmac.compare_digest``), else 401. Without one the server is loopback-only, and requests
whose ``Host`` header is not a loopback name get 403 (a web page cannot reach it through DNS rebinding).

Example:
    >>> import tempfile
    >>> from starlette.testclient import TestClient
    >>> from loracode_qdrant.testing import FakeModel
    >>> from loracode_serve.warm import WarmIndex
    >>> warm = WarmIndex(tempfile.mkdtemp(), model=FakeModel())
    >>> client = TestClient(create_app(warm), base_url="http://127.0.0.1")
    >>> client.get("/v1/models").json()["data"][0]["id"]
    'loracode/auto'
    >>> client.post("/v1/search", json={"query": "x", "k": 0}).json()["error"]["param"]
    'k'
    >>> warm.close()
"""

from __future__ import annotations

import base64
import contextlib
import hmac
import json
import logging
import os
from collections.abc import AsyncIterator, Callable
from functools import partial
from pathlib import Path
from typing import Any

import anyio.to_thread
import numpy as np
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Mount, Route
from starlette.types import ASGIApp, Receive, Scope, Send

from loracode_serve.limits import RequestError, check_choice
from loracode_serve.warm import WarmIndex

logger = logging.getLogger(__name__)

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1", "[::1]"})


def hit_json(hit: Any, snippet_lines: int = 12) -> dict[str, Any]:
    """A hit as the API returns it: its fields, plus ``snippet`` (the first non-blank lines)."""
    return {**hit.to_dict(), "snippet": hit.snippet(snippet_lines)}


def _error(exc: RequestError) -> JSONResponse:
    return JSONResponse(exc.to_json(), status_code=exc.status)


async def _json_body(request: Request, warm: WarmIndex) -> dict[str, Any]:
    size = request.headers.get("content-length")
    if size is not None and size.isdigit() and int(size) > warm.limits.max_body_bytes:
        raise RequestError(
            None,
            f"request body has {size} bytes; the limit is {warm.limits.max_body_bytes}",
            status=413,
            code="body_too_large",
        )
    raw = b""
    async for part in request.stream():
        raw += part
        if len(raw) > warm.limits.max_body_bytes:
            raise RequestError(
                None,
                f"request body is over the limit of {warm.limits.max_body_bytes} bytes",
                status=413,
                code="body_too_large",
            )
    try:
        body = json.loads(raw)
    except ValueError as exc:
        raise RequestError(None, f"request body must be JSON: {exc}", code="invalid_json") from exc
    if not isinstance(body, dict):
        raise RequestError(None, f"request body must be a JSON object, got {type(body).__name__}")
    return body


def _unknown_fields(body: dict[str, Any], allowed: set[str]) -> None:
    extra = sorted(set(body) - allowed)
    if extra:
        raise RequestError(extra[0], f"unknown field {extra[0]!r}; allowed: {', '.join(sorted(allowed))}")


def _endpoint(warm: WarmIndex, handler: Callable[[Request, WarmIndex], Any]) -> Callable[[Request], Any]:
    async def endpoint(request: Request) -> JSONResponse:
        try:
            return await handler(request, warm)
        except RequestError as exc:
            return _error(exc)
        except FileNotFoundError as exc:  # no index yet
            return _error(RequestError(None, str(exc), status=503, code="index_not_ready"))

    return endpoint


async def _models(request: Request, warm: WarmIndex) -> JSONResponse:
    data = [
        {"id": name, "object": "model", "created": int(warm.started), "owned_by": "loracode"}
        for name in warm.model_names()
    ]
    return JSONResponse({"object": "list", "data": data})


async def _embeddings(request: Request, warm: WarmIndex) -> JSONResponse:
    body = await _json_body(request, warm)  # other fields are ignored, as OpenAI-compatible servers do
    if "input" not in body:
        raise RequestError("input", "input is required: a string or a list of strings")
    fmt = check_choice(body.get("encoding_format") or "float", "encoding_format", ("float", "base64"))
    dims = body.get("dimensions")
    if dims is not None and dims != warm.model.embedding_dim:
        raise RequestError(
            "dimensions",
            f"dimensions must be {warm.model.embedding_dim} (this model's size) or left out, got {dims!r}",
        )
    model = body.get("model", "loracode/auto")
    texts = body["input"] if isinstance(body["input"], list) else [body["input"]]
    vectors = await anyio.to_thread.run_sync(
        partial(
            warm.embed,
            body["input"],
            model=model,
            input_type=body.get("input_type", "document"),
            language=body.get("language"),
            task=body.get("task"),
        ),
    )
    tokens = await anyio.to_thread.run_sync(warm.count_tokens, texts)
    vectors = np.ascontiguousarray(vectors, dtype="<f4")
    data = [
        {
            "object": "embedding",
            "index": i,
            "embedding": base64.b64encode(row.tobytes()).decode("ascii") if fmt == "base64" else row.tolist(),
        }
        for i, row in enumerate(vectors)
    ]
    return JSONResponse(
        {
            "object": "list",
            "data": data,
            "model": model,
            "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
        }
    )


_SEARCH_FIELDS = {"query", "k", "language", "path_glob", "mode", "task", "index_dir"}


def _check_index_dir(value: Any, warm: WarmIndex) -> None:
    """Refuse (409) a request meant for another index: ``value`` is the folder the client expects."""
    try:
        expected = Path(value).resolve() if isinstance(value, str) and value else None
    except (OSError, RuntimeError, ValueError):  # a symlink loop, a NUL byte
        expected = None
    if expected is None:
        raise RequestError("index_dir", f"index_dir must be a folder path, got {value!r:.200}")
    if expected != Path(warm.index_dir).resolve():
        raise RequestError(
            "index_dir",
            f"this server holds the index at {warm.index_dir}, not {value!r:.200}",
            status=409,
            code="index_mismatch",
        )


async def _search(request: Request, warm: WarmIndex) -> JSONResponse:
    body = await _json_body(request, warm)
    _unknown_fields(body, _SEARCH_FIELDS)
    if "index_dir" in body:
        _check_index_dir(body["index_dir"], warm)
    if "query" not in body:
        raise RequestError("query", "query is required: natural-language text or a piece of code")
    hits = await anyio.to_thread.run_sync(
        partial(
            warm.search,
            body["query"],
            k=body.get("k"),
            language=body.get("language"),
            path_glob=body.get("path_glob"),
            mode=body.get("mode", "auto"),
            task=body.get("task", "auto"),
        ),
    )
    return JSONResponse({"object": "list", "data": [hit_json(h) for h in hits]})


async def _similar(request: Request, warm: WarmIndex) -> JSONResponse:
    body = await _json_body(request, warm)
    _unknown_fields(body, {"code", "language", "k"})
    if "code" not in body:
        raise RequestError("code", "code is required: the piece of code to find similar code for")
    hits = await anyio.to_thread.run_sync(
        partial(warm.find_similar, body["code"], language=body.get("language"), k=body.get("k")),
    )
    return JSONResponse({"object": "list", "data": [hit_json(h) for h in hits]})


async def _status(request: Request, warm: WarmIndex) -> JSONResponse:
    return JSONResponse(await anyio.to_thread.run_sync(warm.status))


async def _health(request: Request, warm: WarmIndex) -> JSONResponse:
    return JSONResponse(
        {"status": "ok", "pid": os.getpid(), "root": str(warm.root), "index_dir": str(warm.index_dir)}
    )


async def _reindex(request: Request, warm: WarmIndex) -> JSONResponse:
    await _json_body(request, warm)
    summary = await anyio.to_thread.run_sync(warm.refresh)
    return JSONResponse({"summary": summary.to_dict()})


class AccessGuard:
    """ASGI middleware: a bearer token when one is set; otherwise loopback ``Host`` headers only.

    Args:
        app: The wrapped application.
        token: The token every request must present (``None``: no token, loopback only).
    """

    def __init__(self, app: ASGIApp, token: str | None) -> None:
        self.app = app
        self.token = token.encode("utf-8") if token else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v for k, v in scope.get("headers", [])}
        if self.token is not None:
            given = headers.get("authorization", b"")
            scheme, _, value = given.partition(b" ")
            if scheme.lower() != b"bearer" or not hmac.compare_digest(value.strip(), self.token):
                error = RequestError(
                    "authorization",
                    "missing or wrong bearer token (send the header 'Authorization: Bearer <token>')",
                    status=401,
                    code="invalid_token",
                )
                response = JSONResponse(
                    error.to_json(), status_code=401, headers={"WWW-Authenticate": "Bearer"}
                )
                await response(scope, receive, send)
                return
        else:
            host = headers.get("host", b"").decode("latin-1")
            name = host.rsplit(":", 1)[0] if not host.endswith("]") else host
            if name.lower() not in LOOPBACK_HOSTS:
                error = RequestError(
                    "host",
                    f"Host header {host!r} is not a loopback name; this server has no "
                    "token, so it only answers requests addressed to 127.0.0.1 or localhost",
                    status=403,
                    code="host_not_allowed",
                )
                await JSONResponse(error.to_json(), status_code=403)(scope, receive, send)
                return
        await self.app(scope, receive, send)


def create_app(warm: WarmIndex, *, token: str | None = None, mcp: Any = None) -> ASGIApp:
    """The ASGI application: the ``/v1`` routes, and ``mcp`` (an ``MCPServer``) at ``/mcp`` if given.

    Args:
        warm: The index and model served.
        token: Bearer token required on every request (``None``: loopback ``Host`` headers only).
        mcp: An ``mcp.server.mcpserver.MCPServer`` to serve over streamable HTTP at ``/mcp``.
    """
    routes: list[Route | Mount] = [
        Route("/v1/models", _endpoint(warm, _models), methods=["GET"]),
        Route("/v1/embeddings", _endpoint(warm, _embeddings), methods=["POST"]),
        Route("/v1/search", _endpoint(warm, _search), methods=["POST"]),
        Route("/v1/similar", _endpoint(warm, _similar), methods=["POST"]),
        Route("/v1/status", _endpoint(warm, _status), methods=["GET"]),
        Route("/v1/health", _endpoint(warm, _health), methods=["GET"]),
        Route("/v1/reindex", _endpoint(warm, _reindex), methods=["POST"]),
    ]
    lifespan = None
    if mcp is not None:
        from mcp.server.transport_security import TransportSecuritySettings

        # Host checks are AccessGuard's (the same for every route), so the SDK's own are off.
        mcp_app = mcp.streamable_http_app(
            transport_security=TransportSecuritySettings(enable_dns_rebinding_protection=False)
        )
        routes.append(Mount("/", app=mcp_app))

        @contextlib.asynccontextmanager
        async def lifespan(app: Starlette) -> AsyncIterator[None]:
            async with mcp.session_manager.run():
                yield

    app = Starlette(routes=routes, lifespan=lifespan)
    return AccessGuard(app, token)
