"""Benchmark: what Qdrant Edge settings do to the HNSW build time (the slow part of a big first index).

Builds the same synthetic store (random unit vectors, 384-d like MiniLM, payloads and keyword payload
indexes as ``EdgeStore`` creates them) once per configuration and times ``optimize()``, the one HNSW
build, then an incremental ``optimize()`` after 20 new and 20 replaced points. Also reports recall@10
of the default search against an exact search (queries: stored vectors plus noise), over all points
and with a one-language filter. Random vectors have no cluster structure, so recall here is a lower
bound, useful only to compare configurations with each other.

Configurations: ``default`` (what ``EdgeStore`` uses: m=16, ef_construct=100, payload indexes on
record/path/language/content_hash), ``payload_m0`` (no per-payload-value subgraphs), ``ef64``
(ef_construct=64), ``int8`` (scalar int8 quantization, quantile 0.99, kept in RAM).

    PYTHONPATH=.:integrations/qdrant python benchmarks/hnsw_build_options.py
    N=30000 CONFIGS=default,int8 PYTHONPATH=.:integrations/qdrant python benchmarks/hnsw_build_options.py

Writes benchmarks/results/hnsw_build_options.json.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import shutil
import tempfile
import time
import uuid
from pathlib import Path

import numpy as np
import qdrant_edge as qe
from machine_info import machine_description

N = int(os.environ.get("N", "30000"))
CONFIGS = os.environ.get("CONFIGS", "default,payload_m0,ef64,int8").split(",")
QUERIES = int(os.environ.get("QUERIES", "200"))
DIM = 384
LANGS = ["python", "go", "java", "javascript", "rust"]
INDEXED_FIELDS = ("record", "path", "language", "content_hash")  # as loracode_qdrant.store
OUT = Path(__file__).resolve().parent / "results" / "hnsw_build_options.json"


def edge_config(name: str) -> qe.EdgeConfig:
    vector_kw: dict = {}
    kw: dict = {}
    if name == "int8":
        vector_kw["quantization_config"] = qe.ScalarQuantizationConfig(
            qe.ScalarType.Int8, quantile=0.99, always_ram=True
        )
    elif name == "ef64":
        kw["hnsw_config"] = qe.HnswIndexConfig(m=16, ef_construct=64, full_scan_threshold=10000)
    elif name == "payload_m0":
        kw["hnsw_config"] = qe.HnswIndexConfig(m=16, ef_construct=100, full_scan_threshold=10000, payload_m=0)
    elif name != "default":
        raise ValueError(f"unknown configuration {name!r}")
    vectors = {"base": qe.EdgeVectorParams(size=DIM, distance=qe.Distance.Cosine, **vector_kw)}
    return qe.EdgeConfig(vectors=vectors, **kw)


def vectors(rng: np.random.Generator, n: int) -> np.ndarray:
    v = rng.standard_normal((n, DIM)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def points(vecs: np.ndarray, start: int) -> list:
    return [
        qe.Point(
            str(uuid.UUID(int=start + j + 1)),
            {"base": vecs[j].tolist()},
            {
                "record": "chunk",
                "path": f"f{(start + j) % 20000}.x",
                "language": LANGS[(start + j) % 5],
                "content_hash": f"{start + j:064x}",
            },
        )  # fmt: skip
        for j in range(len(vecs))
    ]


def run(name: str, folder: Path) -> dict:
    shutil.rmtree(folder, ignore_errors=True)
    shard = qe.EdgeShard.create(str(folder), edge_config(name))
    for field in INDEXED_FIELDS:
        shard.update(qe.UpdateOperation.create_field_index(field, qe.PayloadSchemaType.Keyword))
    data = vectors(np.random.default_rng(0), N)
    t0 = time.perf_counter()
    for s in range(0, N, 256):
        shard.update(qe.UpdateOperation.upsert_points(points(data[s : s + 256], s)))
    shard.flush()
    upsert_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    shard.optimize()
    optimize_s = time.perf_counter() - t0
    load_after_build = os.getloadavg()
    info = shard.info()
    extra = np.random.default_rng(2)
    shard.update(qe.UpdateOperation.upsert_points(points(vectors(extra, 20), N)))  # new
    shard.update(qe.UpdateOperation.upsert_points(points(vectors(extra, 20), 0)))  # replaced
    shard.flush()
    t0 = time.perf_counter()
    shard.optimize()
    incremental_s = time.perf_counter() - t0
    qrng = np.random.default_rng(1)
    recall: dict[str, list[float]] = {"all": [], "one_language": []}
    times = []
    for _ in range(QUERIES):
        q = data[qrng.integers(20, N)] + 0.05 * qrng.standard_normal(DIM).astype(np.float32)
        q = (q / np.linalg.norm(q)).tolist()
        for key, langs in (("all", LANGS), ("one_language", ["go"])):
            flt = qe.Filter(must=[qe.FieldCondition("record", match=qe.MatchValue("chunk")),
                                  qe.FieldCondition("language", match=qe.MatchAny(langs))])  # fmt: skip
            query = qe.Query.Nearest(q, using="base")
            t0 = time.perf_counter()
            got = shard.query(qe.QueryRequest(limit=10, query=query, filter=flt))
            times.append(time.perf_counter() - t0)
            exact = shard.query(
                qe.QueryRequest(limit=10, query=query, filter=flt, params=qe.SearchParams(exact=True))
            )
            recall[key].append(len({str(h.id) for h in got} & {str(h.id) for h in exact}) / 10)
    after = shard.info()
    shard.close()
    shutil.rmtree(folder, ignore_errors=True)
    return {
        "config": name,
        "points": N,
        "upsert_s": round(upsert_s, 1),
        "optimize_hnsw_s": round(optimize_s, 1),
        "segments": info.segments_count,
        "indexed_vectors": info.indexed_vectors_count,
        "incremental_optimize_s": round(incremental_s, 2),
        "indexed_vectors_after_incremental": after.indexed_vectors_count,
        "recall_at_10": {k: round(float(np.mean(v)), 4) for k, v in recall.items()},
        "store_search_ms_p50": round(float(np.median(times)) * 1000, 2),
        "load_average_after_build": load_after_build,
    }


def main() -> None:
    work = Path(tempfile.mkdtemp(prefix="loracode-hnsw-options-"))
    results = []
    for name in CONFIGS:
        results.append(run(name, work / name))
        print(json.dumps(results[-1]), flush=True)
    shutil.rmtree(work, ignore_errors=True)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(
        json.dumps(
            {
                "machine": machine_description(),
                "qdrant_edge_py": importlib.metadata.version("qdrant-edge-py"),
                "vectors": "synthetic random unit vectors",
                "results": results,
            },
            indent=2,
        )
        + "\n"
    )


if __name__ == "__main__":
    main()
