"""Point ids derived from content, so that re-running the indexer is idempotent.

A chunk's id is ``uuid5(NAMESPACE, "chunk\\0{path}\\0{content_hash}\\0{occurrence}")`` where
``occurrence`` counts earlier chunks of the same file with the same content hash (0 for nearly all).

Why these parts:

* **path**: the same code in two files is two search hits with two payloads, so two points.
* **content hash, not position**: editing one function leaves the ids of the file's other chunks
  unchanged (their line numbers move, so their payload is rewritten, but their vectors are reused),
  and re-indexing an unchanged file produces exactly the same ids.
* **occurrence, not chunk index**: two identical chunks in one file stay distinct, and inserting a
  chunk above them does not renumber them.
* A **rename** changes the path, so the renamed file gets new ids and the old path's points are
  deleted; the vectors are not recomputed, though: the indexer looks up stored chunks with the same
  content hash and language and copies their vectors (see :mod:`loracode_qdrant.index`).

Each file also has one vector-less *file record* (``file_point_id(path)``) written after all its
chunks: it holds the file's hash and chunk ids, and is the "file done" mark for incremental runs.

Example:
    >>> chunk_point_id("a.py", "ab12", 0) == chunk_point_id("a.py", "ab12", 0)
    True
    >>> chunk_point_id("a.py", "ab12", 0) != chunk_point_id("b.py", "ab12", 0)
    True
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Iterable

#: Fixed namespace of every id in a loracode index (never change it: it would orphan every store).
NAMESPACE = uuid.UUID("6f1b8d0e-2c4a-5e7f-9a3b-1c2d3e4f5a6b")
#: Id of the record that holds the store's metadata (model fingerprint, chunker version...).
META_POINT_ID = str(uuid.uuid5(NAMESPACE, "meta"))


def chunk_point_id(path: str, content_hash: str, occurrence: int = 0) -> str:
    """The point id of a chunk (a UUID string)."""
    return str(uuid.uuid5(NAMESPACE, f"chunk\0{path}\0{content_hash}\0{occurrence}"))


def file_point_id(path: str) -> str:
    """The point id of a file's record (its "done" mark)."""
    return str(uuid.uuid5(NAMESPACE, f"file\0{path}"))


def chunk_ids_for_file(path: str, content_hashes: Iterable[str]) -> list[str]:
    """Ids for a file's chunks in order, numbering repeated content hashes 0, 1, 2...

    Example:
        >>> ids = chunk_ids_for_file("a.py", ["h1", "h2", "h1"])
        >>> ids[0] == chunk_point_id("a.py", "h1", 0), ids[2] == chunk_point_id("a.py", "h1", 1)
        (True, True)
    """
    seen: Counter[str] = Counter()
    out = []
    for h in content_hashes:
        out.append(chunk_point_id(path, h, seen[h]))
        seen[h] += 1
    return out
