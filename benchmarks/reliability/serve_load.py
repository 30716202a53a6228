"""Reliability and speed of `loracode serve`: load during live re-indexing, edit-to-searchable latency,
and `/v1/embeddings` throughput against in-process `encode_code`, all in one run.

1. A copy of some standard-library packages is served by a real `loracode serve TREE --watch` process
   (default bundle, CPU, float32 so that vectors can be compared exactly) on a free loopback port.
2. Load: CLIENTS threads send REQUESTS requests each (mixed: search 50 %, embeddings of 4 chunks 30 %,
   similar-code 10 %, status 10 %) while an editor thread edits, adds, deletes and renames files every
   EDIT_EVERY seconds, so the watcher re-indexes throughout. Expected: zero 5xx, zero failed requests.
3. After the edits stop and the watcher settles (no refresh for 3 s), the served index must equal a
   fresh full index of the tree built in this process (same chunk ids, payloads and file records;
   vectors within float32 noise).
4. Edit-to-searchable: LATENCY_TRIALS times, write a new function into a file and poll /v1/similar
   (every 20 ms) until it is the top hit; the time from the write is recorded (target: <= 2 s).
5. Throughput: the same THROUGHPUT_CHUNKS chunk texts embedded (Python, text2code) by in-process
   `encode_code` and by `/v1/embeddings` (batches of 64, one client), alternated ROUNDS times.

    python benchmarks/reliability/serve_load.py          # with loracode-serve installed (make install)

Writes benchmarks/results/serve_load.json (RESULTS=NAME for another name).
"""

from __future__ import annotations

import base64
import json
import os
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import threading
import time
from pathlib import Path

import httpx
import numpy as np

# ---- knobs
CLIENTS = int(os.environ.get("CLIENTS", "8"))
REQUESTS = int(os.environ.get("REQUESTS", "200"))
EDIT_EVERY = float(os.environ.get("EDIT_EVERY", "0.5"))
SOURCE_PACKAGES = os.environ.get("SOURCE_PACKAGES", "json,http").split(",")
LATENCY_TRIALS = int(os.environ.get("LATENCY_TRIALS", "10"))
THROUGHPUT_CHUNKS = int(os.environ.get("THROUGHPUT_CHUNKS", "256"))
ROUNDS = int(os.environ.get("ROUNDS", "3"))
SEED = int(os.environ.get("SEED", "0"))
WORK = Path(os.environ.get("WORKDIR", tempfile.mkdtemp(prefix="loracode-serve-load-")))
OUT = Path(__file__).resolve().parents[1] / "results" / os.environ.get("RESULTS", "serve_load.json")
QUERIES = ["parse a json document", "send an http request with headers", "read the response body",
           "encode a string as json", "handle a cookie", "def loads(s): return decode(s)",
           "status code of a response", "split a url into parts"]  # fmt: skip


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def make_tree() -> Path:
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    tree = WORK / "tree"
    for name in SOURCE_PACKAGES:
        shutil.copytree(stdlib / name, tree / name, ignore=shutil.ignore_patterns("__pycache__", "test*"))
    return tree


def start_server(tree: Path, port: int) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "loracode_embed.cli", "serve", str(tree), "--watch", "--port", str(port),
           "--device", "cpu", "--dtype", "float32"]  # fmt: skip
    log = open(WORK / "server.log", "w")
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 1800
    while time.time() < deadline:
        try:
            status = httpx.get(url + "/v1/status", timeout=5).json()
            if status["state"] == "ready":
                return proc
        except (httpx.HTTPError, KeyError):
            pass
        if proc.poll() is not None:
            raise RuntimeError(f"server exited: see {WORK / 'server.log'}")
        time.sleep(0.5)
    raise RuntimeError("server did not become ready")


class Editor(threading.Thread):
    """Edits the tree until stopped: modify, add, delete, rename (only files it created or touched)."""

    def __init__(self, tree: Path, rng: random.Random) -> None:
        super().__init__(daemon=True)
        self.tree, self.rng, self.stop = tree, rng, threading.Event()
        self.counts = {"edit": 0, "add": 0, "delete": 0, "rename": 0}
        self.n = 0

    def run(self) -> None:
        while not self.stop.wait(EDIT_EVERY):
            self.n += 1
            files = sorted(p for p in self.tree.rglob("*.py"))
            op = self.rng.choice(["edit", "edit", "add", "delete", "rename"])
            if op == "add" or not files:
                path = self.tree / SOURCE_PACKAGES[0] / f"added_{self.n}.py"
                path.write_text(f"def added_function_{self.n}(x):\n    return x * {self.n}\n")
                self.counts["add"] += 1
            elif op == "edit":
                path = self.rng.choice(files)
                with path.open("a") as fh:
                    fh.write(
                        f"\n\ndef edited_function_{self.n}(value):\n    return str(value) + '{self.n}'\n"
                    )
                self.counts["edit"] += 1
            elif op == "delete":
                self.rng.choice(files).unlink()
                self.counts["delete"] += 1
            else:
                path = self.rng.choice(files)
                path.rename(path.with_name(f"renamed_{self.n}_{path.name}"))
                self.counts["rename"] += 1


