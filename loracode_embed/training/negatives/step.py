"""The hard-negative data step: one language's train split in, a derived training set with negatives out.

``build_negatives_set(source, out, ...)`` reads ``<source>/train-*.jsonl[.gz]`` (records with
``query``, ``code``, ``package``, ``path``, ...), then

1. embeds every anchor and positive (base model, or base + ``adapter``; batched, on the GPU if present);
2. *consistency filter* (``consistency_k > 0``): drops the pairs whose positive is not in the top k
   codes of the split for its own query, under the **base** model;
3. *mining* (``settings`` given): computes the guard keys (MinHash signatures over ``workers``
   processes), searches each query's ``rank_max`` nearest codes by chunked matrix
   products and picks ``num_negatives`` per pair from the rank window past the guards
   (:mod:`~loracode_embed.training.negatives.mine`);
4. writes ``<out>/train-NNNNN.jsonl.gz`` (each kept record, plus ``negatives``: the chosen codes,
   hardest first, ``negative_ranks``, ``negative_scores``, ``positive_score``, ``hardness`` = mean
   negative score - positive score, and ``negative_ids`` when records have ids), copies the
   ``valid`` shards unchanged (the dev set stays comparable), and ``<out>/negatives.json``: settings,
   counts (pairs each step drops, guard rejections), seconds per stage, ``pairs_per_s`` (pairs over
   encode + search + guards + draw; the model load excluded), model and data sha256s.

The output folder is written aside and renamed into place, so a killed run leaves no half set.

Example (a real run: seconds on a GPU for a 200k-pair split; tests/test_negatives.py runs it on the tiny
model)::

    from loracode_embed.training.negatives import MiningSettings, build_negatives_set
    report = build_negatives_set("corpus/python", "corpus/python-hn", MiningSettings(num_negatives=4),
                                 consistency_k=0, base="/tmp/base", dtype="bfloat16")
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import time
from pathlib import Path
from typing import Any

import numpy as np

from loracode_embed.training.negatives.consistency import consistency_keep
from loracode_embed.training.negatives.encode import encode_pairs, load_encoder
from loracode_embed.training.negatives.guards import candidate_keys
from loracode_embed.training.negatives.mine import MiningSettings, mine_negatives, pair_keys
from loracode_embed.training.negatives.search import search_neighbours

logger = logging.getLogger(__name__)

REPORT = "negatives.json"


def read_split(
    source: Path, split: str, anchor_field: str = "query", positive_field: str = "code", limit: int = 0
) -> tuple[list[Path], list[dict[str, Any]]]:
    """The ``<source>/<split>-*`` files and their records with non-empty anchor and positive.

    Raises:
        FileNotFoundError: no such shard; ValueError: a record lacks a text field (names file and line).
    """
    from loracode_embed.jsonl import require_strings
    from loracode_embed.training.data import find_shards, iter_records

    files = find_shards(source.parent, [source.name], split)
    records: list[dict[str, Any]] = []
    for path in files:
        for lineno, record in iter_records(path):
            if not isinstance(record, dict):
                raise ValueError(f"{path}:{lineno}: expected a JSON object, got {type(record).__name__}")
            require_strings(record, (anchor_field, positive_field), path, lineno)
            if record[anchor_field].strip() and record[positive_field].strip():
                records.append(record)
            if limit and len(records) >= limit:
                return files, records
    return files, records


def build_negatives_set(
    source: str | os.PathLike[str],
    out: str | os.PathLike[str],
    settings: MiningSettings | None = None,
    consistency_k: int = 0,
    *,
    base: str | os.PathLike[str] | None = None,
    adapter: str | None = None,
    device: str | None = None,
    dtype: str | None = None,
    batch_size: int = 256,
    chunk_size: int = 2048,
    train_split: str = "train",
    eval_split: str = "valid",
    anchor_field: str = "query",
    positive_field: str = "code",
    max_pairs: int = 0,
    workers: int = 0,
) -> dict[str, Any]:
    """Filter and/or mine ``source``'s train split into ``out``; returns the report (also in ``out/negatives.json``).

    Args:
        source: A language folder of shards (``<corpus>/python``).
        out: The derived folder to write (replaced if it exists), e.g. ``<corpus>/python-hn``.
        settings: Mining settings; None: no mining (a consistency-filtered copy only).
        consistency_k: Keep pairs whose positive ranks in the top k for its query under the base model (0: off).
        base: The base encoder; adapter: ``NAME=DIR`` to mine with a trained adapter instead of the base.
        device, dtype: Where and in what precision to encode (see :func:`load_encoder`).
        batch_size: Texts per forward pass; chunk_size: query rows per similarity product.
        max_pairs: Read at most this many pairs (0: all), for trials.
        workers: Processes computing MinHash signatures (0: automatic, see :func:`minhash_signatures`).

    Raises:
        ValueError: nothing to do, a bad setting, or records without the guard fields (before any encoding).
    """
    from loracode_embed.mining.shards import ShardWriter
    from loracode_embed.training.checkpoint import publish_dir
    from loracode_embed.training.data import file_digests

    source, out = Path(source), Path(out)
    if settings is None and consistency_k == 0:
        raise ValueError("nothing to do: give mining settings, a consistency_k > 0, or both")
    if consistency_k < 0:
        raise ValueError(f"consistency_k must be >= 0 (0: off), got {consistency_k}")
    if settings is not None:
        settings.validate()
    if out.resolve() == source.resolve():
        raise ValueError(f"out {os.fspath(out)!r} must differ from source")
    for name, value in (("batch_size", batch_size), ("chunk_size", chunk_size)):
        if value < 1:
            raise ValueError(f"{name} must be >= 1, got {value}")
    timings: dict[str, float] = {}
    started = time.perf_counter()
    files, records = read_split(source, train_split, anchor_field, positive_field, max_pairs)
    if len(records) < 2:
        raise ValueError(f"{source}: {len(records)} usable {train_split} pairs; mining needs at least 2")
    timings["read"] = time.perf_counter() - started

    if settings is not None:
        # before the model: the MinHash processes fork from a parent that has not touched CUDA yet
        tick = time.perf_counter()
        keys = candidate_keys(
            records, anchor_field, positive_field, settings.file_fields, settings.near_duplicate, workers
        )
        record_keys = pair_keys(records, anchor_field, positive_field)
        timings["guard_keys"] = time.perf_counter() - tick

    tick = time.perf_counter()
    model, name = load_encoder(base, adapter, device, dtype)
    timings["load_model"] = time.perf_counter() - tick
    anchors = [r[anchor_field] for r in records]
    positives = [r[positive_field] for r in records]
    tick = time.perf_counter()
    queries, codes = encode_pairs(model, anchors, positives, name, batch_size)
    timings["encode"] = time.perf_counter() - tick

    positive_ranks = None
    neighbours = None
    tick = time.perf_counter()
    if settings is not None:
        neighbours = search_neighbours(queries, codes, settings.rank_max, chunk_size)
        if name == "base":
            positive_ranks = neighbours.positive_ranks
    timings["search"] = time.perf_counter() - tick
    if consistency_k and positive_ranks is None:  # mined with an adapter: the filter still uses the base
        tick = time.perf_counter()
        base_queries, base_codes = encode_pairs(model, anchors, positives, "base", batch_size)
        positive_ranks = search_neighbours(base_queries, base_codes, 0, chunk_size).positive_ranks
        timings["consistency_base"] = time.perf_counter() - tick
    kept = consistency_keep(positive_ranks, consistency_k) if consistency_k else None
    rows = np.flatnonzero(kept.keep) if kept is not None else np.arange(len(records))

    mined = None
    if settings is not None and neighbours is not None:
        tick = time.perf_counter()
        mined = mine_negatives(neighbours, keys, settings, record_keys, rows, chunk_size)
        timings["mine"] = time.perf_counter() - tick

    tick = time.perf_counter()
    staging = out.with_name(f".{out.name}.staging")
    shutil.rmtree(staging, ignore_errors=True)
    with ShardWriter(staging.parent, staging.name, "train") as writer:
        for j, i in enumerate(rows):
            record = dict(records[i])
            if mined is not None:
                chosen = mined.indices[j]
                record["negatives"] = [records[c][positive_field] for c in chosen]
                if all(isinstance(records[c].get("id"), str) for c in chosen):
                    record["negative_ids"] = [records[c]["id"] for c in chosen]
                record["negative_ranks"] = [int(r) for r in mined.ranks[j]]
                record["negative_scores"] = [round(float(s), 5) for s in mined.scores[j]]
                record["positive_score"] = round(float(neighbours.positive_scores[i]), 5)
                record["hardness"] = (
                    round(float(np.mean(mined.scores[j]) - neighbours.positive_scores[i]), 5)
                    if len(chosen)
                    else None
                )
            writer.write(record)
    shards = [{**entry, "file": Path(entry["file"]).name} for entry in writer.shards]
    for path in sorted(source.glob(f"{eval_split}-*")):
        shutil.copy(path, staging / path.name)
    timings["write"] = time.perf_counter() - tick
    timings["total"] = time.perf_counter() - started
    mining_seconds = sum(
        timings.get(k, 0.0) for k in ("encode", "search", "consistency_base", "guard_keys", "mine")
    )

    report: dict[str, Any] = {
        "source": {"folder": os.fspath(source), "train_files": file_digests(files), "pairs": len(records)},
        "output": {"folder": os.fspath(out), "train_files": shards, "pairs": int(len(rows))},
        "eval_files_copied": sorted(p.name for p in source.glob(f"{eval_split}-*")),
        "model": {
            "base": os.fspath(base) if base is not None else None,
            "base_sha256": model.manifest.base.sha256,
            "adapter": adapter,
            "adapter_sha256": model.manifest.adapters[name].sha256 if name != "base" else None,
            "device": str(model.device),
            "dtype": str(model.dtype).replace("torch.", ""),
        },
        "fields": {"anchor": anchor_field, "positive": positive_field},
        "settings": settings.to_dict() if settings is not None else None,
        "consistency": (kept if kept is not None else consistency_keep(positive_ranks, 0)).counts
        if positive_ranks is not None
        else {"k": 0},
        "mining": mined.counts if mined is not None else None,
        "chunk_size": chunk_size,
        "batch_size": batch_size,
        "seconds": {k: round(v, 3) for k, v in timings.items()},
        "pairs_per_s": round(len(records) / max(mining_seconds, 1e-9), 1),
    }
    (staging / REPORT).write_text(json.dumps(report, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    publish_dir(staging, out)
    logger.info(
        "%s: %d -> %d pairs (consistency k=%d), %s negatives, %.0f pairs/s",
        source.name, len(records), len(rows), consistency_k, mined.counts["negatives"] if mined else 0,
        report["pairs_per_s"],
    )  # fmt: skip
    return report
