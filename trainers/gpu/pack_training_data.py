"""Pack the mined corpus for a GPU machine: only what training reads, small enough to carry (64 MiB a call).

Run here (CPU), from the repository root; writes under ``--out`` (default ``carry/pack``):

* ``<lang>/train-00000.jsonl.xz``: every train pair of the language, fields ``id``, ``query``, ``code``,
  ``language``, ``package`` and ``path`` (``id`` for the evaluation presets and the negative draw, the
  last two for the hard-negative step's same-file guard);
  code cut to ``--max-code-chars`` characters (MiniLM reads 256 tokens, about 700-900
  characters of code, so the cut rarely changes what the model sees) and the query to 1,000;
* ``<lang>/valid-00000.jsonl.gz``: the first ``--max-valid`` pairs of the valid split (trainer dev set;
  the ``mined-<lang>-valid`` preset reads it as it is);
* ``code2code/train-00000.jsonl.xz``: CodeXGLUE Java<->C# train in both directions, the anonymised Java
  of each train pair -> its C#, and anonymised -> original functions drawn from every language's *train*
  split (``--anon-per-language``), shuffled;
* ``code2code/valid-00000.jsonl.gz``: CodeXGLUE Java->C# valid and its anonymised copy (dev only);
* ``pack.json``: pair counts and sha256 of every file, the corpus manifest's sha256.

On the GPU machine ``xz -d`` restores ``.jsonl`` files, which the trainer reads as they are.

    python trainers/gpu/pack_training_data.py --corpus /work/corpus-v2 --out carry/pack
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import lzma
import random
from pathlib import Path

from loracode_embed.jsonl import iter_objects
from loracode_embed.mining.anonymise import anonymise

LANGUAGES = ("python", "go", "java", "javascript", "php", "ruby")


def read(path: Path) -> list[dict]:
    return [record for _, record in iter_objects(path)]


def write(path: Path, records: list[dict]) -> dict:
    path.parent.mkdir(parents=True, exist_ok=True)
    data = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records).encode("utf-8")
    if path.suffix == ".xz":
        path.write_bytes(lzma.compress(data, preset=6))
    else:
        with gzip.GzipFile(path, "wb", mtime=0) as gz:
            gz.write(data)
    return {
        "pairs": len(records),
        "bytes": path.stat().st_size,
        "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
    }


def trim(record: dict, max_code: int) -> dict:
    trimmed = {
        "query": record["query"][:1000],
        "code": record["code"][:max_code],
        "language": record["language"],
    }
    # id: the mined-<lang>-valid preset needs it (and the negative draw keys on it); package and path:
    # the hard-negative step never takes a negative from the positive's file
    trimmed.update({k: record[k] for k in ("id", "package", "path") if k in record})
    return trimmed


def anonymised(code: str, language: str) -> str | None:
    try:
        result = anonymise(code, language)
    except Exception:  # the anonymiser gives up on code it cannot parse: skip that function
        return None
    return result if result and result != code else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, required=True, help="trainers/data/build.py output")
    parser.add_argument("--shared", type=Path, default=Path("../shared/data"), help="shared data folder")
    parser.add_argument("--out", type=Path, default=Path("carry/pack"))
    parser.add_argument("--languages", nargs="+", default=list(LANGUAGES))
    parser.add_argument("--max-code-chars", type=int, default=1200)
    parser.add_argument("--max-valid", type=int, default=3000)
    parser.add_argument("--anon-per-language", type=int, default=5000)
    args = parser.parse_args()
    report: dict = {
        "corpus_manifest_sha256": hashlib.sha256((args.corpus / "manifest.json").read_bytes()).hexdigest(),
        "max_code_chars": args.max_code_chars,
        "files": {},
    }
    train_by_language: dict[str, list[dict]] = {}
    for language in args.languages:
        train = read(args.corpus / language / "train-00000.jsonl.gz")
        train_by_language[language] = train
        rows = [trim(r, args.max_code_chars) for r in train]
        report["files"][f"{language}/train-00000.jsonl.xz"] = write(
            args.out / language / "train-00000.jsonl.xz", rows
        )
        valid = [trim(r, args.max_code_chars) for r in read(args.corpus / language / "valid-00000.jsonl.gz")]
        report["files"][f"{language}/valid-00000.jsonl.gz"] = write(
            args.out / language / "valid-00000.jsonl.gz", valid[: args.max_valid]
        )
    java_cs = args.shared / "codexglue-java-cs"

    def lines(split: str, ext: str) -> list[str]:
        return (java_cs / f"{split}.java-cs.txt.{ext}").read_text(encoding="utf-8").splitlines()

    pairs = list(zip(lines("train", "java"), lines("train", "cs"), strict=True))
    c2c = [{"query": j, "code": c, "language": "csharp"} for j, c in pairs]
    c2c += [{"query": c, "code": j, "language": "java"} for j, c in pairs]
    c2c += [{"query": a, "code": c, "language": "csharp"} for j, c in pairs if (a := anonymised(j, "java"))]
    for language, train in train_by_language.items():
        rng = random.Random(5)
        for index in sorted(rng.sample(range(len(train)), min(args.anon_per_language, len(train)))):
            code = train[index]["code"][: args.max_code_chars * 2]
            if a := anonymised(code, language):
                c2c.append(
                    {
                        "query": a[: args.max_code_chars],
                        "code": code[: args.max_code_chars],
                        "language": language,
                    }
                )
    random.Random(6).shuffle(c2c)
    report["files"]["code2code/train-00000.jsonl.xz"] = write(
        args.out / "code2code" / "train-00000.jsonl.xz", c2c
    )
    valid_pairs = list(zip(lines("valid", "java"), lines("valid", "cs"), strict=True))
    dev = [{"query": j, "code": c, "language": "csharp"} for j, c in valid_pairs]
    dev += [
        {"query": a, "code": c, "language": "csharp"} for j, c in valid_pairs if (a := anonymised(j, "java"))
    ]
    report["files"]["code2code/valid-00000.jsonl.gz"] = write(
        args.out / "code2code" / "valid-00000.jsonl.gz", dev
    )
    (args.out / "pack.json").write_text(json.dumps(report, indent=1) + "\n")
    for name, info in report["files"].items():
        print(f"{name:36} {info['pairs']:>8} pairs {info['bytes'] / 1e6:7.2f} MB")


if __name__ == "__main__":
    main()
