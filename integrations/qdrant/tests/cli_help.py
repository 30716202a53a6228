"""Regenerate the CLI reference at the end of docs/indexing.md from the parser (the tests check it).

PYTHONPATH=.:integrations/qdrant python integrations/qdrant/tests/cli_help.py
"""

from __future__ import annotations

import contextlib
import io
import os
from pathlib import Path

COMMANDS = ("index", "search", "status")
DOCS = Path(__file__).resolve().parents[3] / "docs" / "indexing.md"


def help_text(command: str) -> str:
    """``loracode COMMAND --help`` at 100 columns."""
    from loracode_embed.cli import build_parser

    os.environ["COLUMNS"] = "100"
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.suppress(SystemExit):
        build_parser().parse_args([command, "--help"])
    return out.getvalue().strip()


def main() -> None:
    text = DOCS.read_text(encoding="utf-8")
    start = text.index("```text\nusage: loracode index")
    end = text.index("```", start + 7) + 3
    block = "```text\n" + "\n\n".join(help_text(c) for c in COMMANDS) + "\n```"
    DOCS.write_text(text[:start] + block + text[end:], encoding="utf-8")


if __name__ == "__main__":
    main()
