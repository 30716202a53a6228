"""The public surface: a sorted, complete ``__all__``; dependencies point one way."""

from __future__ import annotations

import subprocess
import sys

import loracode_serve


def test_all_is_sorted_and_complete():
    assert loracode_serve.__all__ == sorted(loracode_serve.__all__)
    public = {name for name in vars(loracode_serve) if not name.startswith("_")}
    modules = {"cli", "http", "limits", "mcp_tools", "runner", "warm", "watch", "annotations"}
    assert public - modules == set(loracode_serve.__all__)


def test_core_and_indexer_do_not_import_the_server():
    code = (
        "import sys, loracode_embed, loracode_qdrant, loracode_qdrant.cli, loracode_embed.cli; "
        "names = ('loracode_serve', 'mcp', 'uvicorn', 'starlette', 'watchfiles'); "
        "bad = [m for m in names if m in sys.modules]; "
        "print(bad)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_serve_command_is_registered():
    from loracode_embed.cli import build_parser

    args = build_parser().parse_args(["serve", ".", "--watch", "--stdio"])
    assert args.watch and args.stdio and args.host == "127.0.0.1"
