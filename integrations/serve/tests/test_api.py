"""The public surface: a sorted, complete ``__all__``; dependencies point one way."""

from __future__ import annotations

import subprocess
import sys

import loracode_serve


def test_all_is_sorted_and_complete():
    assert loracode_serve.__all__ == sorted(loracode_serve.__all__)
    assert set(loracode_serve.__all__) == set(loracode_serve._HOMES)
    for name in loracode_serve.__all__:
        assert getattr(loracode_serve, name).__name__ == name


def test_registering_the_command_stays_light():
    code = (
        "import sys; from loracode_embed.cli import build_parser; build_parser(); "
        "print([m for m in ('mcp', 'uvicorn', 'watchfiles', 'starlette') if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


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
