"""Run ``loracode eval`` on every shared preset and write the results as JSON lines (a benchmark script).

Each preset runs as its own ``loracode eval --preset NAME --adapter ADAPTER --batch-size N --json``
process, exactly the command shown in docs/results.md, and its JSON answer is appended to ``--out`` with
the command and the wall time. ``--markdown`` prints a results table from such a file.

Usage::

    python benchmarks/eval_baselines.py --out docs/results/base-minilm.jsonl [--adapter base] [--model DIR]
        [--presets cosqa-dev cosqa-test ...] [--batch-size 64]
    python benchmarks/eval_baselines.py --markdown docs/results/base-minilm.jsonl
"""

from __future__ import annotations

import argparse
import json
import shlex
import subprocess
import sys
import time
from pathlib import Path

DEFAULT_PRESETS = (
    "java-cs-test",
    "cs-java-test",
    "java-cs-valid",
    "csn-cloze",
    "staqc-dev",
    "cosqa-pairs-dev",
    "concode-dev",
    "cosqa-dev",
    "cosqa-test",
)


def run_one(preset: str, adapter: str, batch_size: int, model: str | None, extra: list[str]) -> dict:
    cmd = ["loracode", "eval", "--preset", preset, "--adapter", adapter, "--batch-size", str(batch_size)]
    if model:
        cmd += ["--model", model]
    cmd += [*extra, "--json"]
    started = time.perf_counter()
    argv = [sys.executable, "-m", "loracode_embed.cli", *cmd[1:]]
    proc = subprocess.run(argv, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"{shlex.join(cmd)} failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    result["command"] = shlex.join(cmd)
    result["wall_s"] = round(time.perf_counter() - started, 1)
    return result


def markdown(path: Path) -> str:
    """A results table (one row per preset, indented rows for a multi-set preset's parts) and the commands."""
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    out = [
        "| preset | task | queries | candidates | MRR | NDCG@10 | R@1 | R@5 | R@10 | wall s |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]

    def line(name: str, r: dict, wall: str) -> str:
        return (
            f"| {name} | {r['task']} | {r['n_queries']:,} | {r['n_candidates']:,} | {r['mrr']:.4f} | "
            f"{r['ndcg@10']:.4f} | {r['recall@1']:.4f} | {r['recall@5']:.4f} | {r['recall@10']:.4f} "
            f"| {wall} |"
        )

    adapters: set[str] = set()
    for r in rows:
        out.append(line(f"`{r['set']}`", r, str(r["wall_s"])))
        for sub, sr in (r.get("per_set") or {}).items():
            out.append(line(f"&nbsp;&nbsp;{sub}", sr, ""))
        adapters.update(r["adapters"].values())
    out += [
        "",
        f"Adapters used (all languages, all rows): {', '.join(sorted(adapters))}.",
        "",
        "Commands:",
        "",
    ]
    out += [f"- `{r['set']}`: `{r['command']}`" for r in rows]
    return "\n".join(out)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, help="JSON-lines file to append results to")
    ap.add_argument("--markdown", type=Path, help="print a markdown table from a results file and exit")
    ap.add_argument("--presets", nargs="+", default=list(DEFAULT_PRESETS))
    ap.add_argument("--adapter", default="base")
    ap.add_argument("--model", default=None)
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--extra", nargs=argparse.REMAINDER, default=[], help="more loracode eval arguments")
    args = ap.parse_args()
    if args.markdown:
        print(markdown(args.markdown))
        return 0
    if not args.out:
        ap.error("--out is required unless --markdown is given")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    for preset in args.presets:
        result = run_one(preset, args.adapter, args.batch_size, args.model, args.extra)
        with args.out.open("a", encoding="utf-8") as fh:
            fh.write(json.dumps(result) + "\n")
        print(f"{preset}: MRR {result['mrr']:.4f} ({result['wall_s']} s)", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
