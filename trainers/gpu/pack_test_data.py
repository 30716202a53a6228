"""Pack the mined corpus's *test* splits for evaluation on a GPU machine (``mined-<lang>-test`` presets).

``pack_training_data.py`` carries train and valid only; ``loracode eval --preset mined-<lang>-test`` (and
``sweep.py eval --corpus-dir``) reads ``<corpus>/<lang>/test-NNNNN.jsonl.gz`` through
``loracode_embed.evaluation.corpus``, which needs ``id``, ``query``, ``code`` and ``language`` in each
record and reads ``.jsonl`` or ``.jsonl.gz`` (not ``.xz``). This script writes that layout under ``--out``:

* ``<lang>/test-00000.jsonl.gz``: every test pair of the language, fields ``id``, ``query``, ``code``,
  ``language``; code cut to ``--max-code-chars`` characters and the query to 1,000, as in the training
  pack (0 keeps the code whole);
* ``code2code/advtest-*-test.jsonl.gz`` (``--advtest``): the anonymised Code2Code test sets of
  ``trainers/data/code2code.py``, copied unchanged (the ``code2code-anon-<lang>`` presets read them);
* ``pack-test.json``: per file the pairs, bytes, sha256 and the size the same records would take
  xz-compressed (``xz_bytes``, preset 6, as ``pack_training_data.py`` writes its train files).

Example::

    python trainers/gpu/pack_test_data.py --corpus /work/corpus-v2 --out carry/pack-test --advtest
    # on the GPU machine: sweep.py eval --corpus-dir carry/pack-test --preset mined-go-test ...
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import lzma
import shutil
from pathlib import Path

from loracode_embed.evaluation.corpus import read_shard
from loracode_embed.jsonl import iter_objects

LANGUAGES = ("python", "go", "java", "javascript", "php", "ruby")


def trim(record: dict, max_code: int) -> dict:
    """The fields an evaluation reads; code cut to ``max_code`` characters (0: whole), query to 1,000.

    Example:
        >>> trim({"id": "a", "query": "Add.", "code": "def f(): pass", "language": "python", "x": 1}, 5)
        {'id': 'a', 'query': 'Add.', 'code': 'def f', 'language': 'python'}
    """
    return {
        "id": record["id"],
        "query": record["query"][:1000],
        "code": record["code"][:max_code] if max_code else record["code"],
        "language": record["language"],
    }


def write_gz(path: Path, records: list[dict]) -> dict:
    """Write JSON lines gzip-compressed (mtime 0: same records, same bytes); pairs, sizes, sha256."""
    path.parent.mkdir(parents=True, exist_ok=True)
    data = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records).encode("utf-8")
    with gzip.GzipFile(path, "wb", mtime=0) as gz:
        gz.write(data)
    return {
        "pairs": len(records),
        "bytes": path.stat().st_size,
        "xz_bytes": len(lzma.compress(data, preset=6)),
        "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
    }


def pack_tests(corpus: Path, out: Path, languages: list[str], max_code: int, advtest: bool) -> dict:
    """Write every language's test shards (and optionally the AdvTest sets) under ``out``; the report.

    Raises FileNotFoundError naming the language and the corpus folder when a language has no test
    shard (or ``advtest`` is set and ``code2code/`` has no AdvTest file), before anything is written.
    """
    shards = {lang: sorted((corpus / lang).glob("test-*.jsonl.gz")) for lang in languages}
    missing = [lang for lang, paths in shards.items() if not paths]
    if missing:
        raise FileNotFoundError(f"--corpus {corpus}: no test-*.jsonl.gz shard for languages {missing}")
    advtests = sorted((corpus / "code2code").glob("advtest-*-test.jsonl.gz")) if advtest else []
    if advtest and not advtests:
        raise FileNotFoundError(
            f"--advtest: no code2code/advtest-*-test.jsonl.gz under --corpus {corpus} "
            "(run trainers/data/code2code.py first)"
        )
    report: dict = {
        "corpus_manifest_sha256": hashlib.sha256((corpus / "manifest.json").read_bytes()).hexdigest(),
        "max_code_chars": max_code,
        "files": {},
    }
    for lang, paths in shards.items():
        rows = [trim(r, max_code) for path in paths for r in read_shard(path)]
        name = f"{lang}/test-00000.jsonl.gz"
        report["files"][name] = write_gz(out / name, rows)
    for path in advtests:
        target = out / "code2code" / path.name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)
        report["files"][f"code2code/{path.name}"] = {
            "pairs": sum(1 for _ in iter_objects(target)),  # java-csharp has no "language" field
            "bytes": target.stat().st_size,
            "sha256": hashlib.sha256(target.read_bytes()).hexdigest(),
        }
    (out / "pack-test.json").write_text(json.dumps(report, indent=1) + "\n")
    return report


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, required=True, help="trainers/data/build.py output")
    parser.add_argument("--out", type=Path, default=Path("carry/pack-test"))
    parser.add_argument("--languages", nargs="+", default=list(LANGUAGES))
    parser.add_argument("--max-code-chars", type=int, default=1200, help="0 keeps the code whole")
    parser.add_argument("--advtest", action="store_true", help="also copy code2code/advtest-*-test files")
    args = parser.parse_args(argv)
    if args.max_code_chars < 0:
        parser.error(f"--max-code-chars must be 0 or more, got {args.max_code_chars}")
    report = pack_tests(args.corpus, args.out, args.languages, args.max_code_chars, args.advtest)
    total = sum(info["bytes"] for info in report["files"].values())
    for name, info in report["files"].items():
        xz = f" (xz {info['xz_bytes'] / 1e6:6.2f} MB)" if "xz_bytes" in info else ""
        print(f"{name:44} {info['pairs']:>7} pairs {info['bytes'] / 1e6:7.2f} MB{xz}")
    print(f"total {total / 2**20:.2f} MiB in {args.out}")


if __name__ == "__main__":
    main()
