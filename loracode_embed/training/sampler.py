"""A batch sampler for in-batch-negative losses: no text twice in a batch, similar lengths together.

sentence-transformers' ``NoDuplicatesBatchSampler`` keeps duplicates out but cannot group by length,
and transformers' length grouping knows nothing of duplicates, so this sampler does both:

1. shuffle all pairs (seeded by ``seed + epoch``, so every rank and every resumed run sees the same order);
2. cut the order into windows of ``batch_size * group_factor`` pairs and, when grouping, sort each
   window by length (characters of every text of the row);
3. fill batches from the window in order, deferring a pair that would repeat a text to the next batch;
   leftovers carry into the next window;
4. shuffle the order of the batches.

What counts as a repeat: a row's *pair texts* (anchor and positive) must not occur anywhere else in
the batch, as another pair's anchor, positive or hard negative (``negative_*`` columns); a *hard
negative* must not be another pair's anchor or positive (for that pair it would be a false negative,
and the loss scores every anchor against every column). Two pairs may share a hard negative: for both
it is a true negative.

With ``num_replicas`` devices, each batch is built for the whole device group (``batch_size *
num_replicas`` pairs, duplicates excluded across all of them) and yielded as ``num_replicas``
consecutive slices, which accelerate hands out one per device, so every device gets the same
number of batches and none waits for a peer in the all-gather at the end of an epoch.

A curriculum (``difficulty`` with ``curriculum_buckets > 1``) splits the shuffled pairs into that many
equal buckets by difficulty, runs steps 2-3 bucket by bucket (no window spans two buckets) and orders
the batches bucket by bucket in step 4, easiest first; within a bucket, order stays random.

Example:
    >>> data = {"anchor": ["a", "b", "a", "c"], "positive": ["1", "2", "3", "4"]}
    >>> sampler = NoDuplicatesLengthGroupedBatchSampler(data, batch_size=2, drop_last=True, seed=0)
    >>> batches = list(sampler)
    >>> all(len({data["anchor"][i] for i in b}) == len(b) for b in batches)
    True
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterator, Sequence
from typing import Any

import torch

from loracode_embed.training._deps import require

logger = logging.getLogger(__name__)

_EXCLUDED_COLUMNS = {"dataset_name", "label", "labels", "score", "scores"}
NEGATIVE_PREFIX = "negative"


def _text_key(value: Any) -> int:
    # A stable 64-bit key (Python's hash() differs per process, and every rank must build the same batches).
    data = value.encode("utf-8", "surrogatepass") if isinstance(value, str) else repr(value).encode()
    return int.from_bytes(hashlib.blake2b(data, digest_size=8).digest(), "little")


def _buckets(difficulty: Sequence[float] | None, buckets: int, num_rows: int) -> list[int] | None:
    """Each row's curriculum bucket (0: easiest), equal-sized by difficulty rank; None when off."""
    if difficulty is None or buckets <= 1:
        return None
    if len(difficulty) != num_rows:
        raise ValueError(f"difficulty has {len(difficulty)} values for {num_rows} rows")
    ranked = sorted(range(num_rows), key=lambda i: (difficulty[i], i))
    bucket = [0] * num_rows
    for rank, index in enumerate(ranked):
        bucket[index] = rank * buckets // num_rows
    return bucket


def _base_class() -> type:
    try:  # sentence-transformers >= 6
        from sentence_transformers.base.sampler import DefaultBatchSampler
    except ImportError:  # sentence-transformers 3-5
        DefaultBatchSampler = require("sentence_transformers.sampler").DefaultBatchSampler
    return DefaultBatchSampler


