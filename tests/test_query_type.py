"""Tests for loracode_embed.query_type (natural-language vs code query classifier)."""

from __future__ import annotations

import doctest
import json
import math
from pathlib import Path

import pytest

from loracode_embed import query_type
from loracode_embed.query_type import (
    FEATURE_NAMES,
    WEIGHTS_FORMAT,
    WEIGHTS_PATH,
    classify_query,
    code_probability,
    extract_features,
    is_code,
)

DATA_DIR = Path(__file__).resolve().parents[1].parent / "shared" / "data"

NATURAL_LANGUAGE = [
    "python convert list to dict",
    "how to use json.loads",
    "How do I sort a list of tuples by the second element?",
    "What does `yield` do in Python?",
    "read file line by line java",
    "convert string to int c#",
    "str.split vs re.split",
    "np.array to list",
    "pandas dataframe groupby multiple columns",
    "fast way to check if string is palindrome",
    "return all matching lines in a logfile",
    "python check if a variable is iterable",
    "java.util.HashMap iterate",
    "wie sortiere ich eine Liste in Python",
    "如何在python中对列表排序",
    "get the max value of an array",
]

CODE = [
    "def parse(s): return json.loads(s)",
    "x.map(y => y*2)",
    "import numpy as np",
    "from collections import OrderedDict",
    "x = 5",
    "len(a)",
    "print('hello')",
    "np.zeros((3, 3))",
    "public int size() { return count; }",
    "for i in range(10):\n    print(i)",
    "if err != nil { return err }",
    "std::vector<int> v;",
    "$x = array();",
    "lambda x: x + 1",
    "SELECT * FROM users WHERE id = 1",
    "#include <stdio.h>",
    # CodeSearchNet-style tokenised code (tokens joined by spaces).
    "def _interpolate ( self , colors , n = 100 ) : gradient = [ ] for i in _range ( n ) :",
    "func ( v * Validate ) SetMaxStructPoolSize ( max int ) { structPool = & sync . Pool { } }",
    "public function readOne ( ) { if ( $ this -> pos <= $ this -> max ) { $ value = null ; } }",
    # Multi-line function with a docstring.
    'def mean(xs):\n    """Return the arithmetic mean of xs."""\n    return sum(xs) / len(xs)\n',
    "class Stack:\n    def __init__(self):\n        self.items = []\n\n    def push(self, x):\n"
    "        self.items.append(x)\n",
]


@pytest.mark.parametrize("text", NATURAL_LANGUAGE)
def test_natural_language_queries_are_text2code(text: str) -> None:
    assert classify_query(text) == "text2code", code_probability(text)
    assert is_code(text) is False
    assert code_probability(text) < 0.5


@pytest.mark.parametrize("text", CODE)
def test_code_queries_are_code2code(text: str) -> None:
    assert classify_query(text) == "code2code", code_probability(text)
    assert is_code(text) is True
    assert code_probability(text) >= 0.5


@pytest.mark.parametrize("text", ["", "   ", "\n\t\n"])
def test_empty_or_blank_is_text2code(text: str) -> None:
    assert code_probability(text) == 0.0
    assert is_code(text) is False
    assert classify_query(text) == "text2code"


@pytest.mark.parametrize("func", [code_probability, is_code, classify_query, extract_features])
@pytest.mark.parametrize("bad", [None, b"def f(): pass", 3, ["x = 1"]])
def test_non_str_raises_type_error_naming_argument(func, bad) -> None:
    with pytest.raises(TypeError, match=r"text must be a str, got " + type(bad).__name__):
        func(bad)


def test_probability_is_a_float_in_unit_interval() -> None:
    for text in NATURAL_LANGUAGE + CODE + ["?", "a", "x" * 10_000]:
        p = code_probability(text)
        assert isinstance(p, float)
        assert 0.0 <= p <= 1.0


