"""Benchmark: `CodeIndex.search` latency on an embedded Qdrant Edge store of 100k and 1M chunks.

The store part uses synthetic vectors (random unit vectors, 384-d like MiniLM) and synthetic payloads
spread over 5 languages and 20k files; the query embedding is real (the default bundle on CPU) and is
included in every timed search, as are the language filter and payload retrieval. Knobs at the top;
run from the repository root:

    PYTHONPATH=.:integrations/qdrant python benchmarks/search_latency.py            # 100k and 1M
    SIZES=100000 PYTHONPATH=.:integrations/qdrant python benchmarks/search_latency.py

The 1M build (upsert, then one HNSW build by ``optimize()``, Qdrant Edge's default settings) takes a
long time on a small machine; ``KEEP=1 WORKDIR=DIR`` keeps the built store, and a later run with
``REUSE=1`` and the same ``WORKDIR`` only re-measures the searches on it (the build times are then
taken from the previous entry of the results file, and the entry says ``"build_reused": true``).

Writes benchmarks/results/search_latency.json (one entry per size).
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

# ---- knobs
SIZES = [int(s) for s in os.environ.get("SIZES", "100000,1000000").split(",")]
QUERIES = int(os.environ.get("QUERIES", "200"))
K = 10
BATCH = 2000
LANGS = ["python", "go", "java", "javascript", "rust"]
WORKDIR = Path(os.environ.get("WORKDIR", tempfile.mkdtemp(prefix="loracode-latency-")))
OUT = Path(__file__).resolve().parent / "results" / "search_latency.json"

from loracode_qdrant import CodeIndex  # noqa: E402
from loracode_qdrant.ids import chunk_point_id  # noqa: E402
from loracode_qdrant.store import StoredPoint  # noqa: E402

from loracode_embed import LoRACodeModel  # noqa: E402

QUERY_TEXTS = [
    "retry an http request with backoff",
    "parse a json config file",
    "sort a list of tuples by key",
    "open a tcp socket and send bytes",
    "compute the sha256 of a file",
    "read a csv into a list of dicts",
    "def parse(s): return json.loads(s)",
    "walk a directory tree recursively",
    "format a date as iso 8601",
    "merge two sorted lists",
    "escape html special characters",
    "start a thread pool and wait for results",
]


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(values), q))


def _timed(fn: Callable[..., Any], acc: dict[str, float], key: str) -> Callable[..., Any]:
    """``fn``, adding its run time to ``acc[key]`` at each call."""

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        t0 = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            acc[key] += time.perf_counter() - t0

    return wrapper


def build(index: CodeIndex, n: int, dim: int, rng: np.random.Generator) -> float:
    store = index.store
    t0 = time.perf_counter()
    for start in range(0, n, BATCH):
        count = min(BATCH, n - start)
        vecs = rng.standard_normal((count, dim)).astype(np.float32)
        vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
        points = []
        for j in range(count):
            i = start + j
            path = f"pkg{i % 200}/file{i % 20000}.x"
            payload = {
                "record": "chunk",
                "path": path,
                "language": LANGS[i % len(LANGS)],
                "symbol": f"f{i}",
                "kind": "function",
                "start_line": 1 + i % 500,
                "end_line": 10 + i % 500,
                "start_byte": 0,
                "end_byte": 100,
                "content_hash": f"{i:064x}",
                "text": f"def f{i}(x):\n    return x + {i}\n",
            }
            points.append(
                StoredPoint(
                    chunk_point_id(path, payload["content_hash"]), {"base": vecs[j].tolist()}, payload
                )
            )
        store.upsert(points)
    store.flush()
    upsert_s = time.perf_counter() - t0
    return upsert_s


def main() -> None:
    model = LoRACodeModel.from_pretrained(device="cpu")
    dim = model.embedding_dim
    rng = np.random.default_rng(0)
    results = json.loads(OUT.read_text()) if OUT.exists() else {}
    for n in SIZES:
        folder = WORKDIR / f"n{n}"
        reuse = os.environ.get("REUSE") == "1" and (folder / "idx" / "shard" / "edge_config.json").exists()
        if reuse:
            previous = results.get(str(n), {})
            upsert_s, optimize_s = (
                previous.get("upsert_s", float("nan")),
                previous.get("optimize_hnsw_s", float("nan")),
            )
            build_load = previous.get("build_load_average")
            print(f"n={n}: reusing the store in {folder}", flush=True)
        else:
            shutil.rmtree(folder, ignore_errors=True)
            index = CodeIndex(folder, model=model, index_dir=folder / "idx")
            meta = index._open(for_write=True)
            upsert_s = build(index, n, dim, rng)
            t0 = time.perf_counter()
            index.store.optimize()
            optimize_s = time.perf_counter() - t0
            build_load = os.getloadavg()
            index.store.write_meta({**meta, "languages": LANGS})
            index.close()
            print(f"n={n}: upsert {upsert_s:.1f}s, optimize (HNSW) {optimize_s:.1f}s", flush=True)

        index = CodeIndex(folder, model=model, index_dir=folder / "idx")
        for q in QUERY_TEXTS:  # warm-up: load the shard, page in the HNSW graph, warm the model
            index.search(q, k=K)
        # The parts are timed inside the same CodeIndex.search calls (wrapping the model's encode_query
        # and the store's search), so a part never profits from a cache the total call just warmed.
        parts: dict[str, float] = {"embed": 0.0, "store": 0.0}
        index.store.search = _timed(index.store.search, parts, "store")  # type: ignore[method-assign]
        model.encode_query = _timed(model.encode_query, parts, "embed")  # type: ignore[method-assign]
        totals, embeds, stores, lang_totals, lang_stores = [], [], [], [], []
        for i in range(QUERIES):
            q = QUERY_TEXTS[i % len(QUERY_TEXTS)] + f" {i}"
            parts.update(embed=0.0, store=0.0)
            t0 = time.perf_counter()
            hits = index.search(q, k=K)
            totals.append((time.perf_counter() - t0) * 1000)
            embeds.append(parts["embed"] * 1000)
            stores.append(parts["store"] * 1000)
            assert len(hits) == K
            parts.update(embed=0.0, store=0.0)
            t0 = time.perf_counter()
            hits = index.search(q + " in go", language="go", k=K)  # another vector: another graph path
            lang_totals.append((time.perf_counter() - t0) * 1000)
            lang_stores.append(parts["store"] * 1000)
            assert len(hits) == K and all(h.language == "go" for h in hits)
        del model.encode_query  # back to the class's method
        info = index.store._require().info()
        index.close()
        entry = {
            "chunks": n,
            "indexed_vectors": info.indexed_vectors_count,
            "segments": info.segments_count,
            "upsert_s": round(upsert_s, 1),
            "optimize_hnsw_s": round(optimize_s, 1),
            "build_load_average": build_load,
            "build_reused": reuse,
            "queries": QUERIES,
            "search_ms": {
                "p50": round(statistics.median(totals), 2),
                "p95": round(percentile(totals, 95), 2),
                "p99": round(percentile(totals, 99), 2),
                "max": round(max(totals), 2),
            },
            "query_embedding_ms": {
                "p50": round(statistics.median(embeds), 2),
                "p95": round(percentile(embeds, 95), 2),
            },
            "store_search_ms": {
                "p50": round(statistics.median(stores), 2),
                "p95": round(percentile(stores, 95), 2),
            },
            "search_one_language_ms": {
                "p50": round(statistics.median(lang_totals), 2),
                "p95": round(percentile(lang_totals, 95), 2),
            },
            "store_search_one_language_ms": {
                "p50": round(statistics.median(lang_stores), 2),
                "p95": round(percentile(lang_stores, 95), 2),
            },
            "parts_timed": "inside the same CodeIndex.search calls",
            "process_nice": os.nice(0),
            "machine": f"{platform.machine()} {os.cpu_count()} CPUs (2-core CPU dev machine, shared)",
            "load_average": os.getloadavg(),
            "query_threads": index.query_threads,
            "vectors": "synthetic random unit vectors (store part); real MiniLM query embedding",
        }
        results[str(n)] = entry
        OUT.parent.mkdir(parents=True, exist_ok=True)
        OUT.write_text(json.dumps(results, indent=2) + "\n")
        print(json.dumps(entry, indent=2), flush=True)
        if os.environ.get("KEEP") != "1":
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
