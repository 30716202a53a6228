"""Write pair records as gzip-compressed JSON-lines shards of bounded size, with a sha256 manifest.

Example:
    >>> import tempfile, pathlib
    >>> out = pathlib.Path(tempfile.mkdtemp())
    >>> with ShardWriter(out, "python", "train") as w:
    ...     w.write({"id": "1", "query": "q", "code": "c"})
    >>> [p.name for p in sorted((out / "python").iterdir())]
    ['train-00000.jsonl.gz']
"""

from __future__ import annotations

import gzip
import hashlib
import json
from pathlib import Path
from typing import Any

MAX_SHARD_BYTES = 50 * 1024 * 1024
_FLUSH_EVERY = 1 << 20
_TRAILER_MARGIN = 1024


class ShardWriter:
    """Writes ``<out>/<language>/<split>-NNNNN.jsonl.gz`` files, each at most ``max_bytes`` on disk.

    The compressed size is checked exactly: every ``_FLUSH_EVERY`` uncompressed bytes the compressor is
    flushed, and a new shard starts before a record could push the file past the limit (a record's
    compressed size is at most its uncompressed size plus a small overhead).
    """

    def __init__(self, out_dir: Path | str, language: str, split: str, max_bytes: int = MAX_SHARD_BYTES):
        if max_bytes < 4 * _TRAILER_MARGIN:
            raise ValueError(f"max_bytes must be at least {4 * _TRAILER_MARGIN}, got {max_bytes}")
        self.dir = Path(out_dir) / language
        self.dir.mkdir(parents=True, exist_ok=True)
        self.language, self.split, self.max_bytes = language, split, max_bytes
        self.shards: list[dict[str, Any]] = []
        self._raw = self._gz = None
        self._pending = 0
        self._count = 0

    def _open(self) -> None:
        path = self.dir / f"{self.split}-{len(self.shards):05d}.jsonl.gz"
        self._raw = open(path, "wb")  # noqa: SIM115
        self._gz = gzip.GzipFile(fileobj=self._raw, mode="wb", compresslevel=6, mtime=0, filename="")
        self.shards.append(
            {
                "file": f"{self.language}/{path.name}",
                "language": self.language,
                "split": self.split,
                "pairs": 0,
            }
        )
        self._pending = 0

    def _close_current(self) -> None:
        if self._gz is None:
            return
        self._gz.close()
        self._raw.close()
        path = self.dir / Path(self.shards[-1]["file"]).name
        data = path.read_bytes()
        self.shards[-1]["bytes"] = len(data)
        self.shards[-1]["sha256"] = hashlib.sha256(data).hexdigest()
        self._gz = self._raw = None

    def write(self, record: dict[str, Any]) -> None:
        """Append one record (a JSON-serialisable dict)."""
        line = (json.dumps(record, ensure_ascii=False) + "\n").encode("utf-8")
        if len(line) + 2 * _TRAILER_MARGIN > self.max_bytes:
            raise ValueError(f"record {record.get('id')!r} is larger than a whole shard ({len(line)} bytes)")
        if self._gz is None:
            self._open()
        elif self._raw.tell() + self._pending + len(line) + _TRAILER_MARGIN > self.max_bytes:
            self._gz.flush()
            self._pending = 0
            if self._raw.tell() + len(line) + _TRAILER_MARGIN > self.max_bytes:
                self._close_current()
                self._open()
        self._gz.write(line)
        self._pending += len(line)
        self.shards[-1]["pairs"] += 1
        self._count += 1
        if self._pending >= _FLUSH_EVERY:
            self._gz.flush()
            self._pending = 0

    def close(self) -> list[dict[str, Any]]:
        """Finish the last shard; returns the manifest entries of every shard written."""
        self._close_current()
        return self.shards

    def __enter__(self) -> ShardWriter:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def read_shard(path: Path | str):
    """Yield the records of one ``.jsonl.gz`` shard."""
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                yield json.loads(line)


def write_manifest(
    out_dir: Path | str, shards: list[dict[str, Any]], extra: dict[str, Any] | None = None
) -> Path:
    """Write ``manifest.json`` (shard list with pairs, bytes, sha256) and return its path."""
    path = Path(out_dir) / "manifest.json"
    payload = {"max_shard_bytes": MAX_SHARD_BYTES, "shards": shards, **(extra or {})}
    path.write_text(json.dumps(payload, indent=1, sort_keys=True))
    return path