def client(url: str, texts: list[str], rng: random.Random, out: list[dict]) -> None:
    with httpx.Client(base_url=url, timeout=120) as http:
        for _ in range(REQUESTS):
            kind = rng.choices(["search", "embeddings", "similar", "status"], weights=[5, 3, 1, 1])[0]
            started = time.perf_counter()
            try:
                if kind == "search":
                    r = http.post("/v1/search", json={"query": rng.choice(QUERIES), "k": 10})
                elif kind == "embeddings":
                    r = http.post("/v1/embeddings", json={"model": "loracode/auto", "input": rng.sample(texts, 4),
                                                          "language": "python"})  # fmt: skip
                elif kind == "similar":
                    r = http.post("/v1/similar", json={"code": rng.choice(texts), "k": 5})
                else:
                    r = http.get("/v1/status")
                status = r.status_code
            except httpx.HTTPError as exc:
                status = f"{type(exc).__name__}"
            out.append({"kind": kind, "status": status, "ms": (time.perf_counter() - started) * 1000})


def wait_settled(url: str, quiet: float = 3.0) -> dict:
    last, since = None, time.time()
    while True:
        status = httpx.get(url + "/v1/status", timeout=60).json()
        key = (status["refreshes"], status["state"])
        if key != last:
            last, since = key, time.time()
        elif status["state"] == "ready" and time.time() - since >= quiet:
            return status
        time.sleep(0.2)


def read_store(index_dir: Path) -> tuple[dict, dict]:
    from loracode_qdrant.store import EdgeStore

    store = EdgeStore(index_dir, read_only=True)
    store.open([], 0)
    try:
        files = {h.payload["path"]: h.payload for h in store.scroll("file")}
        ids = [h.id for h in store.scroll("chunk", ["path"])]
        chunks = {}
        for start in range(0, len(ids), 512):
            for hit in store.retrieve(ids[start : start + 512], with_vectors=True):
                chunks[hit.id] = (hit.payload, hit.vectors)
    finally:
        store.close()
    return files, chunks


def compare(served: Path, fresh: Path) -> dict:
    files_a, chunks_a = read_store(served)
    files_b, chunks_b = read_store(fresh)
    diff = 0.0
    payload_mismatch = 0
    for cid in set(chunks_a) & set(chunks_b):
        (pa, va), (pb, vb) = chunks_a[cid], chunks_b[cid]
        payload_mismatch += pa != pb or set(va) != set(vb)
        for space in set(va) & set(vb):
            diff = max(diff, float(np.max(np.abs(np.asarray(va[space]) - np.asarray(vb[space])))))
    return {
        "chunks_served": len(chunks_a), "chunks_fresh": len(chunks_b),
        "missing_in_served": len(set(chunks_b) - set(chunks_a)), "extra_in_served": len(set(chunks_a) - set(chunks_b)),
        "payload_mismatches": payload_mismatch,
        "file_records_equal": {p: (r["file_hash"], r["chunk_ids"]) for p, r in files_a.items()}
        == {p: (r["file_hash"], r["chunk_ids"]) for p, r in files_b.items()},
        "files": len(files_a), "max_abs_vector_diff": diff,
    }  # fmt: skip


def edit_to_searchable(url: str, tree: Path) -> list[float]:
    times = []
    with httpx.Client(base_url=url, timeout=60) as http:
        for i in range(LATENCY_TRIALS):
            code = f"def latency_probe_{i}_{SEED}(items):\n    return sorted(items, key=len)[{i}]\n"
            path = tree / SOURCE_PACKAGES[0] / f"probe_{i}.py"
            start = time.perf_counter()
            path.write_text(code)
            while time.perf_counter() - start < 30:
                hits = http.post("/v1/similar", json={"code": code, "k": 1}).json()["data"]
                if hits and hits[0]["path"] == f"{SOURCE_PACKAGES[0]}/probe_{i}.py":
                    break
                time.sleep(0.02)
            times.append(round(time.perf_counter() - start, 3))
            time.sleep(0.5)
    return times


