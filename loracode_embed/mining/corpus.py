"""Turn mined pairs into a corpus: exact and near deduplication, package-level split, shards, statistics.

Example:
    >>> import tempfile
    >>> pairs = [{"id": "1", "query": "Return one more.", "code": "def f(x):\\n    y = x\\n    return y + 1",
    ...           "language": "python", "package": "p", "version": "1", "path": "a.py", "line": 1,
    ...           "func_name": "f", "code_sha": "s1"}]
    >>> stats = build_corpus(pairs, tempfile.mkdtemp())
    >>> sum(stats["languages"]["python"]["splits"].values())
    1
"""

from __future__ import annotations

import logging
from collections import Counter, defaultdict
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from loracode_embed.mining.dedup import code_sha, near_duplicate_mask, token_sha
from loracode_embed.mining.shards import MAX_SHARD_BYTES, ShardWriter, write_manifest
from loracode_embed.mining.split import (
    DEFAULT_FRACTIONS,
    DEFAULT_MAX_FRACTION,
    DEFAULT_MIN_PAIRS,
    SPLITS,
    assign_package_splits,
)

logger = logging.getLogger(__name__)


def dedup_pairs(pairs: list[dict], near_threshold: float | None = 0.8) -> tuple[list[dict], dict[str, int]]:
    """Exact (``code_sha``) then near-duplicate removal; first in (package, path, line) order wins."""
    ordered = sorted(pairs, key=lambda p: (p["package"], p["path"], p["line"]))
    seen: set[str] = set()
    exact: list[dict] = []
    for p in ordered:
        sha = p.get("code_sha") or code_sha(p["code"])
        p["code_sha"] = sha
        if sha in seen:
            continue
        seen.add(sha)
        exact.append(p)
    counts = {"input": len(ordered), "exact_duplicates": len(ordered) - len(exact)}
    if near_threshold is None:
        counts["near_duplicates"] = 0
        return exact, counts
    keep = near_duplicate_mask([p["code"] for p in exact], threshold=near_threshold)
    kept = [p for p, k in zip(exact, keep, strict=True) if k]
    counts["near_duplicates"] = len(exact) - len(kept)
    counts["kept"] = len(kept)
    return kept, counts


def build_corpus(
    pairs: Iterable[dict],
    out_dir: Path | str,
    *,
    exclude_hashes: set[str] | None = None,
    near_threshold: float | None = 0.8,
    fractions: tuple[float, float, float] = DEFAULT_FRACTIONS,
    max_shard_bytes: int = MAX_SHARD_BYTES,
    package_source: dict[Any, str] | None = None,
    min_pairs: tuple[int, int] = DEFAULT_MIN_PAIRS,
    max_fraction: float = DEFAULT_MAX_FRACTION,
) -> dict[str, Any]:
    """Deduplicate per language, drop pairs whose code/token hash is in ``exclude_hashes``, split by package
    and write ``<out>/<lang>/<split>-NNNNN.jsonl.gz`` plus ``manifest.json``. Returns the statistics.

    Packages are split whole by :func:`~loracode_embed.mining.split.assign_package_splits` (hash fractions,
    then valid/test topped up to ``min_pairs`` pairs, at most ``max_fraction`` of the language each).
    ``package_source`` maps a package, or a ``(language, package)`` key (checked first: a PyPI project and a
    Debian source package can share a name), to where it came from ("pypi", "debian", "npm", ...).
    """
    sources = package_source or {}
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    exclude = exclude_hashes or set()
    by_lang: dict[str, list[dict]] = defaultdict(list)
    for p in pairs:
        by_lang[p["language"]].append(p)
    stats: dict[str, Any] = {
        "languages": {},
        "fractions": list(fractions),
        "min_pairs": {"valid": min_pairs[0], "test": min_pairs[1]},
        "max_fraction": max_fraction,
    }
    shards: list[dict] = []
    for lang in sorted(by_lang):
        kept, counts = dedup_pairs(by_lang[lang], near_threshold)
        before = len(kept)
        kept = [p for p in kept if p["code_sha"] not in exclude and token_sha(p["code"]) not in exclude]
        counts["overlap_with_excluded"] = before - len(kept)
        sizes = Counter(p["package"] for p in kept)
        split_of = assign_package_splits(lang, dict(sizes), fractions, min_pairs, max_fraction)
        per_split: dict[str, list[dict]] = {s: [] for s in SPLITS}
        for p in kept:
            per_split[split_of[p["package"]]].append(p)
        lang_stats = {
            "dedup": counts,
            "splits": {s: len(v) for s, v in per_split.items()},
            "packages": dict(Counter(split_of.values())),
            "pairs_by_source": {},
        }
        by_source: dict[str, Counter] = defaultdict(Counter)
        for s, items in per_split.items():
            for p in items:
                pkg = p["package"]
                by_source[sources.get((lang, pkg), sources.get(pkg, "other"))][s] += 1
            with ShardWriter(out, lang, s, max_bytes=max_shard_bytes) as writer:
                for p in items:
                    writer.write(p)
            shards.extend(writer.shards)
        lang_stats["pairs_by_source"] = {k: dict(v) for k, v in sorted(by_source.items())}
        stats["languages"][lang] = lang_stats
        logger.info("%s: %s", lang, lang_stats["splits"])
    write_manifest(out, shards, {"stats": stats})
    return stats
