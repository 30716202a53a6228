"""trainers/data/name_queries.py: function-name queries against functions that keep their docstring."""

from __future__ import annotations

import ast
import gzip
import json
import random
import subprocess
import sys

import pytest
from conftest import ROOT, load_script

names = load_script("trainers/data/name_queries.py")


def test_name_words_split_snake_and_camel_case():
    assert names.name_words("is_iterable_but_not_string") == ["is", "iterable", "but", "not", "string"]
    assert names.name_words("_parseHTTPResponse2") == ["parse", "http", "response", "2"]


def test_hide_name_replaces_definition_and_recursion_but_not_attributes():
    code = (
        "def walk(node):\n    for c in node.children:\n        walk(c)\n    return node.walk_count + walker"
    )
    hidden = names.hide_name(code, "walk")
    assert hidden.startswith("def func(node):") and "        func(c)" in hidden
    assert "node.walk_count" in hidden and "walker" in hidden  # other identifiers untouched


def test_function_name_from_the_record_or_from_the_code():
    assert names.function_name({"func_name": "Tree.walk", "code": "def other(): pass"}) == "walk"
    assert names.function_name({"code": "@cache\nasync def fetch_all(url):\n    pass"}) == "fetch_all"
    assert names.function_name({"code": "x = 1"}) is None


def test_name_query_skips_names_that_say_nothing():
    rng = random.Random(0)
    assert names.name_query("__init__", rng) is None
    assert names.name_query("test_split_batches", rng) is None
    assert names.name_query("run", rng) is None  # one word
    assert names.name_query("get_set", rng) is None  # only uninformative words
    for seed in range(20):
        query = names.name_query("splitIntoBatches", random.Random(seed))
        assert query.replace("python", "").split() == ["split", "into", "batches"]


def test_rewritten_pairs_keep_the_docstring_and_hide_the_name():
    pairs = [
        {"query": f"Add {i} to x.", "code": f"def add_number_{i}(x):\n    return x + {i}"} for i in range(300)
    ]
    out = list(names.name_pairs(iter(pairs), fraction=0.5, seed=0))
    assert len(out) == 300
    rewritten = [pair for pair, flag in out if flag]
    assert 100 < len(rewritten) < 200
    for pair in rewritten:
        function = ast.parse(pair["code"]).body[0]
        number = pair["query"].replace("python", "").split()[-1]
        assert function.name == "func" and ast.get_docstring(function) == f"Add {number} to x."
        assert "add_number" not in pair["code"]
    kept = [pair for pair, flag in out if not flag]
    assert all(pair["code"].startswith("def add_number_") for pair in kept)
    with pytest.raises(ValueError, match="fraction"):
        list(names.name_pairs(iter(pairs), fraction=1.5, seed=0))


def test_script_writes_the_set(tmp_path):
    source = tmp_path / "train.jsonl"
    rows = [
        {"query": "Sum two numbers.", "code": "def add_two(a, b):\n    return a + b", "language": "python"}
    ]
    source.write_text("\n".join(json.dumps(r) for r in rows * 4) + "\n")
    out = tmp_path / "out" / "train-00000.jsonl.gz"
    proc = subprocess.run(
        [sys.executable, str(ROOT / "trainers/data/name_queries.py"), "--input", str(source),
         "--output", str(out), "--fraction", "1"],
        capture_output=True, text=True, cwd=ROOT, env={"PYTHONPATH": str(ROOT), "PATH": ""},
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    written = [json.loads(line) for line in gzip.open(out, "rt")]
    assert len(written) == 4 and all(w["code"].startswith("def func(a, b):") for w in written)
    assert json.loads(proc.stderr.strip().splitlines()[-1])["rewritten"] == 4
