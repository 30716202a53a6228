"""Tests for the content-based language guesser (pure Python, no model)."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from loracode_embed.language_guess import GUESSABLE_LANGUAGES, MIN_SCORE, guess_language, language_scores
from loracode_embed.languages import SUPPORTED_LANGUAGES

DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data"

SNIPPETS = {
    "python": "import os\n\nclass Store:\n    def get(self, key):\n        if key not in self._items:\n"
    "            return None\n        return self._items[key]\n",
    "go": 'package main\n\nimport "fmt"\n\nfunc main() {\n\tx := 3\n\tfmt.Println(x)\n}\n',
    "java": "public class Counter {\n    private final int start;\n\n    @Override\n"
    "    public boolean equals(Object o) {\n        return o instanceof Counter;\n    }\n}\n",
    "javascript": 'const express = require("express");\nconst app = express();\n\n'
    'app.get("/", (req, res) => {\n  console.log("hit");\n  res.send("ok");\n});\n\nmodule.exports = app;\n',
    "typescript": "export interface User {\n  id: number;\n  name: string;\n}\n\n"
    "export function greet(user: User): string {\n"
    '  const prefix: string = "Hello, ";\n  return prefix + user.name;\n}\n',
    "php": '<?php\nfunction greet($name) {\n    return "Hello " . $name;\n}\n',
    "ruby": "class Greeter\n  attr_reader :name\n\n  def initialize(name)\n    @name = name\n  end\n\n"
    '  def greet\n    puts "Hello #{@name}"\n  end\nend\n',
    "c": "#include <stdio.h>\n#include <stdlib.h>\n\nint main(int argc, char **argv) {\n"
    '    char *buf = malloc(16);\n    if (buf == NULL) return 1;\n    printf("%s\\n", argv[0]);\n'
    "    free(buf);\n    return 0;\n}\n",
    "cpp": "#include <vector>\n#include <iostream>\n\ntemplate <typename T>\n"
    "T sum(const std::vector<T>& xs) {\n    T total{};\n    for (auto x : xs) total += x;\n"
    "    std::cout << total << std::endl;\n    return total;\n}\n",
    "csharp": "using System;\n\nnamespace Demo\n{\n    public class Greeter\n    {\n"
    "        public string Name { get; set; }\n"
    "        public void Greet() { Console.WriteLine(Name); }\n    }\n}\n",
    "rust": "use std::collections::HashMap;\n\npub fn count_words(text: &str) -> HashMap<String, usize> {\n"
    "    let mut counts = HashMap::new();\n    for word in text.split_whitespace() {\n"
    "        *counts.entry(word.to_string()).or_insert(0) += 1;\n    }\n    counts\n}\n",
    "kotlin": 'fun main() {\n    val names = listOf("a", "b")\n    for (n in names) println(n)\n}\n',
    "swift": "import Foundation\n\nfunc greet(name: String) -> String {\n"
    '    guard let first = name.first else { return "" }\n    return "Hello \\(first)"\n}\n',
    "shell": '#!/bin/bash\nfor f in *.txt; do\n  if [[ -s "$f" ]]; then\n    echo "${f}"\n  fi\ndone\n',
}


@pytest.mark.parametrize("language", sorted(SNIPPETS))
def test_guesses_idiomatic_snippets(language: str) -> None:
    assert guess_language(SNIPPETS[language]) == language


@pytest.mark.parametrize(
    "language, code",
    [
        ("python", "def _interpolate ( self , colors , n = 100 ) : gradient = [ ] return gradient"),
        ("php", "public function readOne ( ) { if ( $ this -> pos <= $ this -> max ) { return null ; } }"),
        ("go", "func ( v * Validate ) SetMaxStructPoolSize ( max int ) { structPool = & sync . Pool { } }"),
        (
            "ruby",
            "def create_bucket ( name ) config = @bucket_configs [ name ] raise 'nil' unless config end",
        ),
        ("java", "@ Override public boolean isValid ( ) { return mTokenizer != null ; }"),
    ],
)
def test_tolerates_tokenised_code(language: str, code: str) -> None:
    """CodeSearchNet-style token streams (spaces between every token) are still recognised."""
    assert guess_language(code) == language


def test_java_and_csharp_told_apart_by_naming_and_types() -> None:
    assert guess_language("public TreeFilter getTreeFilter() {return treeFilter;}") == "java"
    assert guess_language("public virtual TreeFilter GetTreeFilter(){return treeFilter;}") == "csharp"


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   \n\t",
        "hello world",
        "how do I read a file line by line",
        "x = 1",
        "return x",
        "check if key is not in dict",
        "for item in list, print it",
        "a function that returns a function",
    ],
)
def test_returns_none_for_prose_and_tiny_snippets(text: str) -> None:
    assert guess_language(text) is None


def test_newlines_and_indentation_matter_not_only_keywords() -> None:
    # The same tokens read as Ruby without the colon and as Python with it.
    assert guess_language("def area(w, h)\n  w * h\nend\n") == "ruby"
    assert guess_language("def area(w, h):\n    return w * h\n") == "python"


def test_scores_rank_the_guess_first_and_respect_min_score() -> None:
    scores = language_scores(SNIPPETS["rust"])
    assert max(scores, key=scores.get) == "rust"
    assert scores["rust"] >= MIN_SCORE
    assert all(value > 0 for value in scores.values())
    assert language_scores("hello world") == {}


def test_guessable_languages_are_canonical_ids() -> None:
    assert set(GUESSABLE_LANGUAGES) <= set(SUPPORTED_LANGUAGES)
    assert {"python", "go", "java", "javascript", "php", "ruby", "csharp", "c", "cpp", "rust"} <= set(
        GUESSABLE_LANGUAGES
    )


@pytest.mark.parametrize("bad", [None, 3, b"def f(): pass", ["def f(): pass"]])
def test_non_string_raises_type_error_naming_the_argument(bad: object) -> None:
    with pytest.raises(TypeError, match="code must be a string"):
        guess_language(bad)  # type: ignore[arg-type]


def test_long_and_pathological_inputs_stay_fast() -> None:
    start = time.perf_counter()
    assert guess_language(SNIPPETS["python"] * 2000) == "python"
    guess_language("def f(" + "(a" * 5000)
    guess_language("(" * 50_000)
    assert time.perf_counter() - start < 5.0


def test_accuracy_on_real_python_functions() -> None:
    """A floor on real code (the full measurement is benchmarks/language_guess_accuracy.py)."""
    items = json.loads((DATA / "cosqa" / "cosqa-dev.json").read_text(encoding="utf-8"))
    codes = sorted({item["code"] for item in items})[:200]
    correct = sum(guess_language(code) == "python" for code in codes)
    assert correct / len(codes) >= 0.95
