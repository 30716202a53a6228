"""Benchmark: what a new user waits for. Cold ``loracode search``, rejected arguments, ``loracode index`` memory.

Compares two checkouts in one run, alternating them so that both see the same machine load:

* ``OLD``: a checkout of the code before (e.g. ``git worktree add /tmp/old d474b0e``);
* ``NEW``: this checkout (default).

Each runs in a fresh process with ``PYTHONPATH=<checkout>:<checkout>/integrations/qdrant``, in the same
virtual environment (this interpreter).

Measured:

1. Cold ``loracode search QUERY`` on an existing index of ``TREE`` (wall time of the whole process,
   ``RUNS`` times per checkout, one query of ``QUERIES`` each time; median reported).
2. The same search in an instrumented process: ``import`` (Python start, the CLI, and the libraries
   the search model needs: torch/sentence-transformers/peft before, numpy/tokenizers now), ``load``
   (the model object built from the bundle), ``embed`` (the query in its spaces), ``store`` (opening
   the index and searching it) and ``print`` (formatting the hits). Median over ``RUNS`` runs.
3. Rejected arguments: ``embed --language klingon``, ``embed --adapter nope``, ``search -k 0``
   (median of ``REJECT_RUNS`` cold runs each).
4. Peak resident memory of ``loracode index`` of ``RSS_TREE`` into a fresh index folder (once per
   checkout; skipped with ``RSS_TREE=``).

Run from the repository root (the index of TREE is built first if missing, with the NEW code):

    OLD=/tmp/old TREE=/tmp/bench-tree RSS_TREE=/tmp/rss-tree python benchmarks/cli_latency.py

Writes benchmarks/results/cli_latency.json (``OUT=`` for another name) and prints a table.
"""

from __future__ import annotations

import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# ---- knobs
NEW = Path(os.environ.get("NEW", Path(__file__).resolve().parents[1]))
OLD = Path(os.environ["OLD"]) if os.environ.get("OLD") else None
TREE = Path(os.environ.get("TREE", "/tmp/bench-tree"))
RSS_TREE = os.environ.get("RSS_TREE", "")
RUNS = int(os.environ.get("RUNS", "10"))
REJECT_RUNS = int(os.environ.get("REJECT_RUNS", "3"))
QUERIES = [
    "retry an http request with backoff",
    "parse a cookie header into a dict",
    "render a template with variables",
    "convert a hostname to ascii with idna",
    "read the response body in chunks",
    "print a colored message to the terminal",
    "def get(url, params=None, **kwargs): return request('get', url)",
    "check whether a url is absolute",
    "merge two dictionaries of settings",
    "escape html special characters",
]
OUT = Path(__file__).resolve().parent / "results" / os.environ.get("OUT", "cli_latency.json")

# The instrumented search: times the phases of one `loracode search` in this process.
_PHASES = r"""
import sys, time, json
t0 = time.perf_counter()
new = sys.argv[1] == "new"
import loracode_embed.cli as core_cli
if new:
    import numpy, tokenizers, safetensors.numpy, loracode_embed.query_encoder
else:
    import torch, sentence_transformers, peft, loracode_embed.model
import loracode_qdrant.cli as qcli, loracode_qdrant.index as qindex
phases = {"import": time.perf_counter() - t0, "load": 0.0, "embed": 0.0, "print": 0.0}

def timed(name, fn):
    def wrapper(*args, **kwargs):
        start = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            phases[name] += time.perf_counter() - start
    return wrapper

if new:
    from loracode_embed.query_encoder import QueryEncoder
    QueryEncoder.from_pretrained = classmethod(timed("load", QueryEncoder.from_pretrained.__func__))
else:
    from loracode_embed.model import LoRACodeModel
    LoRACodeModel.from_pretrained = classmethod(timed("load", LoRACodeModel.from_pretrained.__func__))
qindex._query_vectors = timed("embed", qindex._query_vectors)
qcli.format_hits = timed("print", qcli.format_hits)
start = time.perf_counter()
import contextlib, io
with contextlib.redirect_stdout(io.StringIO()) as out:
    rc = core_cli.main(["search", sys.argv[2]])
main_s = time.perf_counter() - start
phases["store"] = main_s - phases["load"] - phases["embed"] - phases["print"]
phases["total_in_process"] = time.perf_counter() - t0
print(json.dumps({"rc": rc, "phases": phases, "hits": out.getvalue().count("\n")}))
"""


def _env(checkout: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = f"{checkout}:{checkout / 'integrations' / 'qdrant'}"
    return env


def _cli(checkout: Path, args: list[str], cwd: Path) -> tuple[float, subprocess.CompletedProcess]:
    """(wall seconds, the finished process); its CPU seconds (user + sys) go to ``LAST_CPU_S``."""
    global LAST_CPU_S
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "loracode_embed.cli", *args],
        cwd=cwd,
        env=_env(checkout),
        capture_output=True,
        text=True,
    )
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    LAST_CPU_S = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, proc


LAST_CPU_S = 0.0


def _peak_rss_mb(checkout: Path, args: list[str], cwd: Path) -> tuple[float, float]:
    """(peak RSS in MB, wall seconds) of one loracode command, from GNU time."""
    with tempfile.NamedTemporaryFile(suffix=".txt") as report:
        start = time.perf_counter()
        subprocess.run(
            [
                "/usr/bin/time",
                "-f",
                "%M",
                "-o",
                report.name,
                sys.executable,
                "-m",
                "loracode_embed.cli",
                *args,
            ],
            cwd=cwd,
            env=_env(checkout),
            capture_output=True,
            check=True,
        )
        wall = time.perf_counter() - start
        return int(Path(report.name).read_text().split()[-1]) / 1024, wall