class NoDuplicatesLengthGroupedBatchSampler(_base_class()):  # type: ignore[misc]
    """Batches without repeated texts, optionally grouped by length; deterministic per (seed, epoch).

    Args:
        dataset: A ``datasets.Dataset`` or a mapping of column name -> list of texts.
        batch_size: Pairs per device per batch.
        drop_last: Drop the last incomplete batch (recommended for in-batch negatives).
        group_by_length: Sort windows of ``batch_size * group_factor`` pairs by length.
        group_factor: Window size in batches.
        num_replicas: Devices that share each step's batch (all-gathered negatives).
        seed: Base seed; the epoch is added, so every epoch has its own order.
        difficulty: One number per row (higher: harder), for the curriculum.
        curriculum_buckets: With ``difficulty``, run batches in this many buckets, easiest first (<= 1: off).
        valid_label_columns, generator: Accepted for sentence-transformers compatibility; labels are
            not texts and are ignored, and the sampler seeds its own generator.
    """

    def __init__(
        self,
        dataset: Any,
        batch_size: int,
        drop_last: bool,
        valid_label_columns: list[str] | None = None,
        generator: torch.Generator | None = None,
        seed: int = 0,
        group_by_length: bool = True,
        group_factor: int = 16,
        num_replicas: int = 1,
        difficulty: Sequence[float] | None = None,
        curriculum_buckets: int = 0,
    ) -> None:
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        if group_factor < 1:
            raise ValueError(f"group_factor must be >= 1, got {group_factor}")
        if num_replicas < 1:
            raise ValueError(f"num_replicas must be >= 1, got {num_replicas}")
        super().__init__(
            dataset,
            batch_size=batch_size,
            drop_last=drop_last,
            valid_label_columns=valid_label_columns,
            generator=generator,
            seed=seed,
        )
        columns = list(dataset.column_names) if hasattr(dataset, "column_names") else list(dataset)
        excluded = _EXCLUDED_COLUMNS | set(valid_label_columns or [])
        text_columns = [c for c in columns if c not in excluded]
        if not text_columns:
            raise ValueError(f"dataset has no text columns (columns: {columns})")
        values = [list(dataset[c]) for c in text_columns]
        negative = [c.startswith(NEGATIVE_PREFIX) for c in text_columns]
        self.num_rows = len(values[0])
        pair_values = [col for col, neg in zip(values, negative, strict=True) if not neg]
        negative_values = [col for col, neg in zip(values, negative, strict=True) if neg]
        self._keys: list[frozenset[int]] = [
            frozenset(_text_key(col[i]) for col in pair_values) for i in range(self.num_rows)
        ]
        self._negative_keys: list[frozenset[int]] = [
            frozenset(_text_key(col[i]) for col in negative_values) for i in range(self.num_rows)
        ]
        self._lengths = [sum(len(str(col[i])) for col in values) for i in range(self.num_rows)]
        self.group_by_length = group_by_length
        self.group_factor = group_factor
        self.num_replicas = num_replicas
        self._bucket = _buckets(difficulty, curriculum_buckets, self.num_rows)
        self._cache: dict[int, list[list[int]]] = {}

    # ------------------------------------------------------------------ batches

    def _global_batches(self, epoch: int) -> list[list[int]]:
        if epoch in self._cache:
            return self._cache[epoch]
        generator = torch.Generator()
        generator.manual_seed(int(self.seed) + int(epoch))
        order = torch.randperm(self.num_rows, generator=generator).tolist()
        segments = [order]
        if self._bucket is not None:  # curriculum: bucket by bucket, random within one; no window spans two
            segments = [[] for _ in range(max(self._bucket) + 1)]
            for index in order:
                segments[self._bucket[index]].append(index)
        size = self.batch_size * self.num_replicas
        window = size * self.group_factor
        batches: list[list[int]] = []
        pending: list[int] = []
        for segment in segments:
            for start in range(0, len(segment), window):
                chunk = pending + segment[start : start + window]
                if self.group_by_length:
                    chunk.sort(key=lambda i: -self._lengths[i])
                full, pending = self._fill(chunk, size)
                batches.extend(full)
        while pending and not self.drop_last:  # the tail: smaller batches, still without duplicates
            batch, pending = self._one_batch(pending, len(pending))
            batches.append(batch)
        if pending and self.drop_last and len(pending) >= size:
            logger.warning(
                "%d pairs could not be placed without repeating a text in a batch and were left out",
                len(pending),
            )
        perm = torch.randperm(len(batches), generator=generator).tolist()
        if self._bucket is not None:
            level = [sum(self._bucket[i] for i in b) / len(b) for b in batches]
            perm.sort(key=lambda j: round(level[j]))
        batches = [batches[i] for i in perm]
        self._cache = {epoch: batches}
        return batches

    def _one_batch(self, items: Sequence[int], size: int) -> tuple[list[int], list[int]]:
        batch: list[int] = []
        seen: set[int] = set()  # anchors and positives in the batch
        seen_negatives: set[int] = set()
        deferred: list[int] = []
        for pos, index in enumerate(items):
            if len(batch) == size:
                deferred.extend(items[pos:])
                break
            keys, negatives = self._keys[index], self._negative_keys[index]
            if seen.isdisjoint(keys) and seen_negatives.isdisjoint(keys) and seen.isdisjoint(negatives):
                batch.append(index)
                seen.update(keys)
                seen_negatives.update(negatives)
            else:
                deferred.append(index)
        return batch, deferred

    def _fill(self, items: list[int], size: int) -> tuple[list[list[int]], list[int]]:
        full: list[list[int]] = []
        remaining = items
        while len(remaining) >= size:
            batch, deferred = self._one_batch(remaining, size)
            if len(batch) < size:  # duplicates everywhere: carry all of it to the next window
                return full, batch + deferred
            full.append(batch)
            remaining = deferred
        return full, remaining

    def __iter__(self) -> Iterator[list[int]]:
        for batch in self._global_batches(self.epoch):
            if self.num_replicas == 1:
                yield batch
            else:
                per = -(-len(batch) // self.num_replicas)
                for r in range(self.num_replicas):
                    yield batch[r * per : (r + 1) * per]

    def __len__(self) -> int:
        return len(self._global_batches(self.epoch)) * self.num_replicas
