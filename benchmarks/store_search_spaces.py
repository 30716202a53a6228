"""Store-search time per embedding space, with and without the language filter, on a kept store.

Opens a store built by ``benchmarks/search_latency.py`` (``KEEP=1``) read-only and times
``EdgeStore.search`` alone (no model) with random unit query vectors, k=10, for four cases:
a language adapter's space with ``languages=[lang]`` (what ``CodeIndex.search`` does), the same space
without the language filter, the unified ``text2code`` space without and with the language filter.
Also reports how many of the top 10 in a language space are the same with and without the filter.

    PYTHONPATH=.:integrations/qdrant python benchmarks/store_search_spaces.py WORKDIR/n1000000/idx

Appends one entry per run to benchmarks/results/store_search_spaces.json.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from loracode_qdrant.store import EdgeStore

LANGS = ["python", "go", "java", "javascript", "php", "ruby"]
QUERIES = int(os.environ.get("QUERIES", "200"))
OUT = Path(__file__).resolve().parent / "results" / "store_search_spaces.json"


def main() -> None:
    idx = sys.argv[1]
    store = EdgeStore(idx, read_only=True)
    store.open(["base"], 384)  # an existing store keeps its own spaces
    rng = np.random.default_rng(1)

    def unit() -> list[float]:
        v = rng.standard_normal(384).astype(np.float32)
        return (v / np.linalg.norm(v)).tolist()

    def run(fn: Callable[[list[float], str], object]) -> dict[str, float]:
        for i in range(20):  # warm-up
            fn(unit(), LANGS[i % len(LANGS)])
        times = []
        for i in range(QUERIES):
            v = unit()
            t0 = time.perf_counter()
            fn(v, LANGS[i % len(LANGS)])
            times.append((time.perf_counter() - t0) * 1000)
        return {"p50": round(float(np.median(times)), 2), "p95": round(float(np.percentile(times, 95)), 2)}

    cases = {
        "language space, languages=[lang] (as CodeIndex.search)": lambda v, lang: store.search(
            f"text2code-{lang}", v, 10, languages=[lang]
        ),
        "language space, no language filter": lambda v, lang: store.search(f"text2code-{lang}", v, 10),
        "unified space, no language filter": lambda v, lang: store.search("text2code", v, 10),
        "unified space, languages=[lang]": lambda v, lang: store.search("text2code", v, 10, languages=[lang]),
    }
    load_before = os.getloadavg()
    rows = {name: run(fn) for name, fn in cases.items()}
    same = 0
    for i in range(50):
        lang = LANGS[i % len(LANGS)]
        v = unit()
        a = {h.id for h in store.search(f"text2code-{lang}", v, 10, languages=[lang])}
        b = {h.id for h in store.search(f"text2code-{lang}", v, 10)}
        same += len(a & b)
    info = store._require().info()
    store.close()
    entry = {
        "store": idx,
        "points": info.points_count,
        "queries": QUERIES,
        "store_search_ms": rows,
        "top10_overlap_with_and_without_filter": same / 500,
        "load_average_before": load_before,
        "load_average": os.getloadavg(),
        "machine": "2-core CPU dev machine, shared",
        "vectors": "synthetic random unit vectors (store and queries)",
    }
    results = json.loads(OUT.read_text()) if OUT.exists() else []
    results.append(entry)
    OUT.write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(entry, indent=2))


if __name__ == "__main__":
    main()