def throughput(url: str, texts: list[str]) -> dict:
    from loracode_embed import LoRACodeModel

    model = LoRACodeModel.from_pretrained(device="cpu", dtype="float32")
    model.encode_code(texts[:8], languages="python")  # warm-up
    rounds = []
    with httpx.Client(base_url=url, timeout=600) as http:
        for batch in (texts[:8],):  # warm-up the server path too
            http.post("/v1/embeddings", json={"model": "loracode/auto", "input": batch, "language": "python"})
        for _ in range(ROUNDS):
            t = time.perf_counter()
            local = model.encode_code(texts, languages="python", batch_size=32)
            local_s = time.perf_counter() - t
            t = time.perf_counter()
            remote = []
            for start in range(0, len(texts), 64):
                r = http.post("/v1/embeddings", json={"model": "loracode/auto", "input": texts[start : start + 64],
                                                      "language": "python", "encoding_format": "base64"})  # fmt: skip
                r.raise_for_status()
                remote += [
                    np.frombuffer(base64.b64decode(d["embedding"]), dtype="<f4") for d in r.json()["data"]
                ]
            http_s = time.perf_counter() - t
            rounds.append({"in_process_chunks_per_s": round(len(texts) / local_s, 1),
                           "http_chunks_per_s": round(len(texts) / http_s, 1),
                           "max_abs_diff": float(np.max(np.abs(np.stack(remote) - local)))})  # fmt: skip
    ratio = statistics.median(r["http_chunks_per_s"] / r["in_process_chunks_per_s"] for r in rounds)
    return {"texts": len(texts), "rounds": rounds, "median_ratio_http_over_in_process": round(ratio, 3)}


def main() -> None:
    rng = random.Random(SEED)
    tree = make_tree()
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    t0 = time.time()
    proc = start_server(tree, port)
    ready_s = round(time.time() - t0, 1)
    hits = httpx.post(url + "/v1/search", json={"query": "json", "k": 100}, timeout=60).json()["data"]
    texts = [h["text"] for h in hits if len(h["text"]) > 40][:40]
    result: dict = {"machine": f"{os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f} at start",
                    "source_packages": SOURCE_PACKAGES, "server_ready_s": ready_s}  # fmt: skip
    try:
        # 2. load during re-indexing
        editor = Editor(tree, rng)
        editor.start()
        records: list[dict] = []
        threads = [threading.Thread(target=client, args=(url, texts, random.Random(SEED + i), records))
                   for i in range(CLIENTS)]  # fmt: skip
        started = time.time()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        editor.stop.set()
        editor.join()
        load_s = time.time() - started
        settled = wait_settled(url)
        by_status: dict[str, int] = {}
        for rec in records:
            by_status[str(rec["status"])] = by_status.get(str(rec["status"]), 0) + 1
        lat = {
            kind: sorted(r["ms"] for r in records if r["kind"] == kind) for kind in ("search", "embeddings")
        }
        result["load"] = {
            "clients": CLIENTS, "requests": len(records), "seconds": round(load_s, 1), "by_status": by_status,
            "server_errors_5xx": sum(1 for r in records if isinstance(r["status"], int) and r["status"] >= 500),
            "failed_requests": sum(1 for r in records if not isinstance(r["status"], int) or r["status"] != 200),
            "edits": editor.counts, "refreshes_during_run": settled["refreshes"],
            "latency_ms_p50_p95": {k: [round(v[len(v) // 2], 1), round(v[int(len(v) * 0.95)], 1)]
                                   for k, v in lat.items() if v},
        }  # fmt: skip
        print(json.dumps(result["load"], indent=2), flush=True)
        # 4. edit-to-searchable latency (idle server)
        probe = edit_to_searchable(url, tree)
        result["edit_to_searchable_s"] = {
            "trials": probe,
            "median": statistics.median(probe),
            "max": max(probe),
        }
        print(json.dumps(result["edit_to_searchable_s"]), flush=True)
        wait_settled(url)
        # 5. throughput
        chunk_hits = httpx.post(
            url + "/v1/search", json={"query": "def", "k": 100, "language": "python"}
        ).json()
        pool = [h["text"] for h in chunk_hits["data"]]
        pool = (pool * (THROUGHPUT_CHUNKS // max(len(pool), 1) + 1))[:THROUGHPUT_CHUNKS]
        result["throughput"] = throughput(url, pool)
        print(json.dumps(result["throughput"], indent=2), flush=True)
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(60)
    # 3. served index vs a fresh full index of the same tree
    from loracode_qdrant import CodeIndex

    from loracode_embed import LoRACodeModel

    fresh_dir = WORK / "fresh-index"
    with CodeIndex(tree, model=LoRACodeModel.from_pretrained(device="cpu", dtype="float32"), index_dir=fresh_dir,
                   show_progress=False) as index:  # fmt: skip
        index.index()
    result["final_index_vs_fresh"] = compare(tree / ".loracode", fresh_dir)
    print(json.dumps(result["final_index_vs_fresh"], indent=2), flush=True)
    OUT.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
