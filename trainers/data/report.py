"""Print the data card's tables (markdown) from ``stats.json`` and the Code2Code ``report.json``.

Usage::

    python trainers/data/report.py [--stats trainers/data/stats.json] [--corpus /work/corpus]
        [--code2code CORPUS/code2code/report.json]
"""

from __future__ import annotations

import argparse
import hashlib
import json
from pathlib import Path

TARGETS = {
    "python": 100_000,
    "go": 20_000,
    "java": 20_000,
    "javascript": 20_000,
    "php": 20_000,
    "ruby": 20_000,
}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--stats", type=Path, default=Path(__file__).resolve().parent / "stats.json")
    ap.add_argument("--corpus", type=Path, default=Path("/work/corpus"))
    ap.add_argument("--code2code", type=Path, default=None)
    args = ap.parse_args(argv)
    args.code2code = args.code2code or args.corpus / "code2code" / "report.json"
    s = json.loads(args.stats.read_text())
    langs = s["corpus"]["languages"]
    manifest = args.corpus / "manifest.json"
    if manifest.exists():
        print(f"`{manifest}` sha256: `{hashlib.sha256(manifest.read_bytes()).hexdigest()}`\n")
    if "min_pairs" in s["corpus"]:
        mp = s["corpus"]["min_pairs"]
        print(
            f"Split rule: fractions {s['corpus']['fractions']}, then valid/test topped up to "
            f"{mp['valid']:,}/{mp['test']:,} pairs (at most {s['corpus']['max_fraction']:.0%} of a "
            "language each) with whole train packages in hash order.\n"
        )
    print("### Pairs per language and split (after filtering and deduplication)\n")
    print("| language | train | valid | test | packages train/valid/test | train target | met? |")
    print("|---|---:|---:|---:|---|---:|---|")
    for lang, v in langs.items():
        sp, pk = v["splits"], v["packages"]
        tgt = TARGETS.get(lang, 0)
        met = sp["train"] >= tgt and sp["valid"] >= 1000 and sp["test"] >= 1000
        print(
            f"| {lang} | {sp['train']:,} | {sp['valid']:,} | {sp['test']:,} | "
            f"{pk.get('train', 0)}/{pk.get('valid', 0)}/{pk.get('test', 0)} | {tgt:,} | "
            f"{'yes' if met else 'no'} |"
        )
    print("\n### Pairs per source\n")
    print("| language | source | train | valid | test |")
    print("|---|---|---:|---:|---:|")
    for lang, v in langs.items():
        for src, c in v["pairs_by_source"].items():
            print(
                f"| {lang} | {src} | {c.get('train', 0):,} | {c.get('valid', 0):,} | {c.get('test', 0):,} |"
            )
    print("\n### Deduplication\n")
    print(
        "| language | pairs mined | exact duplicates | near duplicates (MinHash J>=0.8) | "
        "dropped as in shared/data | kept |"
    )
    print("|---|---:|---:|---:|---:|---:|")
    for lang, v in langs.items():
        d = v["dedup"]
        kept = sum(v["splits"].values())
        print(
            f"| {lang} | {d['input']:,} | {d['exact_duplicates']:,} | {d['near_duplicates']:,} | "
            f"{d['overlap_with_excluded']:,} | {kept:,} |"
        )
    m = s["mining"]
    print("\n### Drops by reason\n")
    print(
        f"Files: {m['files']:,} seen, {m['files_parsed']:,} parsed; documented functions: "
        f"{m['documented_functions']:,}; pairs kept before dedup: {m['pairs']:,}.\n"
    )
    print("| file drop reason | files |\n|---|---:|")
    for k, n in m["file_drops"].items():
        print(f"| {k} | {n:,} |")
    print("\n| pair drop reason | functions |\n|---|---:|")
    for k, n in m["pair_drops"].items():
        print(f"| {k} | {n:,} |")
    print(f"\nArchives skipped: {s['archives_skipped']}. Units mined: {s['units']}.\n")
    print("### Overlap checks (re-read from the written shards)\n")
    for k, n in s["checks"].items():
        print(f"- {k}: {n:,}")
    print(f"- shared/data snippets hashed: {s['shared_data_snippets']}")
    print("\n### Speed\n")
    print(
        f"{m['files']:,} files in {m['seconds']:,} s: "
        f"**{m['files_per_s']} files/s, {m['pairs_per_s']} pairs/s** "
        f"(mining only; unpacking took {s['unpack_seconds']} s; whole build {s['total_seconds']} s)."
    )
    if args.code2code.exists():
        print("\n### Code2Code sets\n")
        print("| file | figures |\n|---|---|")
        for k, v in json.loads(args.code2code.read_text()).items():
            print(f"| {k} | {v} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
