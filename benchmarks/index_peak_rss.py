"""Peak resident memory of ``loracode index`` on a tree, from scratch, as a user's install runs it.

Each run is a fresh process indexing ``TREE`` into a fresh index folder; the peak is the child's
maximum resident set (``wait4``), which counts the store's mapped files as well as the heap. Run it
with the ``loracode`` of a regular (non-editable) install without the test and training extras, as a
user has it (sentence-transformers then imports no ``datasets``/``pandas``/``pyarrow``):

    python3 -m venv /tmp/venv-user && /tmp/venv-user/bin/pip install torch==2.13.0 && \\
      /tmp/venv-user/bin/pip install -c requirements.lock . ./integrations/qdrant
    LORACODE=/tmp/venv-user/bin/loracode TREE=/tmp/rss_tree RUNS=2 python benchmarks/index_peak_rss.py

``TREE`` in docs/benchmarks.md: the installed sources of requests, click, urllib3, idna and jinja2
copied into one folder (108 files indexed, 4,556 chunks). Writes ``benchmarks/results/<OUT>``
(default ``index_peak_rss.json``).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from machine_info import machine_description

LORACODE = os.environ.get("LORACODE", "loracode")
TREE = Path(os.environ.get("TREE", "/tmp/rss_tree"))
RUNS = int(os.environ.get("RUNS", "2"))
OUT = Path(__file__).resolve().parent / "results" / os.environ.get("OUT", "index_peak_rss.json")


def one_run() -> dict:
    folder = Path(tempfile.mkdtemp(prefix="loracode-rss-"))
    load_before = os.getloadavg()
    started = time.perf_counter()
    proc = subprocess.Popen([LORACODE, "index", str(TREE), "--index-dir", str(folder / "idx"),
                             "--no-progress", "--json"], stdout=subprocess.PIPE, text=True)  # fmt: skip
    stdout = proc.stdout.read() if proc.stdout else ""
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - started
    shutil.rmtree(folder, ignore_errors=True)
    if status != 0:
        raise SystemExit(f"loracode index failed with status {status}")
    summary = json.loads(stdout)
    return {
        "peak_rss_kb": usage.ru_maxrss,
        "peak_rss_gb": round(usage.ru_maxrss * 1024 / 1e9, 3),
        "wall_s": round(wall, 1),
        "chunks_total": summary["chunks_total"],
        "chunks_embedded": summary["chunks_embedded"],
        "load_before": [round(x, 2) for x in load_before],
        "load_after": [round(x, 2) for x in os.getloadavg()],
    }


def main() -> None:
    runs = []
    for i in range(RUNS):
        runs.append(one_run())
        print(f"run {i + 1}/{RUNS}: {runs[-1]}", flush=True)
    result = {
        "loracode": shutil.which(LORACODE) or LORACODE,
        "tree": str(TREE),
        "machine": machine_description(),
        "runs": runs,
        "peak_rss_kb_max": max(r["peak_rss_kb"] for r in runs),
    }
    OUT.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps({"peak_rss_kb_max": result["peak_rss_kb_max"]}))


if __name__ == "__main__":
    main()
