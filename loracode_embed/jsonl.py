"""Reading JSON-lines files (plain or gzip) with errors that name the file, the line and the field.

Every reader of pairs in the package (mined shards, ``loracode eval --pairs``, training data, the
shared CONCODE set) goes through here, so bad input reads the same everywhere.

Example:
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "pairs.jsonl"
    >>> _ = path.write_text('{"query": "add", "code": "a + b"}\\n\\n{"query": 3}\\n')
    >>> for n, rec in iter_objects(path):
    ...     require_strings(rec, ("query", "code"), path, n)
    Traceback (most recent call last):
    ...
    ValueError: ...pairs.jsonl: line 3: field 'query' must be a string, got int
"""

from __future__ import annotations

import gzip
import json
import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any


def iter_objects(path: str | os.PathLike[str]) -> Iterator[tuple[int, dict[str, Any]]]:
    """``(line number, object)`` for each non-blank line; ``.gz`` files are decompressed.

    Raises:
        ValueError: a line is not valid JSON or not a JSON object (names file and line).
    """
    path = Path(path)
    opener = gzip.open if path.name.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8") as handle:
        for lineno, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                raise ValueError(f"{path}: line {lineno} is not valid JSON: {exc}") from exc
            if not isinstance(record, dict):
                raise ValueError(f"{path}: line {lineno} is not a JSON object, got {type(record).__name__}")
            yield lineno, record


def require_strings(
    record: dict[str, Any], fields: Iterable[str], path: str | os.PathLike[str], lineno: int
) -> None:
    """Raise ``ValueError`` naming file, line and field unless every field is present and a string."""
    for key in fields:
        if key not in record:
            raise ValueError(
                f"{os.fspath(path)}: line {lineno} has no {key!r} field (fields: {sorted(record)})"
            )
        if not isinstance(record[key], str):
            raise ValueError(
                f"{os.fspath(path)}: line {lineno}: field {key!r} must be a string, "
                f"got {type(record[key]).__name__}"
            )
