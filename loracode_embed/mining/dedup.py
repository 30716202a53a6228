"""Deduplication: exact (code hash after whitespace normalisation) and near (MinHash over token shingles).

Example:
    >>> code_sha("def f(x):\\n    return x") == code_sha("def f(x): return   x")
    True
    >>> keep = near_duplicate_mask(["a(b, c); d(e)", "a(b,  c);  d(e)", "x = y + z"])
    >>> keep
    [True, False, True]
"""

from __future__ import annotations

import hashlib
import re
import zlib
from collections.abc import Sequence

import numpy as np

_WS = re.compile(r"\s+")
_TOKEN = re.compile(r"\w+|[^\w\s]")
_PRIME = np.uint64((1 << 61) - 1)


def normalise_code(code: str) -> str:
    """Whitespace runs collapsed to one space, ends stripped."""
    return _WS.sub(" ", code).strip()


def code_sha(code: str) -> str:
    """sha256 (hex) of the whitespace-normalised code: the exact-duplicate key."""
    return hashlib.sha256(normalise_code(code).encode("utf-8")).hexdigest()


def token_sha(code: str) -> str:
    """sha256 of the code's token sequence joined by single spaces (matches pre-tokenised data sets)."""
    return hashlib.sha256(" ".join(_TOKEN.findall(code)).encode("utf-8")).hexdigest()


class MinHasher:
    """MinHash signatures of token shingles, vectorised with numpy.

    Example:
        >>> h = MinHasher(num_perm=64)
        >>> a, b = h.signature("a b c d e f"), h.signature("a b c d e f")
        >>> float(MinHasher.similarity(a, b))
        1.0
    """

    def __init__(self, num_perm: int = 64, shingle: int = 5, seed: int = 1):
        if num_perm <= 0 or shingle <= 0:
            raise ValueError("num_perm and shingle must be positive")
        rng = np.random.default_rng(seed)
        self.num_perm = num_perm
        self.shingle = shingle
        self._a = rng.integers(1, (1 << 61) - 1, size=num_perm, dtype=np.uint64)
        self._b = rng.integers(0, (1 << 61) - 1, size=num_perm, dtype=np.uint64)

    def shingles(self, code: str) -> np.ndarray:
        toks = _TOKEN.findall(code)
        k = self.shingle
        grams = [" ".join(toks[i : i + k]) for i in range(max(1, len(toks) - k + 1))]
        return np.fromiter((zlib.crc32(g.encode("utf-8")) for g in set(grams)), dtype=np.uint64)

    def signature(self, code: str) -> np.ndarray:
        x = self.shingles(code)
        # (a*x + b) mod 2^64 then a cheap mix; min over shingles. Overflow wraps (intended).
        with np.errstate(over="ignore"):
            h = (x[:, None] * self._a[None, :] + self._b[None, :]) >> np.uint64(3)
        return h.min(axis=0)

    @staticmethod
    def similarity(a: np.ndarray, b: np.ndarray) -> float:
        """Estimated Jaccard similarity of two signatures."""
        return float(np.mean(a == b))


def near_duplicate_mask(
    codes: Sequence[str], threshold: float = 0.8, num_perm: int = 64, bands: int = 16, shingle: int = 5
) -> list[bool]:
    """True for the items to keep: the first of each group of near-duplicates (Jaccard >= ``threshold``).

    Candidates come from LSH banding of MinHash signatures, then each candidate pair is checked on the
    full signature; the earlier item of a matching pair is kept (order decides, so sort first).
    """
    if num_perm % bands:
        raise ValueError("num_perm must be a multiple of bands")
    hasher = MinHasher(num_perm=num_perm, shingle=shingle)
    sigs = [hasher.signature(c) for c in codes]
    rows = num_perm // bands
    keep = [True] * len(codes)
    buckets: list[dict[bytes, list[int]]] = [{} for _ in range(bands)]
    for i, sig in enumerate(sigs):
        dup = False
        keys = [sig[b * rows : (b + 1) * rows].tobytes() for b in range(bands)]
        for b, key in enumerate(keys):
            for j in buckets[b].get(key, [])[-64:]:  # bounded work on crowded buckets
                if MinHasher.similarity(sig, sigs[j]) >= threshold:
                    dup = True
                    break
            if dup:
                break
        if dup:
            keep[i] = False
            continue  # a dropped item does not represent anything: only kept items fill buckets
        for b, key in enumerate(keys):
            buckets[b].setdefault(key, []).append(i)
    return keep
