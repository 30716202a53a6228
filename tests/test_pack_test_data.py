"""trainers/gpu/pack_test_data.py: test splits packed in the layout the mined-<lang>-test presets read."""

from __future__ import annotations

import gzip
import json
import lzma
from pathlib import Path

import pytest
from conftest import load_script

from loracode_embed.evaluation.presets import load_preset

pack = load_script("trainers/gpu/pack_test_data.py")


def _record(i: int, language: str, code: str) -> dict:
    return {
        "id": f"{language}-{i}",
        "query": f"Return item {i}.",
        "code": code,
        "language": language,
        "package": "pkg",
        "version": "1",
        "path": "a.py",
        "line": i,
        "func_name": f"f{i}",
        "code_sha": f"sha{i}",
    }


def _corpus(tmp_path: Path) -> Path:
    corpus = tmp_path / "corpus"
    (corpus / "python").mkdir(parents=True)
    (corpus / "manifest.json").write_text("{}")
    rows = [_record(i, "python", f"def f{i}():\n    return {i}\n" + "#" * 50) for i in range(3)]
    with gzip.open(corpus / "python" / "test-00000.jsonl.gz", "wt", encoding="utf-8") as fh:
        fh.writelines(json.dumps(r) + "\n" for r in rows)
    (corpus / "code2code").mkdir()
    anon = [
        {
            "id": "x",
            "query": "def func():\n    return 1",
            "code": "def f():\n    return 1",
            "language": "python",
        }
    ]
    with gzip.open(corpus / "code2code" / "advtest-python-test.jsonl.gz", "wt", encoding="utf-8") as fh:
        fh.writelines(json.dumps(r) + "\n" for r in anon)
    # the cross-language set names query_language/code_language instead of language
    cross = {"id": "jcs-test-0", "query": "void func() {}", "code": "void F() {}", "query_language": "java"}
    with gzip.open(corpus / "code2code" / "advtest-java-csharp-test.jsonl.gz", "wt", encoding="utf-8") as fh:
        fh.write(json.dumps(cross) + "\n")
    return corpus


def test_packed_test_split_loads_as_preset_with_code_cut(tmp_path):
    out = tmp_path / "pack-test"
    report = pack.pack_tests(_corpus(tmp_path), out, ["python"], max_code=20, advtest=True)
    (eval_set,) = load_preset("mined-python-test", corpus_dir=out)
    assert [p.query for p in eval_set.pairs] == ["Return item 0.", "Return item 1.", "Return item 2."]
    assert all(len(p.code) == 20 for p in eval_set.pairs)
    info = report["files"]["python/test-00000.jsonl.gz"]
    assert info["pairs"] == 3 and info["bytes"] == (out / "python" / "test-00000.jsonl.gz").stat().st_size
    # xz_bytes is the size of exactly the records written, xz-compressed
    data = gzip.decompress((out / "python" / "test-00000.jsonl.gz").read_bytes())
    assert info["xz_bytes"] == len(lzma.compress(data, preset=6))
    (anon_set,) = load_preset("code2code-anon-python", corpus_dir=out)
    assert len(anon_set.pairs) == 1
    assert report["files"]["code2code/advtest-java-csharp-test.jsonl.gz"]["pairs"] == 1
    assert json.loads((out / "pack-test.json").read_text())["max_code_chars"] == 20


def test_same_corpus_gives_same_bytes_and_zero_keeps_code(tmp_path):
    corpus = _corpus(tmp_path)
    first = pack.pack_tests(corpus, tmp_path / "a", ["python"], max_code=0, advtest=False)
    second = pack.pack_tests(corpus, tmp_path / "b", ["python"], max_code=0, advtest=False)
    assert first["files"] == second["files"]
    (eval_set,) = load_preset("mined-python-test", corpus_dir=tmp_path / "a")
    assert eval_set.pairs[0].code.endswith("#" * 50)


def test_missing_language_is_named_before_writing(tmp_path):
    out = tmp_path / "out"
    with pytest.raises(FileNotFoundError, match=r"no test-\*\.jsonl\.gz shard for languages \['ruby'\]"):
        pack.pack_tests(_corpus(tmp_path), out, ["python", "ruby"], max_code=0, advtest=False)
    assert not out.exists()
