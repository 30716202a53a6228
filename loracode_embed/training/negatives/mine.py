"""Choose hard negatives per pair from its query's nearest codes: a rank window, guards, seeded sampling.

For each pair, the candidates are the codes at ranks ``rank_min..rank_max`` (1-based, inclusive) of its
query's neighbours in the same split, the pair's own positive left out. Every guard of
:mod:`~loracode_embed.training.negatives.guards` removes the likely false negatives; of the rest,
``num_negatives`` are drawn uniformly, and the chosen ones are listed by rank (hardest first).

The draw is a hash of (seed, the pair's key, the candidate's key) and not a random stream, so a pair
gets the same negatives whatever the order of the records, the chunking or the machine; another seed
draws others.

Example:
    >>> import numpy as np
    >>> from loracode_embed.training.negatives.guards import candidate_keys
    >>> from loracode_embed.training.negatives.search import Neighbours
    >>> records = [{"query": f"q{i}", "code": f"def f{i}(): return {i}", "package": "p", "path": f"{i}.py"}
    ...            for i in range(4)]
    >>> found = Neighbours(scores=np.array([[0.9, 0.8, 0.7]] * 4, dtype=np.float32),
    ...                    indices=np.array([[1, 2, 3], [0, 2, 3], [0, 1, 3], [0, 1, 2]]),
    ...                    positive_scores=np.ones(4, dtype=np.float32), positive_ranks=np.ones(4, dtype=int))
    >>> settings = MiningSettings(num_negatives=1, rank_min=2, rank_max=3, near_duplicate=0, seed=0)
    >>> mined = mine_negatives(found, candidate_keys(records, near_threshold=0), settings, pair_keys(records))
    >>> [len(n) for n in mined.indices], mined.counts["pairs_short"]
    ([1, 1, 1, 1], 0)
    >>> all(int(r) in (2, 3) for ranks in mined.ranks for r in ranks)
    True
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from loracode_embed.training.negatives.guards import GUARDS, CandidateKeys, guard_masks
from loracode_embed.training.negatives.search import Neighbours

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)


@dataclass(frozen=True)
class MiningSettings:
    """The settings of one mining run (recorded in the data set's ``negatives.json``).

    Example:
        >>> MiningSettings(rank_min=10, rank_max=100).window
        91
    """

    num_negatives: int = 4
    rank_min: int = 10
    rank_max: int = 100
    margin: float = 0.0
    near_duplicate: float = 0.8
    file_fields: tuple[str, ...] = ("package", "path")
    seed: int = 0

    @property
    def window(self) -> int:
        return self.rank_max - self.rank_min + 1

    def validate(self) -> None:
        """Raise ValueError naming the first setting that cannot work."""
        if self.num_negatives < 1:
            raise ValueError(f"num_negatives must be >= 1, got {self.num_negatives}")
        if self.rank_min < 1:
            raise ValueError(f"rank_min must be >= 1 (ranks are 1-based), got {self.rank_min}")
        if self.rank_max < self.rank_min:
            raise ValueError(f"rank_max ({self.rank_max}) must be >= rank_min ({self.rank_min})")
        if self.window < self.num_negatives:
            raise ValueError(
                f"the window ranks {self.rank_min}-{self.rank_max} holds {self.window} candidates, fewer "
                f"than num_negatives={self.num_negatives}"
            )
        if not 0.0 <= self.near_duplicate <= 1.0:
            raise ValueError(f"near_duplicate must be in [0, 1] (0: off), got {self.near_duplicate}")

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "file_fields": list(self.file_fields)}


@dataclass
class MinedNegatives:
    """Per mined pair (in the order of ``rows``): chosen record indices, their ranks and scores; counts.

    ``counts`` holds ``pairs``, ``pairs_short`` (fewer than ``num_negatives`` eligible), ``negatives``,
    ``candidates`` (in the windows) and ``rejected_<guard>`` (candidates each guard rejects; a candidate
    can fail several) and ``eligible``.
    """

    indices: list[np.ndarray]
    ranks: list[np.ndarray]
    scores: list[np.ndarray]
    counts: dict[str, int] = field(default_factory=dict)


def pair_keys(
    records: Sequence[dict[str, Any]], anchor_field: str = "query", positive_field: str = "code"
) -> np.ndarray:
    """A stable 64-bit key per record: from its ``id`` when it has one, else from its two texts.

    Example:
        >>> a = pair_keys([{"id": "a", "query": "x", "code": "y"}, {"query": "x", "code": "y"}])
        >>> b = pair_keys([{"id": "a", "query": "", "code": ""}, {"query": "x", "code": "z"}])
        >>> (bool(a[0] == b[0]), bool(a[1] == b[1]))
        (True, False)
    """
    out = np.empty(len(records), dtype=np.uint64)
    for i, record in enumerate(records):
        ident = record.get("id")
        text = (
            f"id:{ident}"
            if isinstance(ident, str) and ident
            else f"{record[anchor_field]}\0{record[positive_field]}"
        )
        out[i] = int.from_bytes(
            hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=8).digest(), "little"
        )
    return out


def _mix(x: np.ndarray) -> np.ndarray:
    # splitmix64's finaliser: a well-spread 64-bit hash (uint64 arithmetic wraps, as intended)
    with np.errstate(over="ignore"):
        x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return x ^ (x >> np.uint64(31))


def mine_negatives(
    neighbours: Neighbours,
    keys: CandidateKeys,
    settings: MiningSettings,
    record_keys: np.ndarray,
    rows: Sequence[int] | np.ndarray | None = None,
    chunk_size: int = 2048,
) -> MinedNegatives:
    """Negatives for the pairs ``rows`` (default all) from ``neighbours`` (a search with ``k >= rank_max``).

    Raises:
        ValueError: the settings are invalid, or the search kept fewer candidates than ``rank_max`` while
            the split has more codes (names both numbers).
    """
    settings.validate()
    num_records = len(record_keys)
    have = neighbours.indices.shape[1]
    if have < min(settings.rank_max, num_records - 1):
        raise ValueError(
            f"the search kept {have} candidates per query; rank_max={settings.rank_max} needs that many"
        )
    rows = np.arange(num_records) if rows is None else np.asarray(rows, dtype=np.int64)
    lo, hi = settings.rank_min - 1, min(settings.rank_max, have)
    counts = {"pairs": int(len(rows)), "pairs_short": 0, "negatives": 0, "candidates": 0, "eligible": 0}
    counts.update({f"rejected_{g}": 0 for g in GUARDS})
    seed = _mix(np.uint64(settings.seed & 0xFFFFFFFFFFFFFFFF) ^ _GOLDEN)
    out_indices: list[np.ndarray] = []
    out_ranks: list[np.ndarray] = []
    out_scores: list[np.ndarray] = []
    empty = np.empty(0, dtype=np.int64)
    for start in range(0, len(rows), chunk_size):
        part = rows[start : start + chunk_size]
        if lo >= hi:  # a split too small to reach the window
            out_indices += [empty] * len(part)
            out_ranks += [empty] * len(part)
            out_scores += [np.empty(0, dtype=np.float32)] * len(part)
            counts["pairs_short"] += len(part)
            continue
        cands = neighbours.indices[part, lo:hi]
        cand_scores = neighbours.scores[part, lo:hi]
        masks = guard_masks(
            keys,
            part,
            cands,
            cand_scores,
            neighbours.positive_scores[part],
            settings.margin,
            settings.near_duplicate,
        )
        rejected = np.zeros(cands.shape, dtype=bool)
        for name, mask in masks.items():
            counts[f"rejected_{name}"] += int(mask.sum())
            rejected |= mask
        counts["candidates"] += int(cands.size)
        counts["eligible"] += int((~rejected).sum())
        # the draw: the num_negatives eligible candidates with the smallest hash priority
        priority = _mix(seed ^ _mix(record_keys[part])[:, None] ^ _mix(record_keys[cands] ^ _GOLDEN))
        priority[rejected] = np.iinfo(np.uint64).max
        order = np.argsort(priority, axis=1, kind="stable")[:, : settings.num_negatives]
        for r in range(len(part)):
            picked = np.sort(order[r][~rejected[r, order[r]]])  # window positions, so by rank
            if len(picked) < settings.num_negatives:
                counts["pairs_short"] += 1
            counts["negatives"] += len(picked)
            out_indices.append(cands[r, picked])
            out_ranks.append(picked + settings.rank_min)
            out_scores.append(cand_scores[r, picked])
    return MinedNegatives(out_indices, out_ranks, out_scores, counts)
