"""Package-level, deterministic train/valid/test assignment.

A package's split depends only on a hash of its language and name, so every function of a package lands
in the same split, the assignment never changes between runs, and adding a package moves no other one.

Example:
    >>> split_for_package("python", "requests") in {"train", "valid", "test"}
    True
    >>> split_for_package("python", "requests") == split_for_package("python", "requests")
    True
"""

from __future__ import annotations

import hashlib

SPLITS: tuple[str, ...] = ("train", "valid", "test")
DEFAULT_FRACTIONS: tuple[float, float, float] = (0.9, 0.05, 0.05)


def package_unit(value: float, fractions: tuple[float, float, float] = DEFAULT_FRACTIONS) -> str:
    """The split for a point ``value`` in [0, 1) given (train, valid, test) fractions."""
    if len(fractions) != 3 or any(f < 0 for f in fractions) or abs(sum(fractions) - 1.0) > 1e-9:
        raise ValueError(f"fractions must be three non-negative numbers summing to 1, got {fractions!r}")
    if value < fractions[0]:
        return "train"
    if value < fractions[0] + fractions[1]:
        return "valid"
    return "test"


def split_for_package(
    language: str, package: str, fractions: tuple[float, float, float] = DEFAULT_FRACTIONS, salt: str = ""
) -> str:
    """``"train"``, ``"valid"`` or ``"test"`` for ``package`` (hash of ``salt:language:package``)."""
    if not isinstance(package, str) or not package:
        raise ValueError(f"package must be a non-empty string, got {package!r}")
    digest = hashlib.sha256(f"{salt}:{language}:{package}".encode()).digest()
    value = int.from_bytes(digest[:8], "big") / 2**64
    return package_unit(value, fractions)