def main() -> None:
    checkouts = {"new": NEW} | ({"old": OLD} if OLD else {})
    if not (TREE / ".loracode" / "shard").is_dir():
        print(f"indexing {TREE} with the new code first ...", flush=True)
        _cli(NEW, ["index", str(TREE), "--no-progress"], TREE)
    results: dict[str, dict] = {
        name: {"search_wall_s": [], "search_cpu_s": [], "phases": [], "reject_s": {}, "reject_cpu_s": {}}
        for name in checkouts
    }

    # 1 and 2: cold searches, alternating checkouts
    for i in range(RUNS):
        query = QUERIES[i % len(QUERIES)]
        for name, checkout in checkouts.items():
            wall, proc = _cli(checkout, ["search", query], TREE)
            if proc.returncode != 0:
                raise SystemExit(f"{name}: search failed: {proc.stderr[-2000:]}")
            results[name]["search_wall_s"].append(round(wall, 3))
            results[name]["search_cpu_s"].append(round(LAST_CPU_S, 3))
            if i == 0:
                results[name]["search_stderr_lines"] = len(proc.stderr.splitlines())
                results[name]["loading_bars"] = proc.stderr.count("Loading weights")
            phases = subprocess.run(
                [sys.executable, "-c", _PHASES, name, query],
                cwd=TREE,
                env=_env(checkout),
                capture_output=True,
                text=True,
            )
            if phases.returncode != 0:
                raise SystemExit(f"{name}: instrumented search failed: {phases.stderr[-2000:]}")
            results[name]["phases"].append(json.loads(phases.stdout.strip().splitlines()[-1])["phases"])
            print(f"run {i + 1}/{RUNS} {name}: {wall:.2f}s", flush=True)

    # 3: rejected arguments
    rejects = {
        "embed --language klingon": ["embed", "--language", "klingon", "x"],
        "embed --adapter nope": ["embed", "--adapter", "nope", "x"],
        "search -k 0": ["search", "x", "-k", "0"],
    }
    for label, args in rejects.items():
        for name, checkout in checkouts.items():
            times, cpu = [], []
            for _ in range(REJECT_RUNS):
                wall, proc = _cli(checkout, args, TREE)
                assert proc.returncode != 0, (name, label, proc.stdout)
                times.append(round(wall, 3))
                cpu.append(round(LAST_CPU_S, 3))
            results[name]["reject_s"][label] = times
            results[name]["reject_cpu_s"][label] = cpu

    # 4: peak RSS of a fresh index
    if RSS_TREE:
        for name, checkout in checkouts.items():
            with tempfile.TemporaryDirectory(prefix=f"rss-{name}-") as index_dir:
                rss, wall = _peak_rss_mb(
                    checkout, ["index", RSS_TREE, "--index-dir", index_dir, "--no-progress"], Path(RSS_TREE)
                )
            results[name]["index_peak_rss_mb"] = round(rss, 1)
            results[name]["index_wall_s"] = round(wall, 1)

    summary = {}
    for name, r in results.items():
        phases = {k: round(statistics.median(p[k] for p in r["phases"]), 3) for k in r["phases"][0]}
        summary[name] = {
            "search_wall_median_s": round(statistics.median(r["search_wall_s"]), 3),
            "search_wall_min_max_s": [min(r["search_wall_s"]), max(r["search_wall_s"])],
            "search_cpu_median_s": round(statistics.median(r["search_cpu_s"]), 3),
            "phases_median_s": phases,
            "reject_median_s": {k: round(statistics.median(v), 3) for k, v in r["reject_s"].items()},
            "reject_cpu_median_s": {k: round(statistics.median(v), 3) for k, v in r["reject_cpu_s"].items()},
            "index_peak_rss_mb": r.get("index_peak_rss_mb"),
            "loading_bars_on_stderr": r.get("loading_bars"),
        }
    chunks = _count_chunks(TREE)
    record = {
        "benchmark": "cli_latency",
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "load_average_at_end": os.getloadavg(),
        "machine": {
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "python": platform.python_version(),
        },
        "tree": str(TREE),
        "tree_files_chunks": chunks,
        "rss_tree": RSS_TREE or None,
        "runs": RUNS,
        "checkouts": {k: str(v) for k, v in checkouts.items()},
        "summary": summary,
        "raw": results,
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(record, indent=2) + "\n")
    _print_table(summary)
    print(f"wrote {OUT}")


def _count_chunks(tree: Path) -> list[int] | None:
    proc = _cli(NEW, ["status", "--json"], tree)[1]
    if proc.returncode != 0:
        return None
    status = json.loads(proc.stdout)
    return [status["files"], status["chunks"]]


def _print_table(summary: dict[str, dict]) -> None:
    names = list(summary)
    rows = [
        ("cold search, wall (median)", lambda s: s["search_wall_median_s"]),
        ("cold search, CPU user+sys (median)", lambda s: s["search_cpu_median_s"]),
        ("  import", lambda s: s["phases_median_s"]["import"]),
        ("  load", lambda s: s["phases_median_s"]["load"]),
        ("  embed", lambda s: s["phases_median_s"]["embed"]),
        ("  store", lambda s: s["phases_median_s"]["store"]),
        ("  print", lambda s: s["phases_median_s"]["print"]),
        *[
            (f"rejected: {label}", lambda s, label=label: s["reject_median_s"][label])
            for label in summary[names[0]]["reject_median_s"]
        ],
        ("index peak RSS (MB)", lambda s: s["index_peak_rss_mb"]),
    ]
    print(f"{'':34}" + "".join(f"{n:>10}" for n in names))
    for label, get in rows:
        print(f"{label:34}" + "".join(f"{get(summary[n])!s:>10}" for n in names))


if __name__ == "__main__":
    main()
