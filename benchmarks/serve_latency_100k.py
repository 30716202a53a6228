"""HTTP ``POST /v1/search`` and MCP ``search_code`` latency through ``loracode serve`` on 100k chunks.

Embedding 100k real chunks takes hours on a small CPU, so the index is laid out as
``benchmarks/search_latency.py`` lays out its store with ``HYBRID=1``: every named vector the default
bundle gives a chunk of its language (synthetic random unit vectors), real Python standard-library
functions as chunk texts with their sparse (BM25) vectors, payloads and file records as the indexer
writes them, spread over six languages and 20k files, and the default bundle's metadata record (model
fingerprint, spaces, languages), then the HNSW build. It lives in ``<WORKDIR>/tree/.loracode``. Each of
the 20k files is also written into the tree (its chunks' texts), and its record holds the hash the
indexer computes for it, so the real ``loracode serve TREE`` (default bundle, dtype auto, started as a
user starts it) finds every file unchanged in its start-up pass, and the files its hits name exist (the
server drops a hit whose file does not resolve inside the tree).

Then, after 12 warm-up searches each way, QUERIES searches (default 200; the queries of
``search_latency.py``, numbered so that no two are alike), k=10, default mode (``auto``: hybrid on this
index), one HTTP request (``httpx``, kept-alive connection) and one MCP call (the SDK's
``ClientSession`` over streamable HTTP, one session) in turn per query, so both see the same load.
Wall time per search as the client sees it; p50/p95/p99; load average sampled every 10 queries.

    PYTHONPATH=.:integrations/qdrant python benchmarks/serve_latency_100k.py
    WORKDIR=/tmp/serve100k KEEP=1 python benchmarks/serve_latency_100k.py      # keep the built index
    WORKDIR=/tmp/serve100k REUSE=1 python benchmarks/serve_latency_100k.py     # measure it again

Writes benchmarks/results/serve_latency_100k.json (OUT=... for another file).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import anyio
import httpx
import numpy as np

N = int(os.environ.get("CHUNKS", "100000"))
QUERIES = int(os.environ.get("QUERIES", "200"))
WORK = Path(os.environ.get("WORKDIR") or tempfile.mkdtemp(prefix="loracode-serve-100k-"))
os.environ["WORKDIR"] = str(WORK)  # search_latency reads it at import (else it makes a temp folder)
OUT = Path(os.environ.get("OUT", Path(__file__).resolve().parent / "results" / "serve_latency_100k.json"))
K = 10

sys.path.insert(0, str(Path(__file__).resolve().parent))
import search_latency as layout  # noqa: E402
from loracode_qdrant import CodeIndex  # noqa: E402
from loracode_qdrant.ids import file_point_id  # noqa: E402
from loracode_qdrant.store import StoredPoint  # noqa: E402
from loracode_qdrant.walk import read_source, walk_tree  # noqa: E402
from machine_info import machine_description  # noqa: E402

from loracode_embed import LoRACodeModel  # noqa: E402


def build(tree: Path) -> dict[str, object]:
    """The index of N chunks in ``tree/.loracode`` and the files it names in ``tree``."""
    shutil.rmtree(tree, ignore_errors=True)
    tree.mkdir(parents=True)
    model = LoRACodeModel.from_pretrained(device="cpu")  # for its fingerprint and spaces; embeds nothing
    index = CodeIndex(tree, model=model)
    meta = index._open(for_write=True)  # creates the store with every space and the metadata record
    upsert_s, per_space = layout.build(index, model, N, np.random.default_rng(0), hybrid=True)
    # Each file's text: its chunks' texts (chunk i is in file i % FILES), as search_latency stores them.
    texts = layout.real_texts()
    files = min(layout.FILES, N)
    for f in range(files):
        path, _ = layout.file_of(f)
        (tree / path).parent.mkdir(parents=True, exist_ok=True)
        (tree / path).write_text("\n\n".join(texts[i % len(texts)] for i in range(f, N, layout.FILES)) + "\n")
    # Each file record gets the hash the indexer computes for the file (walk + read, as index() does).
    walk = walk_tree(tree)
    assert len(walk.files) == files, (len(walk.files), dict(walk.skipped))
    records = {hit.payload["path"]: hit.payload for hit in index.store.scroll("file")}
    points = []
    for file in walk.files:
        data = read_source(file).data
        record = {**records[file.path], "file_hash": hashlib.sha256(file.language.encode() + b"\0" + data).hexdigest(),
                  "size": file.size}  # fmt: skip
        points.append(StoredPoint(file_point_id(file.path), {}, record))
    index.store.upsert(points)
    index.store.write_meta({**meta, "languages": sorted(layout.LANGS), "root": str(tree)})
    index.store.flush()
    print(f"upsert {upsert_s:.0f}s {dict(per_space)}; building HNSW...", flush=True)
    t0 = time.perf_counter()
    index.store.optimize()
    optimize_s = time.perf_counter() - t0
    index.close()
    print(f"HNSW {optimize_s:.0f}s", flush=True)
    return {"upsert_s": round(upsert_s, 1), "optimize_hnsw_s": round(optimize_s, 1),
            "build_load_average": os.getloadavg(), "vectors_per_space": dict(sorted(per_space.items()))}  # fmt: skip


def summary(values: list[float]) -> dict[str, float]:
    ms = np.asarray(values) * 1000
    return {"n": len(values), "p50_ms": round(float(statistics.median(ms)), 1),
            "p95_ms": round(float(np.percentile(ms, 95)), 1), "p99_ms": round(float(np.percentile(ms, 99)), 1),
            "max_ms": round(float(ms.max()), 1)}  # fmt: skip


def main() -> None:
    tree = WORK / "tree"
    reuse = os.environ.get("REUSE") == "1" and (tree / ".loracode" / "shard").is_dir()
    built = json.loads(OUT.read_text()).get("build", {}) if reuse and OUT.exists() else None
    if not reuse:
        built = build(tree)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    log = open(WORK / "server.log", "w")
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "loracode_embed.cli", "serve", str(tree), "--port", str(port)],
                            stdout=log, stderr=subprocess.STDOUT)  # fmt: skip
    try:
        while True:
            try:
                status = httpx.get(url + "/v1/status", timeout=10).json()
                if status["state"] in ("ready", "error"):
                    break
            except (httpx.HTTPError, KeyError):
                pass
            if proc.poll() is not None:
                raise RuntimeError(f"server exited: see {WORK / 'server.log'}")
            time.sleep(1)
        ready_s = time.perf_counter() - t0
        first_pass = status.get("last_index") or {}
        print(f"server ready in {ready_s:.0f}s: {json.dumps(first_pass)[:300]}", flush=True)
        if status["state"] != "ready" or first_pass.get("unchanged") != min(layout.FILES, N):
            raise RuntimeError(f"the start-up pass changed the index: {status}")
        queries = [layout.QUERY_TEXTS[i % len(layout.QUERY_TEXTS)] + f" {i}" for i in range(QUERIES)]

        async def measure() -> tuple[list[float], list[float], list[tuple[float, ...]], set[str]]:
            from mcp import ClientSession
            from mcp.client.streamable_http import streamable_http_client

            http_times: list[float] = []
            mcp_times: list[float] = []
            loads = []
            spaces: set[str] = set()
            async with (
                httpx.AsyncClient(base_url=url, timeout=60) as client,
                streamable_http_client(url + "/mcp") as (read, write, *_),
                ClientSession(read, write) as session,
            ):
                await session.initialize()
                for q in layout.QUERY_TEXTS:  # warm-up
                    (await client.post("/v1/search", json={"query": q, "k": K})).raise_for_status()
                    assert not (await session.call_tool("search_code", {"query": q, "k": K})).is_error
                for i, q in enumerate(queries):
                    if i % 10 == 0:
                        loads.append(os.getloadavg())
                    t = time.perf_counter()
                    answer = await client.post("/v1/search", json={"query": q, "k": K})
                    http_times.append(time.perf_counter() - t)
                    answer.raise_for_status()
                    hits = answer.json()["data"]
                    assert len(hits) == K, len(hits)
                    spaces.update(h["space"] for h in hits)
                    t = time.perf_counter()
                    result = await session.call_tool("search_code", {"query": q, "k": K})
                    mcp_times.append(time.perf_counter() - t)
                    assert not result.is_error, result
            return http_times, mcp_times, loads, spaces

        http_times, mcp_times, loads, spaces = anyio.run(measure)
        status = httpx.get(url + "/v1/status", timeout=10).json()
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(120)
    result = {
        "machine": machine_description(),
        "chunks": status["chunks"], "files": status["files"], "languages": status.get("languages"),
        "server": "loracode serve TREE --port P (default bundle, dtype auto, CPU)",
        "server_ready_s": round(ready_s, 1), "startup_pass": first_pass,
        "queries": QUERIES, "k": K, "mode": "auto (hybrid on this index)", "hit_spaces": sorted(spaces),
        "http_v1_search": summary(http_times), "mcp_search_code_streamable_http": summary(mcp_times),
        "load_average_samples_1min": [round(x[0], 2) for x in loads],
        "load_average_1min": {"min": round(min(x[0] for x in loads), 2),
                              "median": round(statistics.median(x[0] for x in loads), 2),
                              "max": round(max(x[0] for x in loads), 2)},
        "build": built, "build_reused": reuse,
        "vectors": "synthetic random unit vectors for every named vector; real chunk texts (Python stdlib "
                   "functions) and their sparse vectors; real query embedding by the server's model",
    }  # fmt: skip
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    if os.environ.get("KEEP") != "1" and os.environ.get("REUSE") != "1":
        shutil.rmtree(WORK, ignore_errors=True)


if __name__ == "__main__":
    main()
