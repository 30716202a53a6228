"""Benchmark: `CodeIndex.search` latency on an embedded Qdrant Edge store of 100k and 1M chunks.

The store is laid out as ``CodeIndex.index`` lays it out for the model under test (by default the
shipped bundle with its adapters): each chunk gets exactly the named vectors the indexer would give
a chunk of its language (:func:`loracode_qdrant.index.code_spaces`), the store declares every space
(:func:`~loracode_qdrant.index.all_spaces`), each file has its vector-less file record, and the
metadata record lists the indexed languages, so ``CodeIndex.search`` runs its real default path.
Only the vectors are **synthetic**: random unit vectors (as many dimensions as the model's
embeddings), one per named vector; the payloads are synthetic too, spread evenly over the languages
of the shipped text2code adapters (python, go, java, javascript, php, ruby) and 20k files. The query
embedding is real (the model on CPU, ``CodeIndex``'s ``query_threads``) and is included in every
timed search, as are query-type detection, the language filters, the fusion and payload retrieval.

Timed, per query (200 by default, after 12 warm-up searches):

* ``search``: ``index.search(q, k=10)``: no language, the default ``mode="auto"``: hybrid with
  ``HYBRID=1`` (the ``search_hybrid`` search below), else ``"per-language"``: the query
  is embedded in every indexed language's space in one mixed-adapter pass
  (``encode_query_in_spaces``), each space is searched with a filter on its languages, and the lists
  are fused by reciprocal rank fusion;
* ``search_one_language``: ``index.search(q, language="go", k=10)`` (one space, one filter);
* ``search_unified``: ``index.search(q, k=10, mode="unified")`` (the unified space, no filter; only
  where the store has it, ``SPACES=all`` or ``SPACES=language,unified``);
* ``search_per_language`` (``HYBRID=1``): ``index.search(q, k=10, mode="per-language")``, the dense
  search alone (with ``HYBRID=1`` the store has sparse vectors, so ``search``'s ``mode="auto"`` is hybrid);
* ``search_hybrid`` (``HYBRID=1``): ``index.search(q, k=10, mode="hybrid")``: the per-language search's
  dense legs plus the identifier-aware BM25 leg, fused by Qdrant Edge (prefetches + DBSF). With
  ``HYBRID=1`` each chunk's text (and so its sparse vector) is a real function of the Python standard
  library (cycled), so the sparse posting lists have real code's term statistics.

The parts (query embedding: ``encode_query_in_spaces`` / ``encode_query``; store: every
``store.search``, ``store.search_many`` and ``store.retrieve`` call of the search) are timed inside
the same calls.

Run from the repository root:

    PYTHONPATH=.:integrations/qdrant python benchmarks/search_latency.py            # 100k and 1M
    SIZES=100000 PYTHONPATH=.:integrations/qdrant python benchmarks/search_latency.py

Knobs (environment): ``SIZES``, ``QUERIES``, ``QUERY_THREADS`` (``CodeIndex(query_threads=...)``,
default 1 as in the product; ``none`` leaves torch's setting), ``SPACES`` (the space kinds per chunk,
``loracode index --spaces``; default the product's, ``language``), ``DTYPE`` (the model's dtype, e.g.
``bfloat16`` for the CPU fast path; default float32), ``WORKDIR``, ``KEEP=1`` (keep the
built store in ``WORKDIR``), ``REUSE=1`` (re-measure a store kept in ``WORKDIR`` without building it
again; the build times are then taken from the previous entry of the results file, and the entry says
``"build_reused": true``), ``OUT`` (results file). The 1M build (upsert, then one HNSW build per named
vector by ``optimize()``, Qdrant Edge's default settings, the product's) takes a long time on a small
machine.

Writes benchmarks/results/search_latency_adapters.json (one entry per size; an entry measured with
another ``QUERY_THREADS`` than 1 is keyed ``"<size>@query_threads=<n>"``, one with a ``DTYPE``
gets ``"@dtype=<dtype>"`` appended). The base-only results
measured before the adapters shipped stay in search_latency.json and search_latency_1m_runs.json.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import statistics
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

# ---- knobs
SIZES = [int(s) for s in os.environ.get("SIZES", "100000,1000000").split(",")]
QUERIES = int(os.environ.get("QUERIES", "200"))
_threads = os.environ.get("QUERY_THREADS", "1")
QUERY_THREADS: int | None = None if _threads.lower() == "none" else int(_threads)
#: The model's dtype (``DTYPE=bfloat16``: the CPU fast path, which ``loracode index``/``search`` and
#: ``CodeIndex`` pick by default on a CPU with hardware bfloat16); default: ``LoRACodeModel``'s float32.
DTYPE = os.environ.get("DTYPE") or None
#: ``HYBRID=1``: real chunk texts with sparse vectors, and a fourth timed search, ``mode="hybrid"``.
HYBRID = os.environ.get("HYBRID") == "1"
#: ``SPACES``: the space kinds a chunk is stored in (``CodeIndex(spaces=...)``): the product's default
#: (``language``, one dense vector per chunk) unless set, e.g. ``SPACES=all`` for the three-space layout.
SPACES = os.environ.get("SPACES") or None
K = 10
BATCH = 2000
FILES = 20000
#: The languages of the shipped text2code adapters, with a file extension each.
LANGS = {"python": ".py", "go": ".go", "java": ".java", "javascript": ".js", "php": ".php", "ruby": ".rb"}
WORKDIR = Path(os.environ.get("WORKDIR", tempfile.mkdtemp(prefix="loracode-latency-")))
OUT = Path(
    os.environ.get("OUT", Path(__file__).resolve().parent / "results" / "search_latency_adapters.json")
)

from loracode_qdrant import CodeIndex  # noqa: E402
from loracode_qdrant.hybrid import sparse_document  # noqa: E402
from loracode_qdrant.ids import chunk_ids_for_file, file_point_id  # noqa: E402
from loracode_qdrant.index import all_spaces, code_spaces  # noqa: E402
from loracode_qdrant.spaces import DEFAULT_SPACE_KINDS, SPACE_KINDS, check_space_kinds  # noqa: E402
from loracode_qdrant.store import StoredPoint  # noqa: E402
from machine_info import machine_description  # noqa: E402

from loracode_embed import LoRACodeModel  # noqa: E402

KINDS = check_space_kinds(SPACES) if SPACES else DEFAULT_SPACE_KINDS
#: The unified search (``mode="unified"``) needs the unified space stored.
UNIFIED = "unified" in KINDS

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


def summary(values: list[float], extra: bool = False) -> dict[str, float]:
    out = {"p50": round(statistics.median(values), 2), "p95": round(percentile(values, 95), 2)}
    if extra:
        out.update(p99=round(percentile(values, 99), 2), max=round(max(values), 2))
    return out


def _timed(fn: Callable[..., Any], acc: dict[str, float], key: str) -> Callable[..., Any]:
    """``fn``, adding its run time to ``acc[key]`` (and 1 to ``acc[key + "_calls"]``) at each call."""

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        t0 = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            acc[key] += time.perf_counter() - t0
            acc[key + "_calls"] += 1

    return wrapper


def file_of(i: int) -> tuple[str, str]:
    """Path and language of chunk ``i``'s file (file ``i % FILES``; languages spread evenly)."""
    f = i % FILES
    language = list(LANGS)[f % len(LANGS)]
    return f"pkg{f % 200}/file{f}{LANGS[language]}", language


