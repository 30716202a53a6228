"""Markdown tables of the shipped adapters' results, from ``sweep.py eval`` output (JSON lines).

    python trainers/gpu/results_table.py benchmarks/results/training-2026-11-22-minilm-v2/eval.jsonl \\
        --python-run text2code-python__python-webq__1e-3__2__all

Rows are labelled ``base``, ``text2code`` (unified), ``text2code-<lang>`` and ``code2code``; a Python
adapter chosen among several runs is labelled ``text2code-python@<run>`` (``--python-run`` picks it).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

LANGUAGES = ("python", "go", "java", "javascript", "php", "ruby")
METRICS = ("mrr", "ndcg@10", "recall@1", "recall@10")


def cells(row: dict) -> str:
    return " | ".join(f"{row[m]:.4f}" for m in METRICS)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results", type=Path)
    parser.add_argument("--python-run", required=True)
    args = parser.parse_args()
    rows = {}
    for line in args.results.read_text().splitlines():
        if line.strip():
            row = json.loads(line)
            rows[(row["label"], row["preset"])] = row
    label = {lang: f"text2code-{lang}" for lang in LANGUAGES}
    label["python"] = f"text2code-python@{args.python_run}"

    print("| language | model | MRR | NDCG@10 | R@1 | R@10 | gap closed |")
    print("|---|---|---:|---:|---:|---:|---:|")
    closed = []
    for lang in LANGUAGES:
        preset = f"mined-{lang}-test"
        base = rows[("base", preset)]["mrr"]
        for name, key in (
            ("base", "base"),
            ("unified `text2code`", "text2code"),
            (f"`text2code-{lang}`", label[lang]),
        ):
            row = rows[(key, preset)]
            gap = "" if key == "base" else f"{100 * (row['mrr'] - base) / (1 - base):.1f} %"
            print(f"| {lang} | {name} | {cells(row)} | {gap} |")
        closed.append((rows[(label[lang], preset)]["mrr"] - base) / (1 - base))
    print(f"\nMean gap closed by the language adapters: {100 * sum(closed) / len(closed):.1f} %\n")

    print("| set | model | MRR | NDCG@10 | R@1 | R@10 |")
    print("|---|---|---:|---:|---:|---:|")
    for preset, keys in (
        ("cosqa-test", ("base", "text2code", label["python"])),
        ("cosqa-dev", ("base", "text2code", label["python"])),
        ("staqc-dev", ("base", label["python"])),
        *[(f"csn-cloze-{lang}", ("base", label[lang])) for lang in LANGUAGES],
        ("csn-cloze", ("base", "text2code")),
    ):
        for key in keys:
            row = rows.get((key, preset))
            if row is None and preset.startswith("csn-cloze-") and key == "base":
                row = {**rows[("base", "csn-cloze")]["per_set"][preset]}
            if row is not None:
                print(f"| `{preset}` | {key.split('@')[0]} | {cells(row)} |")
    print()
    print("| set | model | MRR | NDCG@10 | R@1 | R@10 |")
    print("|---|---|---:|---:|---:|---:|")
    for preset in (
        "java-cs-test",
        "java-cs-valid",
        "cs-java-test",
        "code2code-anon-java-csharp",
        *[f"code2code-anon-{lang}" for lang in LANGUAGES],
    ):
        for key in ("base", "code2code"):
            row = rows.get((key, preset))
            if row is not None:
                print(f"| `{preset}` | {key} | {cells(row)} |")


if __name__ == "__main__":
    main()
