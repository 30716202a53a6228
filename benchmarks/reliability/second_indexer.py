"""Reliability: a second indexer on the same embedded store fails at once, clearly, and corrupts nothing.

Indexer A starts on a tree; once it is writing, indexer B is started on the same store (through the
real `loracode index` CLI). B must exit non-zero within a few seconds with the "in use by another
loracode process" message, before loading its model; A must finish, and the store must equal a clean
index of the tree.

    PYTHONPATH=.:integrations/qdrant python benchmarks/reliability/second_indexer.py

Writes benchmarks/results/second_indexer.json.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(REPO / "benchmarks" / "reliability")]
from kill9 import CHILD, ENV, compare, snapshot  # noqa: E402

MODEL = os.environ.get("MODEL", "fake")
WORK = Path(tempfile.mkdtemp(prefix="loracode-second-"))
OUT = REPO / "benchmarks" / "results" / "second_indexer.json"

CLI_B = """
import sys
from importlib.metadata import EntryPoint
import loracode_embed.cli as c
ep = EntryPoint(name="index", value="loracode_qdrant.cli:register", group=c.PLUGIN_GROUP)
c.entry_points = lambda group: [ep] if group == c.PLUGIN_GROUP else []
sys.exit(c.main(sys.argv[1:]))
"""


def main() -> None:
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    tree = WORK / "tree"
    for name in ("json", "http", "logging", "email"):
        shutil.copytree(stdlib / name, tree / name, ignore=shutil.ignore_patterns("__pycache__"))
    idx = WORK / "idx"
    a = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(tree), str(idx), MODEL],
        env=ENV,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert a.stdout is not None and a.stdout.readline().strip() == "ready"
    time.sleep(1.0)  # A is walking/embedding/writing now
    t0 = time.perf_counter()
    b = subprocess.run(
        [sys.executable, "-c", CLI_B, "index", str(tree), "--index-dir", str(idx), "--no-progress"],
        env=ENV,
        capture_output=True,
        text=True,
    )
    b_seconds = time.perf_counter() - t0
    a_running_when_b_failed = a.poll() is None
    a.wait()
    clean_idx = WORK / "clean"
    c = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(tree), str(clean_idx), MODEL],
        env=ENV,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    c.wait()
    diff = compare(snapshot(idx), snapshot(clean_idx))
    result = {
        "model_of_a": MODEL,
        "b_exit_code": b.returncode,
        "b_seconds_to_fail_incl_python_start": round(b_seconds, 2),
        "b_stderr": b.stderr.strip().splitlines()[-1] if b.stderr.strip() else "",
        "a_running_when_b_failed": a_running_when_b_failed,
        "a_exit_code": a.returncode,
        "store_vs_clean": diff,
        "ok": b.returncode == 1
        and "in use by another loracode process" in b.stderr
        and a.returncode == 0
        and not any(diff.values()),
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    shutil.rmtree(WORK, ignore_errors=True)
    sys.exit(0 if result["ok"] else 1)


if __name__ == "__main__":
    main()