def test_very_long_input_is_truncated_and_classified() -> None:
    big = "public int f(int x) { return x + 1; }\n" * 50_000  # ~2 MB
    assert classify_query(big) == "code2code"
    assert extract_features(big) == extract_features(big[: query_type.MAX_CHARS])
    # Leading whitespace does not eat the window.
    padded = " " * 5000 + "\n" * 100 + "def f(x):\n    return x * 2\n"
    assert extract_features(padded) == extract_features("def f(x):\n    return x * 2")
    assert classify_query(padded) == "code2code"


def test_feature_vector_shape_and_empty() -> None:
    feats = extract_features("int x = foo(y);")
    assert len(feats) == len(FEATURE_NAMES)
    assert all(isinstance(v, float) and math.isfinite(v) for v in feats)
    named = dict(zip(FEATURE_NAMES, feats, strict=True))
    assert named["semicolon_density"] > 0
    assert named["has_assign"] == 1.0
    assert extract_features("") == [0.0] * len(FEATURE_NAMES)


def test_weights_file_is_plain_json_matching_the_features() -> None:
    raw = WEIGHTS_PATH.read_text(encoding="utf-8")
    assert raw.lstrip().startswith("{")
    data = json.loads(raw)
    assert data["format"] == WEIGHTS_FORMAT
    assert tuple(data["features"]) == FEATURE_NAMES
    for key in ("mean", "scale", "coef"):
        assert len(data[key]) == len(FEATURE_NAMES)
        assert all(isinstance(v, (int, float)) and math.isfinite(v) for v in data[key])
    assert all(v > 0 for v in data["scale"])
    assert 0.0 < data["threshold"] < 1.0
    # The trainer records that it read only tuning splits.
    sources = " ".join(data["training"]["sources"])
    assert "test" not in sources


def test_model_rejects_foreign_or_mismatched_weights(tmp_path: Path) -> None:
    data = json.loads(WEIGHTS_PATH.read_text(encoding="utf-8"))
    wrong_format = dict(data, format="something-else")
    p1 = tmp_path / "a.json"
    p1.write_text(json.dumps(wrong_format), encoding="utf-8")
    with pytest.raises(ValueError, match="not a query-type weights file"):
        query_type._Model(p1)
    wrong_features = dict(data, features=data["features"][:-1] + ["bogus_feature"])
    p2 = tmp_path / "b.json"
    p2.write_text(json.dumps(wrong_features), encoding="utf-8")
    with pytest.raises(ValueError, match="feature list does not match"):
        query_type._Model(p2)
    # A valid copy loads and gives the same probabilities as the packaged model.
    p3 = tmp_path / "c.json"
    p3.write_text(json.dumps(data), encoding="utf-8")
    model = query_type._Model(p3)
    text = "def f(x): return x"
    assert model.probability(extract_features(text)) == pytest.approx(code_probability(text))


def test_doctests() -> None:
    result = doctest.testmod(query_type, verbose=False)
    assert result.attempted >= 8
    assert result.failed == 0


def _staqc_dev_titles_not_in_train(limit: int) -> list[str]:
    train = {r["doc"] for r in json.loads((DATA_DIR / "staqc" / "train_staqc.json").read_text("utf-8"))}
    out: list[str] = []
    for r in json.loads((DATA_DIR / "staqc" / "dev_staqc.json").read_text("utf-8")):
        if r["doc"] not in train and r["doc"] not in out:
            out.append(r["doc"])
    return out[:limit]


def test_held_out_sample_accuracy() -> None:
    nl = _staqc_dev_titles_not_in_train(200)
    java_lines = (DATA_DIR / "codexglue-java-cs" / "test.java-cs.txt.java").read_text("utf-8").splitlines()
    code = [ln for ln in java_lines if ln.strip()][:200]
    assert len(nl) == 200 and len(code) == 200
    correct = sum(classify_query(t) == "text2code" for t in nl)
    correct += sum(classify_query(t) == "code2code" for t in code)
    assert correct / 400 >= 0.97, correct
