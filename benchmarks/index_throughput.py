"""Benchmark: first-index throughput (chunks/s) of two checkouts on one seeded sample of the stdlib.

Indexing the whole standard library takes about an hour with the old code, so this script indexes a
fixed sample of it instead: ``FILES`` files drawn with ``SEED`` from the files ``loracode index``
would pick in CPython's standard library, stratified by size (the same number from each size
quartile), copied to a temporary tree. Each variant indexes that tree from scratch in a fresh child
process (a fresh index folder each time), variants interleaved and their order reversed every round,
so that a shared machine's load hits them alike. Reported per run: index seconds (``CodeIndex.index``
alone, no model load), chunks/s, the child's peak RSS (``wait4``) and the load average before and
after; per variant: the median chunks/s and its ratio to the first variant's.

Variants (``VARIANTS``, a comma list of names, each ``checkout`` or ``checkout:lever=value+...``):

* ``old``: the checkout at ``OLD`` (``git worktree add /tmp/old-a62098e a62098e``), its defaults;
* ``new``: this checkout, its defaults;
* levers of the new code, to measure each alone: ``spaces=all`` (``CodeIndex(spaces=...)``),
  ``tokens=0`` (``loracode_embed.batching.CPU_TOKEN_BATCHES``: 0 batches by item count, as before),
  ``bucket=N`` (``loracode_embed.batching.PAD_MULTIPLE``: widths padded to multiples of N; the default
  is 32, ``bucket=1`` gives exact widths, as before),
  ``calls=4`` (``loracode_qdrant.index.CALL_BATCHES``: 4 batches per embedding call, as before).

Run from the repository root::

    git worktree add /tmp/old-a62098e a62098e
    PYTHONPATH=.:integrations/qdrant python benchmarks/index_throughput.py

Knobs (environment): ``OLD``, ``FILES`` (120), ``SEED`` (0), ``ROUNDS`` (2), ``DTYPE`` (bfloat16),
``VARIANTS`` (``old,new``), ``STDLIB`` (this Python's), ``OUT`` (``index_throughput.json``).
Writes ``benchmarks/results/<OUT>``.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import time
from pathlib import Path
from statistics import median

from machine_info import machine_description

HERE = Path(__file__).resolve().parent
NEW = HERE.parent
OLD = Path(os.environ.get("OLD", "/tmp/old-a62098e"))
FILES = int(os.environ.get("FILES", "120"))
SEED = int(os.environ.get("SEED", "0"))
ROUNDS = int(os.environ.get("ROUNDS", "2"))
DTYPE = os.environ.get("DTYPE", "bfloat16")
VARIANTS = os.environ.get("VARIANTS", "old,new").split(",")
STDLIB = Path(os.environ.get("STDLIB", sysconfig.get_paths()["stdlib"]))
OUT = HERE / "results" / os.environ.get("OUT", "index_throughput.json")

# The child: index one tree with one checkout (on sys.path through PYTHONPATH) and print a JSON line.
CHILD = r"""
import json, sys, time
spec = json.loads(sys.argv[1])
levers = spec["levers"]
if "calls" in levers:
    from loracode_qdrant import index as index_module
    index_module.CALL_BATCHES = int(levers["calls"])
if "tokens" in levers or "bucket" in levers:
    from loracode_embed import batching
    if "tokens" in levers:
        batching.CPU_TOKEN_BATCHES = bool(int(levers["tokens"]))
    if "bucket" in levers:
        batching.PAD_MULTIPLE = int(levers["bucket"])
from loracode_embed import LoRACodeModel
from loracode_qdrant import CodeIndex
t0 = time.perf_counter()
model = LoRACodeModel.from_pretrained(device="cpu", dtype=spec["dtype"])
load_s = time.perf_counter() - t0
kwargs = {"spaces": levers["spaces"]} if "spaces" in levers else {}
with CodeIndex(spec["tree"], model=model, index_dir=spec["index_dir"], show_progress=False, **kwargs) as index:
    summary = index.index()
print("RESULT " + json.dumps({"load_s": load_s, "seconds": summary.seconds, "files": summary.added,
      "chunks": summary.chunks_total, "embedded": summary.chunks_embedded}))
