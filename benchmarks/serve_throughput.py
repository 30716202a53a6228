"""`/v1/embeddings` throughput against in-process `encode_code`, on the same texts, in the same run.

The texts are the chunks of some standard-library packages (tree-sitter chunker, as `loracode index` cuts
them), embedded for Python text2code (adapter `text2code-python`). A `loracode serve` process (CPU,
float32) serves a one-file tree; this process loads the same model. Each round embeds every text three
ways, one after the other, in calls of BATCH texts (64; the model sorts each call's texts by length, so
the call size changes padding, and it is the same for all three): in-process from the main thread,
in-process from a worker thread (the way the server calls the model), and through `/v1/embeddings` (one
client, base64). The vectors are checked equal across the three.

    python benchmarks/serve_throughput.py          # with loracode-serve installed (make install)

Writes benchmarks/results/serve_throughput.json (RESULTS=NAME for another name).
"""

from __future__ import annotations

import base64
import json
import os
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

SOURCE_PACKAGES = os.environ.get("SOURCE_PACKAGES", "json,http").split(",")
N_TEXTS = int(os.environ.get("N_TEXTS", "96"))
ROUNDS = int(os.environ.get("ROUNDS", "3"))
BATCH = int(os.environ.get("BATCH", "64"))  # texts per call: per HTTP request, and per in-process call
WORK = Path(os.environ.get("WORKDIR", tempfile.mkdtemp(prefix="loracode-serve-throughput-")))
OUT = Path(__file__).resolve().parent / "results" / os.environ.get("RESULTS", "serve_throughput.json")


def chunk_texts(model) -> list[str]:
    from loracode_qdrant.chunking import Chunker

    chunker = Chunker(model.count_tokens, model.max_seq_length)
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    texts: list[str] = []
    for name in SOURCE_PACKAGES:
        for path in sorted((stdlib / name).rglob("*.py")):
            texts += [c.text for c in chunker.chunk(path.read_bytes(), "python")]
    return texts[:N_TEXTS]


def main() -> None:
    from loracode_embed import LoRACodeModel

    tree = WORK / "tree"
    tree.mkdir(parents=True)
    (tree / "a.py").write_text("def f(x):\n    return x\n")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    proc = subprocess.Popen([sys.executable, "-m", "loracode_embed.cli", "serve", str(tree), "--port", str(port),
                             "--device", "cpu", "--dtype", "float32"],
                            stdout=open(WORK / "server.log", "w"), stderr=subprocess.STDOUT)  # fmt: skip
    model = LoRACodeModel.from_pretrained(device="cpu", dtype="float32")
    texts = chunk_texts(model)
    try:
        while True:
            try:
                if httpx.get(url + "/v1/status", timeout=5).json()["state"] == "ready":
                    break
            except (httpx.HTTPError, KeyError):
                pass
            if proc.poll() is not None:
                raise RuntimeError(f"server exited: see {WORK / 'server.log'}")
            time.sleep(0.5)
        http = httpx.Client(base_url=url, timeout=600)

        def over_http() -> np.ndarray:
            rows = []
            for start in range(0, len(texts), BATCH):
                body = {"model": "loracode/auto", "input": texts[start : start + BATCH], "language": "python",
                        "encoding_format": "base64"}  # fmt: skip
                r = http.post("/v1/embeddings", json=body)
                r.raise_for_status()
                rows += [
                    np.frombuffer(base64.b64decode(d["embedding"]), dtype="<f4") for d in r.json()["data"]
                ]
            return np.stack(rows)

        def in_process() -> np.ndarray:
            return np.concatenate([model.encode_code(texts[start : start + BATCH], languages="python", batch_size=32)
                                   for start in range(0, len(texts), BATCH)])  # fmt: skip

        def in_worker_thread() -> np.ndarray:
            out: list[np.ndarray] = []
            worker = threading.Thread(target=lambda: out.append(in_process()))
            worker.start()
            worker.join()
            return out[0]

        ways = {"in_process_main_thread": in_process, "in_process_worker_thread": in_worker_thread,
                "http_v1_embeddings": over_http}  # fmt: skip
        model.encode_code(texts[:8], languages="python")  # warm-up, both sides
        http.post("/v1/embeddings", json={"input": texts[:8], "language": "python"}).raise_for_status()
        rounds = []
        for _ in range(ROUNDS):
            row, vectors = {}, {}
            for name, fn in ways.items():
                t = time.perf_counter()
                vectors[name] = fn()
                row[name] = round(len(texts) / (time.perf_counter() - t), 2)
            row["max_abs_diff"] = float(max(np.max(np.abs(v - vectors["in_process_main_thread"]))
                                            for v in vectors.values()))  # fmt: skip
            rounds.append(row)
            print(json.dumps(row), flush=True)
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(60)
    med = {name: statistics.median(r[name] for r in rounds) for name in ways}
    result = {
        "machine": f"{os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f} at end",
        "texts": len(texts), "mean_chars": round(sum(map(len, texts)) / len(texts)), "unit": "chunks/s",
        "rounds": rounds, "median": med,
        "ratio_http_over_main_thread": round(med["http_v1_embeddings"] / med["in_process_main_thread"], 3),
        "ratio_http_over_worker_thread": round(med["http_v1_embeddings"] / med["in_process_worker_thread"], 3),
    }  # fmt: skip
    OUT.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
