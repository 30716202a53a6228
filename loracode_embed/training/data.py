"""Pair data: JSON-lines shards of ``{"query", "code", "language", ...}`` into ``anchor``/``positive`` columns.

The mining helper writes ``<root>/<language>/{train,valid,test}-NNNNN.jsonl.gz``; plain ``.jsonl`` and
JSON-list ``.json`` files work too. For code2code pairs the anchor is code (``query`` holds the
source-side code), so the same reader serves both tasks.

Example:
    >>> import gzip, json, tempfile, pathlib
    >>> root = pathlib.Path(tempfile.mkdtemp())
    >>> (root / "python").mkdir()
    >>> with gzip.open(root / "python" / "train-00000.jsonl.gz", "wt") as fh:
    ...     _ = fh.write(json.dumps({"query": "add two numbers", "code": "def add(a, b): return a + b"}) + "\\n")
    >>> files = find_shards(root, ["python"], "train")
    >>> [p.name for p in files]
    ['train-00000.jsonl.gz']
    >>> read_pairs(files)[0]["anchor"]
    'add two numbers'
"""

from __future__ import annotations

import glob
import gzip
import hashlib
import json
import logging
import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

PAIR_SUFFIXES = (".jsonl.gz", ".jsonl", ".json", ".json.gz")


def find_shards(root: str | os.PathLike[str], languages: Sequence[str], split: str) -> list[Path]:
    """The ``<root>/<language>/<split>-*.jsonl[.gz]`` files, sorted; all languages when none are named.

    Raises:
        FileNotFoundError: the root or a named language folder is missing, or no shard matches.
    """
    base = Path(root)
    if not base.is_dir():
        raise FileNotFoundError(f"data_dir {os.fspath(root)!r} is not a directory")
    folders = (
        [base / lang for lang in languages] if languages else sorted(p for p in base.iterdir() if p.is_dir())
    )
    files: list[Path] = []
    for folder in folders:
        if not folder.is_dir():
            available = sorted(p.name for p in base.iterdir() if p.is_dir())
            raise FileNotFoundError(f"no language folder {folder.name!r} in {base}; available: {available}")
        files.extend(p for p in sorted(folder.glob(f"{split}-*")) if p.name.endswith(PAIR_SUFFIXES))
    if not files:
        raise FileNotFoundError(
            f"no {split}-*.jsonl.gz shards under {base} for languages {list(languages) or 'all'}"
        )
    return files


def expand_files(patterns: Sequence[str]) -> list[Path]:
    """Expand file names and glob patterns, in the order given; a pattern matching nothing is an error."""
    files: list[Path] = []
    for pattern in patterns:
        matches = sorted(glob.glob(pattern, recursive=True))
        if not matches:
            raise FileNotFoundError(f"no file matches {pattern!r}")
        files.extend(Path(m) for m in matches if Path(m).is_file())
    return files


def iter_records(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """``(line number, record)`` for each record of a JSON-lines (optionally gzip) or JSON-list file."""
    opener = gzip.open if path.name.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8") as fh:
        if path.name.endswith((".json", ".json.gz")):
            data = json.load(fh)
            if not isinstance(data, list):
                raise ValueError(f"{path}: expected a JSON list of records")
            yield from enumerate(data, start=1)
            return
        for lineno, line in enumerate(fh, start=1):
            if line.strip():
                try:
                    yield lineno, json.loads(line)
                except json.JSONDecodeError as exc:
                    raise ValueError(f"{path}:{lineno}: invalid JSON: {exc}") from exc


def read_pairs(
    files: Sequence[Path],
    anchor_field: str = "query",
    positive_field: str = "code",
    limit: int = 0,
) -> list[dict[str, str]]:
    """Read ``{"anchor", "positive"}`` pairs; records with an empty side are skipped and counted.

    Raises:
        ValueError: a record is not an object, lacks a field, or a field is not a string (names file:line).
    """
    pairs: list[dict[str, str]] = []
    skipped = 0
    for path in files:
        for lineno, record in iter_records(Path(path)):
            if not isinstance(record, dict):
                raise ValueError(f"{path}:{lineno}: expected a JSON object, got {type(record).__name__}")
            values = []
            for key in (anchor_field, positive_field):
                if key not in record:
                    raise ValueError(
                        f"{path}:{lineno}: record has no {key!r} field (fields: {sorted(record)})"
                    )
                if not isinstance(record[key], str):
                    raise ValueError(
                        f"{path}:{lineno}: field {key!r} must be a string, got {record[key]!r:.60}"
                    )
                values.append(record[key])
            if not values[0].strip() or not values[1].strip():
                skipped += 1
                continue
            pairs.append({"anchor": values[0], "positive": values[1]})
            if limit and len(pairs) >= limit:
                break
        if limit and len(pairs) >= limit:
            break
    if skipped:
        logger.warning("Skipped %d pairs with an empty %s or %s", skipped, anchor_field, positive_field)
    return pairs


def to_dataset(pairs: Sequence[dict[str, str]]) -> Any:
    """A ``datasets.Dataset`` with columns ``anchor`` and ``positive``."""
    from loracode_embed.training._deps import require

    datasets = require("datasets")
    return datasets.Dataset.from_dict(
        {"anchor": [p["anchor"] for p in pairs], "positive": [p["positive"] for p in pairs]}
    )


def file_digests(files: Sequence[Path]) -> list[dict[str, Any]]:
    """``[{"path", "sha256", "bytes"}]`` for provenance records."""
    out = []
    for path in files:
        digest = hashlib.sha256()
        with open(path, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                digest.update(chunk)
        out.append(
            {"path": os.fspath(path), "sha256": digest.hexdigest(), "bytes": Path(path).stat().st_size}
        )
    return out