"""


def sample_tree(dest: Path) -> dict:
    """Copy ``FILES`` stdlib files (seeded, the same count from each size quartile) under ``dest``."""
    from loracode_qdrant.walk import walk_tree

    files = sorted(walk_tree(STDLIB).files, key=lambda f: (f.size, f.path))
    quartiles = [files[i * len(files) // 4 : (i + 1) * len(files) // 4] for i in range(4)]
    rng = random.Random(SEED)
    chosen = sorted(
        (f for q, part in enumerate(quartiles) for f in rng.sample(part, FILES // 4 + (q < FILES % 4))),
        key=lambda f: f.path,
    )
    for f in chosen:
        target = dest / f.path
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(f.abspath, target)
    return {"files": len(chosen), "bytes": sum(f.size for f in chosen), "paths": [f.path for f in chosen]}


def parse_variant(name: str) -> tuple[Path, dict[str, str]]:
    checkout, _, rest = name.partition(":")
    if checkout not in ("old", "new"):
        raise ValueError(f"VARIANTS: {name!r} must start with 'old' or 'new'")
    levers = dict(item.split("=", 1) for item in rest.split("+") if item)
    unknown = set(levers) - {"spaces", "tokens", "bucket", "calls"}
    if unknown or (checkout == "old" and levers):
        raise ValueError(f"VARIANTS: {name!r} has levers the checkout does not know: {sorted(levers)}")
    return (OLD if checkout == "old" else NEW), levers


def run_once(name: str, tree: Path) -> dict:
    checkout, levers = parse_variant(name)
    index_dir = Path(tempfile.mkdtemp(prefix="loracode-throughput-"))
    spec = {"tree": str(tree), "index_dir": str(index_dir), "dtype": DTYPE, "levers": levers}
    env = {**os.environ, "PYTHONPATH": f"{checkout}:{checkout / 'integrations' / 'qdrant'}"}
    load_before = os.getloadavg()
    started = time.perf_counter()
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen([sys.executable, "-c", CHILD, json.dumps(spec)], env=env,
                                cwd=tempfile.gettempdir(), stdout=out, stderr=err, text=True)  # fmt: skip
        _, status, usage = os.wait4(proc.pid, 0)  # this child's own peak RSS (KiB on Linux)
        proc.returncode = os.waitstatus_to_exitcode(status)
        wall = time.perf_counter() - started
        out.seek(0), err.seek(0)
        stdout, stderr = out.read(), err.read()
    shutil.rmtree(index_dir, ignore_errors=True)
    if proc.returncode != 0:
        raise RuntimeError(f"{name} failed ({proc.returncode}):\n{stderr[-4000:]}")
    line = next(x for x in stdout.splitlines() if x.startswith("RESULT "))
    result = json.loads(line[len("RESULT ") :])
    return {"variant": name, **result, "wall_s": round(wall, 2),
            "chunks_per_s": round(result["chunks"] / result["seconds"], 2),
            "peak_rss_mib": round(usage.ru_maxrss / 1024, 1),
            "load_before": [round(x, 2) for x in load_before],
            "load_after": [round(x, 2) for x in os.getloadavg()]}  # fmt: skip


def main() -> None:
    for name in VARIANTS:
        parse_variant(name)  # refuse a bad variant before any slow work
    if "old" in [v.split(":")[0] for v in VARIANTS] and not (OLD / "integrations").is_dir():
        raise SystemExit(f"OLD={OLD} is not a checkout: git worktree add {OLD} a62098e")
    tree = Path(tempfile.mkdtemp(prefix="stdlib-sample-")) / "Lib"
    sample = sample_tree(tree)
    print(f"sample: {sample['files']} files, {sample['bytes']} bytes in {tree}", flush=True)
    runs = []
    for round_no in range(ROUNDS):
        order = VARIANTS if round_no % 2 == 0 else VARIANTS[::-1]
        for name in order:
            run = run_once(name, tree)
            run["round"] = round_no
            runs.append(run)
            print(json.dumps(run), flush=True)
    summary = {}
    for name in VARIANTS:
        mine = [r for r in runs if r["variant"] == name]
        summary[name] = {
            "chunks_per_s_median": round(median(r["chunks_per_s"] for r in mine), 2),
            "chunks_per_s_runs": [r["chunks_per_s"] for r in mine],
            "peak_rss_mib_max": max(r["peak_rss_mib"] for r in mine),
            "chunks": mine[0]["chunks"],
            "embedded": mine[0]["embedded"],
        }
    base = summary[VARIANTS[0]]["chunks_per_s_median"]
    for name in VARIANTS:
        summary[name]["ratio_to_first"] = round(summary[name]["chunks_per_s_median"] / base, 3)
    result = {
        "machine": machine_description(),
        "python": sys.version.split()[0],
        "stdlib": str(STDLIB),
        "dtype": DTYPE,
        "seed": SEED,
        "sample": sample,
        "old_checkout": str(OLD),
        "rounds": ROUNDS,
        "summary": summary,
        "runs": runs,
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
