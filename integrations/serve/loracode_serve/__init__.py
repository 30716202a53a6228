"""loracode-serve: one warm process serving a tree's code index to agents (MCP) and over HTTP.

``loracode serve [TREE]`` holds the model, its adapters and the index warm, keeps the index current
(``--watch``), and serves MCP tools (stdio or streamable HTTP), OpenAI-compatible ``/v1/embeddings`` and
``/v1/search``. The pieces, each usable alone:

* :class:`WarmIndex` (``warm``): the model and index, shared by everything below;
* :func:`create_app` (``http``): the HTTP routes, and the MCP endpoint at ``/mcp``;
* :func:`create_mcp` (``mcp_tools``): the MCP server and its tools;
* :class:`Watcher` (``watch``): re-indexes after file changes;
* :class:`HttpServer` (``runner``): uvicorn, plus the discovery file ``loracode search`` looks for.

Example (it starts a server, so it is shown here and exercised by the tests, not run as a doctest)::

    from loracode_serve import HttpServer, WarmIndex, create_app, create_mcp

    warm = WarmIndex("~/src/myrepo")
    warm.refresh()
    HttpServer(create_app(warm, mcp=create_mcp(warm)), warm).run()
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from loracode_serve.http import AccessGuard, create_app
    from loracode_serve.limits import Limits, RequestError
    from loracode_serve.mcp_tools import CodeHit, create_mcp
    from loracode_serve.runner import HttpServer, check_bind
    from loracode_serve.warm import WarmIndex
    from loracode_serve.watch import Watcher

# Lazy: `loracode --help` and `loracode search` import this package (through the `serve` command's
# registration) and must not pay for the MCP SDK, uvicorn or watchfiles.
_HOMES = {
    "AccessGuard": "http",
    "CodeHit": "mcp_tools",
    "HttpServer": "runner",
    "Limits": "limits",
    "RequestError": "limits",
    "WarmIndex": "warm",
    "Watcher": "watch",
    "check_bind": "runner",
    "create_app": "http",
    "create_mcp": "mcp_tools",
}

__all__ = [
    "AccessGuard",
    "CodeHit",
    "HttpServer",
    "Limits",
    "RequestError",
    "WarmIndex",
    "Watcher",
    "check_bind",
    "create_app",
    "create_mcp",
]
__version__ = "0.1.0"


def __getattr__(name: str) -> Any:
    if name in _HOMES:
        return getattr(importlib.import_module(f"loracode_serve.{_HOMES[name]}"), name)
    raise AttributeError(f"module 'loracode_serve' has no attribute {name!r}")
