"""The store part of a default search (six language spaces) done several ways, on a kept store.

Opens a store built by ``benchmarks/search_latency.py`` (``KEEP=1``) with Qdrant Edge directly (no
model: random unit query vectors, one per space) and times, per simulated search, six k=10 searches
in the six ``text2code-<language>`` spaces, for these variants:

* ``record_filter_payload``: each search filtered on ``record == "chunk"``, full payloads (the search
  before this change);
* ``payload``: no filter, full payloads;
* ``ids_then_retrieve``: no filter, ids and scores only, then one ``retrieve`` of 10 payloads;
* ``record_filter_ids_then_retrieve``: as the previous, with the ``record`` filter;
* ``batch_ids_then_retrieve``: the six searches in one ``query_batch``, then one ``retrieve``
  (what ``CodeIndex.search`` does now);
* ``threads2_ids_then_retrieve``: the six searches on a pool of 2 threads, then one ``retrieve``.

Every variant is warmed up first (30 searches), then timed over ``QUERIES`` searches (default 200).

    PYTHONPATH=.:integrations/qdrant python benchmarks/store_search_variants.py WORKDIR/n100000/idx

Appends one entry per run to benchmarks/results/store_search_variants.json.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import qdrant_edge as qe

LANGS = ["python", "go", "java", "javascript", "php", "ruby"]
SPACES = [f"text2code-{lang}" for lang in LANGS]
QUERIES = int(os.environ.get("QUERIES", "200"))
K = 10
OUT = Path(__file__).resolve().parent / "results" / "store_search_variants.json"
RECORD = qe.Filter(must=[qe.FieldCondition("record", match=qe.MatchValue("chunk"))])


def request(space: str, vector: list[float], record_filter: bool, payload: bool) -> Any:
    return qe.QueryRequest(limit=K, query=qe.Query.Nearest(vector, using=space),
                           filter=RECORD if record_filter else None, with_payload=payload)  # fmt: skip


def main() -> None:
    shard_dir = Path(sys.argv[1]) / "shard"
    shard = qe.EdgeShard.load(str(shard_dir))
    pool = ThreadPoolExecutor(2)
    rng = np.random.default_rng(1)

    def unit() -> list[float]:
        v = rng.standard_normal(384).astype(np.float32)
        return (v / np.linalg.norm(v)).tolist()

    def retrieve(lists: list[list[Any]]) -> None:
        shard.retrieve([h.id for hits in lists for h in hits][:K], with_payload=True, with_vector=False)

    def sequential(record_filter: bool, payload: bool) -> Callable[[list[list[float]]], None]:
        def run(vectors: list[list[float]]) -> None:
            lists = [
                shard.query(request(s, v, record_filter, payload))
                for s, v in zip(SPACES, vectors, strict=True)
            ]
            if not payload:
                retrieve(lists)

        return run

    def batch(vectors: list[list[float]]) -> None:
        reqs = [request(s, v, False, False) for s, v in zip(SPACES, vectors, strict=True)]
        retrieve(shard.query_batch(qe.QueryBatchRequest(reqs)))

    def threads(vectors: list[list[float]]) -> None:
        retrieve(list(pool.map(lambda sv: shard.query(request(sv[0], sv[1], False, False)),
                               zip(SPACES, vectors, strict=True))))  # fmt: skip

    variants: dict[str, Callable[[list[list[float]]], None]] = {
        "record_filter_payload": sequential(True, True),
        "payload": sequential(False, True),
        "ids_then_retrieve": sequential(False, False),
        "record_filter_ids_then_retrieve": sequential(True, False),
        "batch_ids_then_retrieve": batch,
        "threads2_ids_then_retrieve": threads,
    }
    for fn in variants.values():  # warm-up
        for _ in range(30):
            fn([unit() for _ in SPACES])
    load_before = os.getloadavg()
    results = {}
    for name, fn in variants.items():
        times = []
        for _ in range(QUERIES):
            vectors = [unit() for _ in SPACES]
            t0 = time.perf_counter()
            fn(vectors)
            times.append((time.perf_counter() - t0) * 1000)
        results[name] = {
            "p50": round(float(np.median(times)), 2),
            "p95": round(float(np.percentile(times, 95)), 2),
        }
        print(name, results[name], flush=True)
    info = shard.info()
    entry = {
        "store": str(shard_dir),
        "points": info.points_count,
        "queries": QUERIES,
        "six_searches_ms": results,
        "load_average_before": load_before,
        "load_average": os.getloadavg(),
        "machine": "2-core CPU dev machine (shared)",
    }
    shard.close()
    runs = json.loads(OUT.read_text()) if OUT.exists() else []
    runs.append(entry)
    OUT.write_text(json.dumps(runs, indent=2) + "\n")


if __name__ == "__main__":
    main()
