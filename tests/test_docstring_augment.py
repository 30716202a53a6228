"""trainers/data/docstring_augment.py: web-style Python training pairs (the shipped text2code-python data)."""

from __future__ import annotations

import ast
import gzip
import json
import random

import pytest
from conftest import load_script

augment = load_script("trainers/data/docstring_augment.py")


def test_restored_docstring_is_the_functions_docstring():
    code = "@cache\ndef area(r: float) -> float:\n\n    # pi times r squared\n    return 3.14 * r * r"
    restored = augment.restore_docstring(code, "Area of a circle of radius r.")
    function = ast.parse(restored).body[0]
    assert ast.get_docstring(function) == "Area of a circle of radius r."
    assert "# pi times r squared" in restored and restored.count("return") == 1


def test_restore_refuses_what_it_cannot_write_safely():
    assert augment.restore_docstring("def f(): return 1", "One.") is None  # body on the def line
    assert augment.restore_docstring("def f(:\n    pass", "Broken.") is None  # not Python
    assert augment.restore_docstring("def f():\n    pass", 'Has """ quotes.') is None
    assert augment.restore_docstring("x = 1", "Not a function.") is None


def test_web_query_is_short_lower_case_and_from_the_sentence():
    sentence = "Returns the L{Deferred} result of the given HTTP request."
    words = set("return deferred result of http request python how to".split())
    for seed in range(50):
        query = augment.web_query(sentence, random.Random(seed))
        assert query == query.lower() and 2 <= len(query.split()) <= 11
        assert set(query.split()) <= words | {"the", "given"}


def test_query_only_keeps_code_and_fraction_is_respected():
    pairs = [
        {
            "query": f"Compute value number {i}.",
            "code": f"def f{i}(x):\n    return x + {i}",
            "path": f"m{i}.py",
        }
        for i in range(400)
    ]
    out = list(augment.augment_pairs(iter(pairs), fraction=0.5, seed=0, restore=False))
    rewritten = [p for p, flag in out if flag]
    assert 150 < len(rewritten) < 250
    assert [p["code"] for p, _ in out] == [p["code"] for p in pairs]
    assert [p["path"] for p, _ in out] == [p["path"] for p in pairs]  # fields the miner's guards read
    with pytest.raises(ValueError, match="fraction"):
        list(augment.augment_pairs(iter(pairs), fraction=1.5, seed=0))


def test_cli_writes_pairs_and_staqc_positives(tmp_path):
    source = tmp_path / "train.jsonl"
    source.write_text(
        "".join(
            json.dumps({"query": f"Add {i} to x.", "code": f"def add{i}(x):\n    return x + {i}"}) + "\n"
            for i in range(20)
        )
    )
    staqc = tmp_path / "staqc.json"
    staqc.write_text(
        json.dumps(
            [{"doc": "How to add?", "code": "a + b", "label": 1}, {"doc": "No", "code": "x", "label": 0}]
        )
    )
    output = tmp_path / "out.jsonl.gz"
    assert (
        augment.main(
            ["--input", str(source), "--output", str(output), "--fraction", "1.0", "--staqc", str(staqc)]
        )
        == 0
    )
    rows = [json.loads(line) for line in gzip.open(output, "rt")]
    assert len(rows) == 21 and rows[-1] == {
        "query": "How to add?",
        "code": "a + b",
        "language": "python",
        "package": "staqc",
        "path": "0",
    }
    assert all('"""' in r["code"] for r in rows[:20])
