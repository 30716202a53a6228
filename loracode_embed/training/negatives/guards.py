"""False-negative guards: which mined candidates could really answer the query, and so must not be negatives.

A candidate code is rejected for a pair when

* ``same_file``: it comes from the same file as the positive (same ``package`` and ``path`` fields):
  overloads, wrappers and siblings of the positive are likely answers too;
* ``duplicate``: its code equals the positive (or, for code2code, the anchor) after whitespace
  normalisation (``loracode_embed.mining.dedup.code_sha``);
* ``near_duplicate``: its MinHash Jaccard estimate to the positive is at least the threshold (the
  miner's own ``MinHasher``: 64 permutations of 5-token shingles);
* ``same_query``: its record's query equals the pair's query (whitespace-normalised, case-folded): one
  docstring describing two functions makes both right answers;
* ``margin``: it scores above the positive by more than ``margin`` under the mining model (a negative
  margin asks negatives to stay that far *below* the positive).

Example:
    >>> records = [
    ...     {"query": "add", "code": "def add(a, b): return a + b", "package": "p", "path": "m.py"},
    ...     {"query": "sum", "code": "def add(a, b):  return a + b", "package": "q", "path": "n.py"},
    ...     {"query": "mul", "code": "def mul(a, b): return a * b", "package": "p", "path": "m.py"},
    ...     {"query": "neg", "code": "def neg(a): return -a", "package": "q", "path": "o.py"},
    ... ]
    >>> keys = candidate_keys(records, near_threshold=0.8)
    >>> import numpy as np
    >>> rejected = guard_masks(keys, rows=np.array([0]), candidates=np.array([[1, 2, 3]]),
    ...                        candidate_scores=np.array([[0.5, 0.5, 0.5]]), positive_scores=np.array([0.6]),
    ...                        margin=0.0, near_threshold=0.8)
    >>> {name: mask[0].tolist() for name, mask in rejected.items()}  # doctest: +NORMALIZE_WHITESPACE
    {'same_file': [False, True, False], 'duplicate': [True, False, False],
     'near_duplicate': [True, False, False], 'same_query': [False, False, False], 'margin': [False, False, False]}
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from loracode_embed.mining.dedup import MinHasher, code_sha

GUARDS = ("same_file", "duplicate", "near_duplicate", "same_query", "margin")
_WS = re.compile(r"\s+")


@dataclass
class CandidateKeys:
    """Integer keys per record, so every guard is an array comparison.

    Attributes:
        file_ids: ``(N,)`` one id per distinct file (``file_fields`` values); -1 when the guard is off.
        code_ids: ``(N,)`` one id per distinct normalised code (the positive side).
        anchor_code_ids: ``(N,)`` the anchor text's id in the same space (matches only code anchors).
        query_ids: ``(N,)`` one id per distinct normalised query.
        signatures: ``(N, num_perm)`` MinHash signatures of the codes, or None when the guard is off.
    """

    file_ids: np.ndarray
    code_ids: np.ndarray
    anchor_code_ids: np.ndarray
    query_ids: np.ndarray
    signatures: np.ndarray | None


def _ids(values: Sequence[Any], table: dict[Any, int]) -> np.ndarray:
    return np.fromiter((table.setdefault(v, len(table)) for v in values), dtype=np.int64, count=len(values))


def _signature_chunk(codes: list[str]) -> np.ndarray:
    hasher = MinHasher()  # seeded: the same permutations in every process
    return np.stack([hasher.signature(code) for code in codes])


def minhash_signatures(codes: Sequence[str], workers: int = 0) -> np.ndarray:
    """``(N, 64)`` MinHash signatures of ``codes`` (the miner's ``MinHasher``), over processes for big splits.

    About 1 ms per function on one core, so a 210k-pair split takes minutes alone; ``workers``
    processes share the work (0: automatic, one process below 20,000 codes, else up to 16).

    Example:
        >>> sigs = minhash_signatures(["a b c d e f", "a b c d e f", "x y z"])
        >>> sigs.shape, bool((sigs[0] == sigs[1]).all()), bool((sigs[0] == sigs[2]).all())
        ((3, 64), True, False)
    """
    codes = list(codes)
    if workers < 0:
        raise ValueError(f"workers must be >= 0 (0: automatic), got {workers}")
    if workers == 0:
        workers = 1 if len(codes) < 20_000 else max(1, min(16, (os.cpu_count() or 1) - 1))
    if workers == 1 or len(codes) < 2:
        return _signature_chunk(codes) if codes else np.empty((0, MinHasher().num_perm), dtype=np.uint64)
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    size = 2048
    parts = [codes[i : i + size] for i in range(0, len(codes), size)]
    context = multiprocessing.get_context("fork" if sys.platform.startswith("linux") else "spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        return np.concatenate(list(pool.map(_signature_chunk, parts)))


def check_file_fields(records: Sequence[dict[str, Any]], file_fields: Sequence[str]) -> None:
    """Raise ValueError naming the first record without a string in each of ``file_fields``.

    Example:
        >>> check_file_fields([{"package": "p"}], ["package", "path"])
        Traceback (most recent call last):
        ...
        ValueError: record 0 has no string field 'path' (needed by the same-file guard; ...)
    """
    for i, record in enumerate(records):
        for name in file_fields:
            if not isinstance(record.get(name), str):
                raise ValueError(
                    f"record {i} has no string field {name!r} (needed by the same-file guard; pack the "
                    "corpus with trainers/gpu/pack_training_data.py, which keeps package and path, or "
                    "turn the guard off with an empty file_fields)"
                )


def candidate_keys(
    records: Sequence[dict[str, Any]],
    anchor_field: str = "query",
    positive_field: str = "code",
    file_fields: Sequence[str] = ("package", "path"),
    near_threshold: float = 0.8,
    workers: int = 0,
) -> CandidateKeys:
    """The guard keys of every record (MinHash signatures only when ``near_threshold > 0``, over ``workers``).

    Raises:
        ValueError: a record lacks one of ``file_fields`` (names the record).
    """
    check_file_fields(records, file_fields)
    if file_fields:
        file_ids = _ids([tuple(r[f] for f in file_fields) for r in records], {})
    else:
        file_ids = np.full(len(records), -1, dtype=np.int64)
    codes: dict[str, int] = {}
    code_ids = _ids([code_sha(r[positive_field]) for r in records], codes)
    anchor_code_ids = _ids([code_sha(r[anchor_field]) for r in records], codes)
    query_ids = _ids([_WS.sub(" ", r[anchor_field]).strip().casefold() for r in records], {})
    signatures = None
    if near_threshold > 0:
        signatures = minhash_signatures([r[positive_field] for r in records], workers)
    return CandidateKeys(file_ids, code_ids, anchor_code_ids, query_ids, signatures)


def guard_masks(
    keys: CandidateKeys,
    rows: np.ndarray,
    candidates: np.ndarray,
    candidate_scores: np.ndarray,
    positive_scores: np.ndarray,
    margin: float,
    near_threshold: float,
) -> dict[str, np.ndarray]:
    """``{guard: (R, W) bool}``, True where that guard rejects candidate ``candidates[r, w]`` of pair ``rows[r]``.

    Args:
        keys: From :func:`candidate_keys` over the records ``rows`` and ``candidates`` index.
        rows: ``(R,)`` the pairs (record indices).
        candidates: ``(R, W)`` candidate record indices per pair.
        candidate_scores: ``(R, W)`` their scores for the pair's query.
        positive_scores: ``(R,)`` each pair's positive score.
        margin: Reject candidates scoring above ``positive + margin``.
        near_threshold: MinHash Jaccard at or above which a candidate is a near-duplicate (0: off).
    """
    col = rows[:, None]
    masks = {
        "same_file": (keys.file_ids[candidates] == keys.file_ids[col]) & (keys.file_ids[col] >= 0),
        "duplicate": (keys.code_ids[candidates] == keys.code_ids[col])
        | (keys.code_ids[candidates] == keys.anchor_code_ids[col]),
        "same_query": keys.query_ids[candidates] == keys.query_ids[col],
        "margin": candidate_scores > positive_scores[:, None] + margin,
    }
    if keys.signatures is not None and near_threshold > 0:
        agree = keys.signatures[candidates] == keys.signatures[rows][:, None, :]
        masks["near_duplicate"] = agree.mean(axis=2) >= near_threshold
    else:
        masks["near_duplicate"] = np.zeros(candidates.shape, dtype=bool)
    return {name: masks[name] for name in GUARDS}
