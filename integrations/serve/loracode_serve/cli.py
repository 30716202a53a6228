"""``loracode serve``: argument parsing only; the work is in :mod:`loracode_serve.warm` and its users.

Registered into the core ``loracode`` command through the ``loracode_embed.commands`` entry point (see
this distribution's ``pyproject.toml``); neither the core nor the indexer imports this package.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import sys
import threading
from pathlib import Path
from typing import Any

from loracode_embed.precision import DTYPES
from loracode_qdrant.defaults import DEFAULT_INDEX_DIRNAME
from loracode_qdrant.server_link import TOKEN_ENV

from loracode_serve.limits import Limits

logger = logging.getLogger(__name__)

DEFAULT_PORT = 8765


def register(subparsers: Any) -> None:
    """Add the ``serve`` subcommand to the ``loracode`` parser."""
    limits = Limits()
    p = subparsers.add_parser(
        "serve",
        help="serve a tree's code index to agents (MCP) and over HTTP (OpenAI-compatible embeddings)",
        description="Hold the model, its adapters and the index of TREE warm in one process. Serves MCP "
        "(tools search_code, find_similar_code, index_status) over stdio (--stdio) or streamable HTTP "
        "(/mcp), and HTTP: POST /v1/embeddings, GET /v1/models, POST /v1/search. The index is brought up "
        "to date at start; --watch keeps it current while files change. Binds 127.0.0.1 unless --host "
        "says otherwise, which needs a token.",
    )
    p.add_argument(
        "tree", nargs="?", default=".", help="the tree to index and serve (default: current folder)"
    )
    p.add_argument(
        "--stdio",
        action="store_true",
        help="serve MCP on stdin/stdout (what an agent launches); HTTP then listens on a free "
        "loopback port for `loracode search` unless --no-http",
    )
    p.add_argument("--no-http", action="store_true", help="with --stdio: no HTTP listener at all")
    p.add_argument(
        "--host", default="127.0.0.1", help="address to bind (default: 127.0.0.1; others need a token)"
    )
    p.add_argument("--port", type=int, help=f"TCP port (default: {DEFAULT_PORT}; with --stdio a free one)")
    p.add_argument(
        "--token",
        default=os.environ.get(TOKEN_ENV) or None,
        help=f"bearer token required on every request (env {TOKEN_ENV})",
    )
    p.add_argument(
        "--watch", action="store_true", help="re-index changed, new, deleted and renamed files live"
    )
    p.add_argument(
        "--quiet-ms",
        type=int,
        default=150,
        help="--watch debounce: re-index once files were quiet this long (default: 150)",
    )
    p.add_argument("--index-dir", help=f"embedded index folder (default: <tree>/{DEFAULT_INDEX_DIRNAME})")
    p.add_argument("--model", help="model bundle folder (default: the packaged default bundle)")
    p.add_argument("--device", help="device for the model, e.g. cpu or cuda:0 (default: cuda if available)")
    p.add_argument("--dtype", choices=DTYPES, default="auto", help="model precision (default: auto)")
    g = p.add_argument_group("request limits")
    g.add_argument(
        "--max-inputs",
        type=int,
        default=limits.max_inputs,
        help=f"texts per embeddings request (default: {limits.max_inputs})",
    )
    g.add_argument(
        "--max-chars",
        type=int,
        default=limits.max_chars,
        help=f"characters per text or query (default: {limits.max_chars})",
    )
    g.add_argument(
        "--max-k", type=int, default=limits.max_k, help=f"hits per search (default: {limits.max_k})"
    )
    p.set_defaults(func=run_serve)


def run_serve(args: argparse.Namespace) -> int:
    """Start everything ``args`` asks for and serve until stopped."""
    from loracode_serve.http import create_app
    from loracode_serve.mcp_tools import create_mcp
    from loracode_serve.runner import HttpServer, check_bind
    from loracode_serve.warm import WarmIndex
    from loracode_serve.watch import Watcher

    root = Path(args.tree).expanduser()
    if not root.is_dir():
        raise FileNotFoundError(f"No such folder to serve: {args.tree!r}")
    token = args.token or None
    check_bind(args.host, token)
    for name in ("max_inputs", "max_chars", "max_k"):
        if getattr(args, name) < 1:
            raise ValueError(f"--{name.replace('_', '-')} must be at least 1, got {getattr(args, name)}")
    limits = Limits(max_inputs=args.max_inputs, max_chars=args.max_chars, max_k=args.max_k)
    with contextlib.redirect_stdout(sys.stderr):  # under --stdio, stdout carries MCP messages only
        model = None
        if args.model or args.device or args.dtype != "auto":
            from loracode_embed import LoRACodeModel

            model = LoRACodeModel.from_pretrained(args.model, device=args.device, dtype=args.dtype)
        warm = WarmIndex(root, model=model, index_dir=args.index_dir, limits=limits)
    watcher = (
        Watcher(warm, quiet_ms=args.quiet_ms, max_group_ms=max(1000, args.quiet_ms)) if args.watch else None
    )
    try:
        if watcher is not None:
            watcher.start()  # runs the first refresh, then watches
        else:
            threading.Thread(target=_first_refresh, args=(warm,), name="loracode-index", daemon=True).start()
        if args.stdio:
            http = None
            if not args.no_http:
                port = args.port if args.port is not None else 0
                http = HttpServer(create_app(warm, token=token), warm, args.host, port).start()
            try:
                create_mcp(warm).run("stdio")
            finally:
                if http is not None:
                    http.stop()
        else:
            port = args.port if args.port is not None else DEFAULT_PORT
            HttpServer(create_app(warm, token=token, mcp=create_mcp(warm)), warm, args.host, port).run()
    finally:
        if watcher is not None:
            watcher.stop()
        warm.close()
    return 0


def _first_refresh(warm: Any) -> None:
    try:
        warm.refresh()
    except Exception:  # logged by refresh; reported by index_status
        pass
