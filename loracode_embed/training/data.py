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
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from loracode_embed.jsonl import iter_objects, require_strings

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
    if path.name.endswith((".json", ".json.gz")):
        opener = gzip.open if path.name.endswith(".gz") else open
        with opener(path, "rt", encoding="utf-8") as fh:
            data = json.load(fh)
        if not isinstance(data, list):
            raise ValueError(f"{path}: expected a JSON list of records")
        yield from enumerate(data, start=1)
        return
    yield from iter_objects(path)


HARDNESS_FIELD = "hardness"


@dataclass
class TrainingRows:
    """What :func:`read_rows` read: the rows (``anchor``, ``positive``, ``negative_1..n``) and its counts.

    Attributes:
        rows: One dict of texts per kept pair, columns in loss order.
        hardness: Each row's ``hardness`` field when it was asked for, else None.
        skipped_empty: Pairs with an empty anchor or positive.
        skipped_short: Pairs with fewer than the asked number of negatives.
    """

    rows: list[dict[str, str]]
    hardness: list[float] | None = None
    skipped_empty: int = 0
    skipped_short: int = 0


def read_rows(
    files: Sequence[Path],
    anchor_field: str = "query",
    positive_field: str = "code",
    limit: int = 0,
    negatives_field: str = "negatives",
    num_negatives: int = 0,
    hardness_field: str | None = None,
) -> TrainingRows:
    """Read training rows: anchor, positive and the first ``num_negatives`` hard negatives of each record.

    Records with an empty anchor or positive, or with fewer than ``num_negatives`` non-empty negatives,
    are skipped and counted. With ``hardness_field``, each kept record's number in that field is
    collected (for the curriculum).

    Raises:
        ValueError: a record is not an object, lacks a field, a field has the wrong type (names
            file:line and the field).

    Example:
        >>> import json, tempfile, pathlib
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "train.jsonl"
        >>> rows = [{"query": "q1", "code": "c1", "negatives": ["n1", "n2"], "hardness": -0.2},
        ...         {"query": "q2", "code": "c2", "negatives": ["n3"], "hardness": -0.1}]
        >>> _ = path.write_text("".join(json.dumps(r) + "\\n" for r in rows))
        >>> read = read_rows([path], num_negatives=2, hardness_field="hardness")
        >>> read.rows, read.hardness, read.skipped_short
        ([{'anchor': 'q1', 'positive': 'c1', 'negative_1': 'n1', 'negative_2': 'n2'}], [-0.2], 1)
    """
    if num_negatives < 0:
        raise ValueError(f"num_negatives must be >= 0, got {num_negatives}")
    out = TrainingRows(rows=[], hardness=[] if hardness_field else None)
    for path in files:
        for lineno, record in iter_records(Path(path)):
            if not isinstance(record, dict):
                raise ValueError(f"{path}:{lineno}: expected a JSON object, got {type(record).__name__}")
            require_strings(record, (anchor_field, positive_field), path, lineno)
            values = [record[anchor_field], record[positive_field]]
            if not values[0].strip() or not values[1].strip():
                out.skipped_empty += 1
                continue
            row = {"anchor": values[0], "positive": values[1]}
            if num_negatives:
                negatives = record.get(negatives_field)
                if not isinstance(negatives, list) or not all(isinstance(n, str) for n in negatives):
                    raise ValueError(
                        f"{path}:{lineno}: field {negatives_field!r} must be a list of strings (hard "
                        f"negatives), got {type(negatives).__name__}"
                    )
                negatives = [n for n in negatives if n.strip()][:num_negatives]
                if len(negatives) < num_negatives:
                    out.skipped_short += 1
                    continue
                row.update({f"negative_{i}": n for i, n in enumerate(negatives, start=1)})
            if out.hardness is not None:
                value = record.get(hardness_field)
                if isinstance(value, bool) or not isinstance(value, (int, float)):
                    raise ValueError(
                        f"{path}:{lineno}: field {hardness_field!r} must be a number (the curriculum orders "
                        f"by it; the hard-negative step writes it), got {value!r}"
                    )
                out.hardness.append(float(value))
            out.rows.append(row)
            if limit and len(out.rows) >= limit:
                break
        if limit and len(out.rows) >= limit:
            break
    if out.skipped_empty:
        logger.warning(
            "Skipped %d pairs with an empty %s or %s", out.skipped_empty, anchor_field, positive_field
        )
    if out.skipped_short:
        logger.warning(
            "Skipped %d pairs with fewer than %d hard negatives in %r",
            out.skipped_short,
            num_negatives,
            negatives_field,
        )
    return out


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
    return read_rows(files, anchor_field, positive_field, limit).rows


def to_dataset(pairs: Sequence[dict[str, str]]) -> Any:
    """A ``datasets.Dataset`` with the rows' columns: ``anchor``, ``positive`` and any ``negative_i``.

    Raises:
        ValueError: the rows do not all have the same columns.
    """
    from loracode_embed.training._deps import require

    datasets = require("datasets")
    columns = list(pairs[0]) if pairs else ["anchor", "positive"]
    for i, row in enumerate(pairs):
        if list(row) != columns:
            raise ValueError(f"row {i} has columns {list(row)}, expected {columns}")
    data = {c: [p[c] for p in pairs] for c in columns}
    # The fingerprint is a hash of the texts, given here: left to `datasets`, it is a dill hash of the
    # Arrow table, which fails with pyarrow 26 on Python 3.12 ("Can't pickle <class 'MonthDayNano'>").
    digest = hashlib.sha256()
    for column in columns:
        digest.update(column.encode() + b"\0")
        for text in data[column]:
            digest.update(text.encode("utf-8", "surrogatepass") + b"\0")
    table = datasets.table.InMemoryTable.from_pydict(data)
    return datasets.Dataset(table, fingerprint=digest.hexdigest()[:32])


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
