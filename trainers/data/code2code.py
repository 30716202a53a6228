"""Code2Code sets: the Java<->C# train pairs, and AdvTest-style anonymised retrieval tests.

Usage::

    python trainers/data/code2code.py [--corpus /work/corpus] [--shared ../shared/data] [--per-language 2000]

Writes under ``<corpus>/code2code/``:

* ``java-csharp-train.jsonl.gz``: the CodeXGLUE Java<->C# train split (10,295 real parallel methods) as
  ``{"id", "query" (Java), "code" (C#), "query_language", "code_language"}``;
* ``advtest-<lang>-test.jsonl.gz``: for each language, functions of the mined *test* split (at most
  ``--per-language``, chosen by hash), ``query`` = the function anonymised (name -> ``func``, parameters and
  locals -> ``arg_i``, comments removed), ``code`` = the original; the candidates are all ``code`` values
  of the file (retrieve each original among every test function of that language);
* ``advtest-java-csharp-test.jsonl.gz``: the cross-language variant on real parallel code: the CodeXGLUE
  Java<->C# *test* split with the Java side anonymised; candidates are the 1,000 C# methods.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from loracode_embed.mining.anonymise import anonymise  # noqa: E402
from loracode_embed.mining.extract import ParseTimeout  # noqa: E402
from loracode_embed.mining.shards import read_shard  # noqa: E402


def _write(path: Path, records: list[dict]) -> int:
    with gzip.open(path, "wt", encoding="utf-8") as fh:
        for r in records:
            fh.write(json.dumps(r, ensure_ascii=False) + "\n")
    return len(records)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--corpus", type=Path, default=Path("/work/corpus"))
    ap.add_argument("--shared", type=Path, default=ROOT.parent / "shared" / "data")
    ap.add_argument("--per-language", type=int, default=2000)
    args = ap.parse_args(argv)
    if not args.shared.exists():
        args.shared = Path("/work/shared/data")
    out = args.corpus / "code2code"
    out.mkdir(parents=True, exist_ok=True)
    report: dict[str, dict] = {}
    jcs = args.shared / "codexglue-java-cs"
    for split in ("train", "test"):
        java = (jcs / f"{split}.java-cs.txt.java").read_text().splitlines()
        cs = (jcs / f"{split}.java-cs.txt.cs").read_text().splitlines()
        if split == "train":
            recs = [
                {
                    "id": f"jcs-train-{i}",
                    "query": j,
                    "code": c,
                    "query_language": "java",
                    "code_language": "csharp",
                }
                for i, (j, c) in enumerate(zip(java, cs, strict=True))
            ]
            report["java-csharp-train"] = {"pairs": _write(out / "java-csharp-train.jsonl.gz", recs)}
            continue
        recs, failed, unchanged = [], 0, 0
        for i, (j, c) in enumerate(zip(java, cs, strict=True)):
            try:
                anon = anonymise(j, "java")
            except (ParseTimeout, ValueError):
                failed += 1
                continue
            unchanged += anon == j
            recs.append(
                {
                    "id": f"jcs-test-{i}",
                    "query": anon,
                    "code": c,
                    "query_language": "java",
                    "code_language": "csharp",
                    "original_query": j,
                }
            )
        report["advtest-java-csharp-test"] = {
            "queries": _write(out / "advtest-java-csharp-test.jsonl.gz", recs),
            "candidates": len(cs),
            "failed": failed,
            "unchanged": unchanged,
        }
    for lang_dir in sorted(p for p in args.corpus.iterdir() if p.is_dir() and p.name != "code2code"):
        rows = [r for shard in sorted(lang_dir.glob("test-*.jsonl.gz")) for r in read_shard(shard)]
        if not rows:
            continue
        rows.sort(key=lambda r: hashlib.sha256(r["id"].encode()).hexdigest())
        rows = rows[: args.per_language]
        recs, failed, unchanged = [], 0, 0
        for r in rows:
            try:
                anon = anonymise(r["code"], r["language"])
            except (ParseTimeout, ValueError):
                failed += 1
                continue
            if anon == r["code"]:
                unchanged += 1
            recs.append(
                {
                    "id": r["id"],
                    "query": anon,
                    "code": r["code"],
                    "language": r["language"],
                    "package": r["package"],
                    "path": r["path"],
                    "line": r["line"],
                }
            )
        report[f"advtest-{lang_dir.name}-test"] = {
            "queries": _write(out / f"advtest-{lang_dir.name}-test.jsonl.gz", recs),
            "failed": failed,
            "unchanged": unchanged,
        }
    (out / "report.json").write_text(json.dumps(report, indent=1))
    print(json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
