"""Package-level, deterministic train/valid/test assignment.

A package's split depends only on a hash of its language and name, so every function of a package lands
in the same split and the assignment never changes between runs. :func:`assign_package_splits` then tops
valid and test up to a minimum pair count (whole packages, taken from train in hash order), so that a
language with few large packages still gets usable valid/test sets; the same rule runs for every language.

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
    return package_unit(package_value(language, package, salt), fractions)


DEFAULT_MIN_PAIRS: tuple[int, int] = (1000, 1000)
DEFAULT_MAX_FRACTION = 0.15


def package_value(language: str, package: str, salt: str = "") -> float:
    """The package's point in [0, 1): the first 8 bytes of ``sha256(salt:language:package)``."""
    if not isinstance(package, str) or not package:
        raise ValueError(f"package must be a non-empty string, got {package!r}")
    digest = hashlib.sha256(f"{salt}:{language}:{package}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def assign_package_splits(
    language: str,
    sizes: dict[str, int],
    fractions: tuple[float, float, float] = DEFAULT_FRACTIONS,
    min_pairs: tuple[int, int] = DEFAULT_MIN_PAIRS,
    max_fraction: float = DEFAULT_MAX_FRACTION,
    salt: str = "",
) -> dict[str, str]:
    """Split of every package of one language: hash fractions, then top-ups to a minimum pair count.

    Each package first gets :func:`split_for_package`. Then, for test and then valid, while that split
    holds fewer than ``min(min_pairs[split], max_fraction * total pairs)`` pairs, the train package with
    the highest hash value (the next one in hash order below the valid/test band) moves into it, whole;
    a package that would push the split past twice its target is skipped (it stays in train).
    The result depends only on the package names, their pair counts and the parameters (never on the
    order of ``sizes``), and a package is never cut: every function of a package lands in one split.

    Example:
        >>> sizes = {f"p{i}": 100 for i in range(40)}
        >>> splits = assign_package_splits("go", sizes, min_pairs=(300, 300))
        >>> sum(sizes[p] for p, s in splits.items() if s == "test") >= 300
        True
    """
    if len(min_pairs) != 2 or any(not isinstance(m, int) or m < 0 for m in min_pairs):
        raise ValueError(f"min_pairs must be two non-negative ints (valid, test), got {min_pairs!r}")
    if not 0 <= max_fraction <= 0.5:
        raise ValueError(f"max_fraction must be in [0, 0.5], got {max_fraction!r}")
    for pkg, n in sizes.items():
        if not isinstance(n, int) or n < 0:
            raise ValueError(f"sizes[{pkg!r}] must be a non-negative int, got {n!r}")
    value = {pkg: package_value(language, pkg, salt) for pkg in sizes}
    out = {pkg: package_unit(v, fractions) for pkg, v in value.items()}
    total = sum(sizes.values())
    for split, minimum in (("test", min_pairs[1]), ("valid", min_pairs[0])):
        target = min(minimum, int(max_fraction * total))
        have = sum(sizes[p] for p, s in out.items() if s == split)
        donors = sorted((p for p, s in out.items() if s == "train"), key=lambda p: (-value[p], p))
        for pkg in donors:
            if have >= target:
                break
            if sizes[pkg] == 0 or have + sizes[pkg] > 2 * target:
                continue  # an empty package does not help; a huge one would drain train
            out[pkg] = split
            have += sizes[pkg]
    return out
