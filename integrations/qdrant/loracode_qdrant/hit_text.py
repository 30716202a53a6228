"""How ``loracode search`` prints hits, in a module that imports nothing (not even ``dataclasses``).

Both ways a search runs print through here: in-process and through the server (:class:`~.hits.Hit`
objects), and the one-request path of :mod:`loracode_qdrant.server_search`, which keeps the server's hits
as plain objects so that a shell search need not import ``dataclasses`` (and ``inspect`` with it).

Example:
    >>> from types import SimpleNamespace
    >>> hit = SimpleNamespace(path="net.py", start_line=3, symbol="fetch", kind="function", score=0.8123,
    ...                       language="python", parts=1, text="def fetch(url):\\n\\n    return get(url)\\n")
    >>> print(format_hits([hit], lines=2))
    net.py:3  fetch  0.812 [python, function]
        def fetch(url):
            return get(url)
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import Any

#: The fields of a hit, in :class:`~.hits.Hit`'s order (what ``--json`` prints, and what the server sends,
#: plus its ``snippet``).
HIT_FIELDS = ("path", "start_line", "end_line", "symbol", "kind", "language", "score", "text", "space",
              "rank_score", "parts")  # fmt: skip


def snippet(text: str, max_lines: int = 4) -> str:
    """The first ``max_lines`` non-blank lines of ``text``."""
    lines = [line for line in text.splitlines() if line.strip()]
    return "\n".join(lines[:max_lines])


def format_hits(hits: Sequence[Any], lines: int = 4, color: bool = False) -> str:
    """Hits as ``path:line  symbol  score`` headers, each followed by an indented snippet."""
    if not hits:
        return "No results."
    bold, dim, reset = ("\033[1m", "\033[2m", "\033[0m") if color else ("", "", "")
    out = []
    for hit in hits:
        symbol = hit.symbol or f"<{hit.kind}>"
        parts = f", best of {hit.parts} parts" if hit.parts > 1 else ""
        out.append(f"{bold}{hit.path}:{hit.start_line}{reset}  {symbol}  {dim}{hit.score:.3f} "
                   f"[{hit.language}, {hit.kind}{parts}]{reset}")  # fmt: skip
        for line in snippet(hit.text, lines).splitlines():
            out.append(f"    {line[:160]}")
        out.append("")
    return "\n".join(out).rstrip()