def content_hash(i: int) -> str:
    return hashlib.sha256(f"chunk {i}".encode()).hexdigest()


def chunk_text(i: int, language: str) -> str:
    return (
        f"def f{i}(x):\n    return x + {i}\n"
        if language == "python"
        else f"function f{i}(x) {{ return x + {i}; }}\n"
    )


def real_texts(limit: int = 20000) -> list[tuple[str, str]]:
    """Name and source of up to ``limit`` functions of the Python standard library (the sparse texts)."""
    import ast
    import sysconfig

    out: list[tuple[str, str]] = []
    for path in sorted(Path(sysconfig.get_paths()["stdlib"]).rglob("*.py")):
        if "test" in path.parts or "site-packages" in path.parts:
            continue
        try:
            source = path.read_text(encoding="utf-8")
            tree = ast.parse(source)
        except (SyntaxError, UnicodeDecodeError, OSError):
            continue
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                text = ast.get_source_segment(source, node) or ""
                if 0 < len(text) < 4000:
                    out.append((node.name, text))
        if len(out) >= limit:
            return out[:limit]
    return out


def build(
    index: CodeIndex, model: Any, n: int, rng: np.random.Generator, hybrid: bool = HYBRID
) -> tuple[float, Counter[str]]:
    """Write ``n`` chunks (file by file's chunk order, as the indexer's ids) and every file's record
    (``hybrid``: real chunk texts with their sparse vectors)."""
    store = index.store
    dim = int(model.embedding_dim)
    spaces = {lang: list(code_spaces(model, lang, KINDS)) for lang in LANGS}
    per_space: Counter[str] = Counter()
    texts = real_texts() if hybrid else []
    t0 = time.perf_counter()
    for start in range(0, n, BATCH):
        count = min(BATCH, n - start)
        points = []
        for i in range(start, start + count):
            path, language = file_of(i)
            names = spaces[language]
            vecs = rng.standard_normal((len(names), dim)).astype(np.float32)
            vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
            payload = {
                "record": "chunk",
                "path": path,
                "language": language,
                "symbol": texts[i % len(texts)][0] if texts else f"f{i}",
                "kind": "function",
                "start_line": 1 + (i // FILES) * 3,
                "end_line": 3 + (i // FILES) * 3,
                "start_byte": 0,
                "end_byte": 100,
                "content_hash": content_hash(i),
                "text": texts[i % len(texts)][1] if texts else chunk_text(i, language),
            }
            # the same id the indexer gives chunk number i // FILES of this file
            (cid,) = chunk_ids_for_file(path, [payload["content_hash"]])
            sparse = sparse_document(path, payload["text"], payload["symbol"]) if hybrid else None
            points.append(StoredPoint(cid, dict(zip(names, vecs.tolist(), strict=True)), payload, sparse))
            per_space.update(names)
        store.upsert(points)
    for f in range(min(FILES, n)):  # each file's record (the indexer's "done" mark), vector-less
        path, language = file_of(f)
        hashes = [content_hash(i) for i in range(f, n, FILES)]
        ids = chunk_ids_for_file(path, hashes)
        record = {"record": "file", "path": path, "language": language, "file_hash": content_hash(-1 - f),
                  "size": 100 * len(ids), "chunk_count": len(ids), "chunk_ids": ids}  # fmt: skip
        store.upsert([StoredPoint(file_point_id(path), {}, record)])
    store.flush()
    return time.perf_counter() - t0, per_space


def main() -> None:
    model = LoRACodeModel.from_pretrained(device="cpu", dtype=DTYPE)
    rng = np.random.default_rng(0)
    results = json.loads(OUT.read_text()) if OUT.exists() else {}
    for n in SIZES:
        key = str(n) if QUERY_THREADS == 1 else f"{n}@query_threads={QUERY_THREADS}"
        key += f"@dtype={DTYPE}" if DTYPE else ""
        key += "@hybrid" if HYBRID else ""
        # entries without "@spaces=" were measured on the three-space layout (before one space per chunk)
        key += "" if KINDS == SPACE_KINDS else f"@spaces={'+'.join(KINDS)}"
        folder = WORKDIR / f"n{n}"
        reuse = os.environ.get("REUSE") == "1" and (folder / "idx" / "shard" / "edge_config.json").exists()
        if reuse:
            previous = results.get(str(n), {})
            upsert_s = previous.get("upsert_s", float("nan"))
            optimize_s = previous.get("optimize_hnsw_s", float("nan"))
            build_load = previous.get("build_load_average")
            vectors_per_space = previous.get("vectors_per_space")
            print(f"n={n}: reusing the store in {folder}", flush=True)
        else:
            shutil.rmtree(folder, ignore_errors=True)
            index = CodeIndex(folder, model=model, index_dir=folder / "idx", spaces=KINDS)
            meta = index._open(for_write=True)  # creates the store with every space, metadata record
            upsert_s, per_space = build(index, model, n, rng)
            vectors_per_space = dict(sorted(per_space.items()))
            # as CodeIndex.index does at the end of a run: languages, flush, then the HNSW build
            index.store.write_meta({**meta, "languages": sorted(LANGS), "root": str(folder)})
            index.store.flush()
            print(f"n={n}: upsert {upsert_s:.1f}s {vectors_per_space}, building HNSW...", flush=True)
            t0 = time.perf_counter()
            index.store.optimize()
            optimize_s = time.perf_counter() - t0
            build_load = os.getloadavg()
            index.close()
            print(f"n={n}: optimize (HNSW) {optimize_s:.1f}s, load {build_load}", flush=True)

        index = CodeIndex(folder, model=model, index_dir=folder / "idx", query_threads=QUERY_THREADS)
        for q in QUERY_TEXTS:  # warm-up: load the shard, page in the HNSW graphs, warm the model
            index.search(q, k=K)
            index.search(q, language="go", k=K)
            if UNIFIED:
                index.search(q, k=K, mode="unified")
            if HYBRID:
                index.search(q, k=K, mode="hybrid")
                index.search(q, k=K, mode="per-language")
        meta = index._meta or {}
        # The parts are timed inside the same CodeIndex.search calls (wrapping the model's query
        # encoders and the store's search), so a part never profits from a cache the call just warmed.
        parts: Counter[str] = Counter()
        # the store part: every search, batched search (search_many) and payload retrieve of the call
        for method in ("search", "search_many", "retrieve", "hybrid_search"):
            if hasattr(index.store, method):
                setattr(index.store, method, _timed(getattr(index.store, method), parts, "store"))
        model.encode_query = _timed(model.encode_query, parts, "embed")  # type: ignore[method-assign]
        model.encode_query_in_spaces = _timed(model.encode_query_in_spaces, parts, "embed")  # type: ignore[method-assign]
        runs: dict[str, dict[str, list[float]]] = {
            name: {"total": [], "embed": [], "store": []}
            for name in (
                "default",
                "one_language",
                *(["unified"] if UNIFIED else []),
                *(["hybrid", "per_language"] if HYBRID else []),
            )
        }
        calls: dict[str, Counter[str]] = {name: Counter() for name in runs}
        spaces_hit: dict[str, Counter[str]] = {name: Counter() for name in runs}
        tasks: Counter[str] = Counter()
        load_before = os.getloadavg()
        for i in range(QUERIES):
            q = QUERY_TEXTS[i % len(QUERY_TEXTS)] + f" {i}"
            tasks[model.classify_query(q)] += 1
            for name, kwargs in (("default", {}), ("one_language", {"language": "go"}),
                                 *((("unified", {"mode": "unified"}),) if UNIFIED else ()),
                                 *((("hybrid", {"mode": "hybrid"}), ("per_language", {"mode": "per-language"}))
                                   if HYBRID else ())):  # fmt: skip
                query = q + " in go" if name == "one_language" else q  # another vector: another graph path
                parts.clear()
                t0 = time.perf_counter()
                hits = index.search(query, k=K, **kwargs)
                runs[name]["total"].append((time.perf_counter() - t0) * 1000)
                runs[name]["embed"].append(parts["embed"] * 1000)
                runs[name]["store"].append(parts["store"] * 1000)
                calls[name][f"embed calls {parts['embed_calls']}, store calls {parts['store_calls']}"] += 1
                spaces_hit[name].update({h.space for h in hits})
                assert len(hits) == K
                if name == "one_language":
                    assert all(h.language == "go" for h in hits)
        load_after = os.getloadavg()
        del model.encode_query, model.encode_query_in_spaces  # back to the class's methods
        info = index.store._require().info()
        index.close()
        entry = {
            "chunks": n,
            "files": min(FILES, n),
            "languages": meta.get("languages"),
            "adapters": sorted(model.adapters),
            "store_spaces": all_spaces(model),
            "space_kinds": list(KINDS),
            "chunk_spaces": {lang: list(code_spaces(model, lang, KINDS)) for lang in LANGS},
            "vectors_per_space": vectors_per_space,
            "indexed_vectors": info.indexed_vectors_count,
            "points": info.points_count,
            "segments": info.segments_count,
            "upsert_s": round(upsert_s, 1),
            "optimize_hnsw_s": round(optimize_s, 1),
            "build_load_average": build_load,
            "build_reused": reuse,
            "queries": QUERIES,
            "query_tasks": dict(tasks),
            "search_ms": summary(runs["default"]["total"], extra=True),
            "query_embedding_ms": summary(runs["default"]["embed"]),
            "store_search_ms": summary(runs["default"]["store"]),
            "search_calls": dict(calls["default"]),
            "search_hit_spaces": dict(spaces_hit["default"]),
            "search_one_language_ms": summary(runs["one_language"]["total"], extra=True),
            "query_embedding_one_language_ms": summary(runs["one_language"]["embed"]),
            "store_search_one_language_ms": summary(runs["one_language"]["store"]),
            **(
                {
                    "search_unified_ms": summary(runs["unified"]["total"], extra=True),
                    "query_embedding_unified_ms": summary(runs["unified"]["embed"]),
                    "store_search_unified_ms": summary(runs["unified"]["store"]),
                    "search_unified_hit_spaces": dict(spaces_hit["unified"]),
                }
                if UNIFIED
                else {}
            ),
            **(
                {
                    "search_hybrid_ms": summary(runs["hybrid"]["total"], extra=True),
                    "query_embedding_hybrid_ms": summary(runs["hybrid"]["embed"]),
                    "store_search_hybrid_ms": summary(runs["hybrid"]["store"]),
                    "search_per_language_ms": summary(runs["per_language"]["total"], extra=True),
                    "query_embedding_per_language_ms": summary(runs["per_language"]["embed"]),
                    "store_search_per_language_ms": summary(runs["per_language"]["store"]),
                    "default_mode": "hybrid" if "hybrid" in spaces_hit["default"] else "per-language",
                    "chunk_texts": "Python standard library functions, cycled (real sparse statistics)",
                }
                if HYBRID
                else {}
            ),
            "parts_timed": "inside the same CodeIndex.search calls",
            "process_nice": os.nice(0),
            "machine": machine_description(),
            "model": {"device": str(model.device), "dtype": str(model.dtype)},
            "load_average_before": load_before,
            "load_average": load_after,
            "query_threads": index.query_threads,
            "vectors": "synthetic random unit vectors for every named vector (store part); "
            "real query embedding by the default bundle",
        }
        results[key] = entry
        OUT.parent.mkdir(parents=True, exist_ok=True)
        OUT.write_text(json.dumps(results, indent=2) + "\n")
        print(json.dumps(entry, indent=2), flush=True)
        if os.environ.get("KEEP") != "1":
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
