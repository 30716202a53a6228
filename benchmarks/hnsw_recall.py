"""recall@10 of Qdrant Edge's search against exact search on a kept (synthetic) store, per space and ef.

Opens a store built by ``benchmarks/search_latency.py`` (``KEEP=1``) read-only, with Qdrant Edge
directly, and for random unit query vectors compares the top 10 of the normal search (default ``ef``,
and each ``hnsw_ef`` in ``EFS``) with the top 10 of ``exact=True``. Also gives, per space, the
segment's full-scan threshold (points): a space with fewer vectors than that is searched by a full
scan, so exactly, whatever ``ef`` says. The stored vectors are random unit vectors: a worst case for
HNSW (no cluster structure, all cosines near 0), so these recalls say nothing about real embeddings.

    EFS=32,64 PYTHONPATH=.:integrations/qdrant python benchmarks/hnsw_recall.py WORKDIR/n100000/idx

Appends one entry per run to benchmarks/results/hnsw_recall_synthetic.json.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import numpy as np
import qdrant_edge as qe

QUERIES = int(os.environ.get("QUERIES", "100"))
EFS = [int(e) for e in os.environ.get("EFS", "32,64").split(",") if e]
SPACES = os.environ.get("SPACES", "text2code-go,text2code-python,text2code").split(",")
K = 10
OUT = Path(__file__).resolve().parent / "results" / "hnsw_recall_synthetic.json"


def top(shard: qe.EdgeShard, space: str, vector: list[float], params: qe.SearchParams | None) -> set:
    return {h.id for h in shard.query(qe.QueryRequest(limit=K, query=qe.Query.Nearest(vector, using=space),
                                                      params=params))}  # fmt: skip


def main() -> None:
    shard_dir = Path(sys.argv[1]) / "shard"
    shard = qe.EdgeShard.load(str(shard_dir))
    rng = np.random.default_rng(7)
    entry: dict = {
        "store": str(shard_dir),
        "points": shard.info().points_count,
        "queries": QUERIES,
        "spaces": {},
    }
    for space in SPACES:
        configs = [
            json.loads(p.read_text())
            for p in shard_dir.glob(f"segments/*/vector_index-{space}/hnsw_config.json")
        ]
        vectors = rng.standard_normal((QUERIES, 384)).astype(np.float32)
        vectors = (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).tolist()
        exact = [top(shard, space, v, qe.SearchParams(exact=True)) for v in vectors]
        row = {
            "indexed_vectors": sum(c["indexed_vector_count"] for c in configs),
            "full_scan_threshold_points": [c["full_scan_threshold"] for c in configs],
        }
        for ef in [None, *EFS]:
            params = qe.SearchParams(hnsw_ef=ef) if ef else None
            got = [top(shard, space, v, params) for v in vectors]
            recall = float(np.mean([len(a & b) / K for a, b in zip(got, exact, strict=True)]))
            row[f"recall@10 ef={ef or 'default'}"] = round(recall, 4)
        entry["spaces"][space] = row
        print(space, row, flush=True)
    shard.close()
    entry["vectors"] = "synthetic random unit vectors (worst case for HNSW)"
    runs = json.loads(OUT.read_text()) if OUT.exists() else []
    runs.append(entry)
    OUT.write_text(json.dumps(runs, indent=2) + "\n")


if __name__ == "__main__":
    main()
