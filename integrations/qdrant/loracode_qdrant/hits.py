"""``Hit``, one search result, in a module that imports only the standard library.

``loracode search`` answered by a running ``loracode serve`` builds its hits from the server's JSON with
this class, without importing the index (numpy, tree-sitter, Qdrant). :mod:`loracode_qdrant.index`
re-exports it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from loracode_qdrant.hit_text import snippet


@dataclass
class Hit:
    """One search result.

    Attributes:
        path: File path relative to the indexed root.
        start_line: First line (1-based).
        end_line: Last line (inclusive).
        symbol: ``Class.method`` or ``None`` (module-level code, windows).
        kind: ``function``, ``class``, ``module``, ``window`` (``-part`` for a piece of a long one).
        language: Canonical language id.
        score: Cosine similarity in the space it was found in.
        text: The chunk's source text.
        space: The embedding space (``"base"`` or an adapter name) it was found in.
        rank_score: The fused score that ordered it (equal to ``score`` when one space was searched).
        parts: How many parts of this definition were among the results (a long function is stored
            in parts; the hit shows the best one).
    """

    path: str
    start_line: int
    end_line: int
    symbol: str | None
    kind: str
    language: str
    score: float
    text: str
    space: str
    rank_score: float
    parts: int = 1

    def snippet(self, max_lines: int = 4) -> str:
        """The first non-blank lines of the chunk."""
        return snippet(self.text, max_lines)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return asdict(self)
