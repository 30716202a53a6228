"""Mining: extraction per language, CSN filters, dedup, package split, bad files, shard size limit."""

from __future__ import annotations

import gzip
import json
import random
import string

import pytest
import tree_sitter_python  # noqa: F401  (the [mine] extra: installed by the test command)

from loracode_embed.mining import extract as extract_mod  # noqa: E402
from loracode_embed.mining.corpus import build_corpus, dedup_pairs  # noqa: E402
from loracode_embed.mining.dedup import code_sha, near_duplicate_mask  # noqa: E402
from loracode_embed.mining.docstrings import clean_comment, first_paragraph  # noqa: E402
from loracode_embed.mining.extract import ParseTimeout, extract_functions  # noqa: E402
from loracode_embed.mining.filters import file_drop_reason, is_english, pair_drop_reason  # noqa: E402
from loracode_embed.mining.holdout import holdout_path_hit, is_holdout_package  # noqa: E402
from loracode_embed.mining.runner import FileTask, iter_tasks, mine_file, mine_tree  # noqa: E402
from loracode_embed.mining.shards import ShardWriter, read_shard  # noqa: E402
from loracode_embed.mining.split import assign_package_splits, split_for_package  # noqa: E402

SOURCES = {
    "python": (
        b'class A:\n    def add(self, a, b):\n        """Add two numbers together.\n\n'
        b'        :param a: first\n        """\n        c = a + b\n        return c\n',
        "add",
        "Add two numbers together.",
        "Add two numbers",
    ),
    "go": (
        b"package x\n\n// Add adds two numbers\n// and returns the sum.\nfunc Add(a, b int) int {\n"
        b"\tc := a + b\n\treturn c\n}\n",
        "Add",
        "Add adds two numbers and returns the sum.",
        "// Add",
    ),
    "java": (
        b"class A {\n  /**\n   * Adds two {@code int} numbers.\n   *\n   * @param a first\n   */\n"
        b"  public int add(int a, int b) {\n    int c = a + b;\n    return c;\n  }\n}\n",
        "add",
        "Adds two int numbers.",
        "@param",
    ),
    "javascript": (
        b"/**\n * Adds two numbers quickly.\n * @param {number} a\n */\nexport function add(a, b) {\n"
        b"  const c = a + b;\n  return c;\n}\n",
        "add",
        "Adds two numbers quickly.",
        "@param",
    ),
    "php": (
        b"<?php\nclass A {\n    /**\n     * Adds two numbers together.\n     * @param int $a\n     */\n"
        b"    public function add($a, $b) {\n        $c = $a + $b;\n        return $c;\n    }\n}\n",
        "add",
        "Adds two numbers together.",
        "@param",
    ),
    "ruby": (
        b"class A\n  # Adds two numbers together.\n  #\n  # @param a [Integer]\n  def add(a, b)\n"
        b"    c = a + b\n    c\n  end\nend\n",
        "add",
        "Adds two numbers together.",
        "# Adds",
    ),
    "csharp": (
        b"class A {\n    /// <summary>\n    /// Adds two numbers together.\n    /// </summary>\n"
        b"    public int Add(int a, int b) {\n        var c = a + b;\n        return c;\n    }\n}\n",
        "Add",
        "Adds two numbers together.",
        "summary",
    ),
}


@pytest.mark.parametrize("language", sorted(SOURCES))
def test_extract_first_paragraph_and_docstring_removed(language):
    src, name, query, absent = SOURCES[language]
    funcs = extract_functions(src, language)
    assert [f.name for f in funcs] == [name]
    fn = funcs[0]
    assert first_paragraph(clean_comment(fn.doc)) == query
    assert absent not in fn.code
    assert "c = a + b" in fn.code or "c := a + b" in fn.code or "$c = $a + $b" in fn.code
    assert not fn.has_error


def test_undocumented_function_is_skipped():
    src = b"def f(x):\n    y = x\n    return y\n\n# not a doc\n\ndef g(x):\n    return x\n"
    assert extract_functions(src, "python") == []
    go = b"package x\n\n// unrelated comment\n\nfunc F() {\n\treturn\n}\n"
    assert extract_functions(go, "go") == []  # a blank line separates the comment from the function


def test_tag_stripping_variants():
    assert (
        first_paragraph(clean_comment('"""Parse a date string.\n\nArgs:\n    s: text\n"""'))
        == "Parse a date string."
    )
    assert (
        first_paragraph("Compute the mean value.\nParameters\n----------\nx : array")
        == "Compute the mean value."
    )
    assert first_paragraph("Return things from a list.\n@return list") == "Return things from a list."
    assert first_paragraph("See {@link Foo#bar} for the details.") == "See Foo#bar for the details."


def test_csn_drop_rules():
    code = "def f(x):\n    y = x\n    return y"
    assert pair_drop_reason("Add numbers", code, "f") == "short_query"
    assert pair_drop_reason("word " * 300, code, "f") == "long_query"
    assert pair_drop_reason("Return the value of x.", "def f(x): return x", "f") == "short_code"
    assert pair_drop_reason("Return the value of x.", code, "test_f") == "test_function"
    assert pair_drop_reason("Gibt den Wert zurück für große Äpfel.", code, "f") == "non_english"
    assert pair_drop_reason("Return the value of x.", code, "f") is None
    assert not is_english("获取 用户 的 名称 列表")


def test_file_rules():
    assert file_drop_reason("pkg/vendor/github.com/a/b.go", b"package b") == "vendored"
    assert file_drop_reason("pkg/node_modules/x/index.js", b"x") == "vendored"
    assert file_drop_reason("pkg/tests/test_a.py", b"x") == "test_file"
    assert file_drop_reason("pkg/a_test.go", b"x") == "test_file"
    assert file_drop_reason("pkg/a.pb.go", b"x") == "generated"
    assert (
        file_drop_reason("pkg/a.go", b"// Code generated by protoc-gen-go. DO NOT EDIT.\npackage a")
        == "generated"
    )
    assert file_drop_reason("pkg/app.js", b"var a=1;" * 2000) == "generated"  # one long minified line
    assert file_drop_reason("pkg/a.go", b"package a\n\x00\x01") == "binary"
    assert file_drop_reason("pkg/a.go", b"package a\n") is None


def test_bad_files_counted_by_reason(tmp_path, monkeypatch):
    good = tmp_path / "good.py"
    good.write_text('def f(a):\n    """Return the value of a."""\n    b = a\n    c = b\n    return c\n')
    (tmp_path / "binary.py").write_bytes(b"def f():\x00\x01\x02 pass")
    (tmp_path / "latin.py").write_bytes(
        'def f():\n    """Caf\xe9 au lait here."""\n    return 1\n'.encode("latin-1")
    )
    (tmp_path / "slow.py").write_text("x = 1\n")
    tasks = list(iter_tasks(tmp_path, "pkg", "1"))
    assert [t.path for t in tasks] == ["binary.py", "good.py", "latin.py", "slow.py"]

    real_parse = extract_mod.parse

    def fake_parse(source, language, timeout_s=5.0):
        if source.startswith(b"x = 1"):
            raise ParseTimeout("simulated runaway parse")
        return real_parse(source, language, timeout_s)

    monkeypatch.setattr(extract_mod, "parse", fake_parse)
    pairs, stats = mine_tree(tasks, workers=1)
    assert stats.files == 4 and stats.files_parsed == 1
    assert dict(stats.file_drops) == {"binary": 1, "invalid_utf8": 1, "parse_timeout": 1}
    assert [p["query"] for p in pairs] == ["Return the value of a."]
    rec = pairs[0]
    assert (rec["package"], rec["version"], rec["path"], rec["line"], rec["func_name"]) == (
        "pkg",
        "1",
        "good.py",
        1,
        "f",
    )
    assert rec["code_sha"] == code_sha(rec["code"]) and '"""' not in rec["code"]


def test_real_parse_timeout_is_enforced():
    deep = b"x = " + b"[" * 20000 + b"]" * 20000 + b"\n"
    with pytest.raises(ParseTimeout):
        extract_mod.parse(deep * 20, "python", timeout_s=1e-6)
    assert extract_mod.parse(b"x = 1\n", "python", timeout_s=5.0).root_node.type == "module"


def test_holdout_file_dropped(tmp_path):
    f = tmp_path / "more_itertools" / "recipes.py"
    f.parent.mkdir()
    f.write_text('def f(a):\n    """Return the value of a."""\n    b = a\n    return b\n')
    res = mine_file(FileTask(str(f), "site/more_itertools/recipes.py", "python", "somepkg", "1"))
    assert res.file_reason == "holdout_path" and res.pairs == []
    assert is_holdout_package("pypi", "More_Itertools") and not is_holdout_package("pypi", "requests")
    assert is_holdout_package("debian", "golang-github-gorilla-mux-dev")
    assert holdout_path_hit("usr/share/php/Symfony/Component/Console/Application.php") == "symfony/console"
    assert holdout_path_hit("usr/share/php/Symfony/Component/Yaml/Yaml.php") is None


def test_exact_and_near_dedup():
    base = "def area(width, height):\n    result = width * height\n    log(result)\n    return result\n"
    reformatted = base.replace("    ", "\t")
    near = base.replace("log(result)", "log(result)\n    log(result)")
    other = "def volume(a, b, c):\n    v = a * b * c\n    return v\n"
    assert code_sha(base) != code_sha(near)
    keep = near_duplicate_mask([base, near, other], threshold=0.7)
    assert keep == [True, False, True]
    pairs = [_pair("p1", base, 1), _pair("p2", reformatted.replace("\t", "  "), 2), _pair("p3", other, 3)]
    kept, counts = dedup_pairs(pairs, near_threshold=None)
    assert counts["exact_duplicates"] == 1 and [p["package"] for p in kept] == ["p1", "p3"]


def _pair(package, code, line, language="python"):
    return {
        "id": f"{package}-{line}",
        "query": "Compute the area of a rectangle.",
        "code": code,
        "language": language,
        "package": package,
        "version": "1",
        "path": "m.py",
        "line": line,
        "func_name": "f",
        "code_sha": code_sha(code),
    }


def test_split_is_by_package_and_no_hash_in_two_splits(tmp_path):
    rng = random.Random(0)
    pairs = []
    for pkg_i in range(60):
        for j in range(5):
            body = " ".join(rng.choice(string.ascii_lowercase) * rng.randint(1, 8) for _ in range(30))
            pairs.append(_pair(f"pkg{pkg_i}", f"def f{j}():\n    x = '{body}'\n    return x\n", j))
        pairs.append(
            _pair(f"pkg{pkg_i}", "def shared():\n    x = 1\n    return x\n", 99)
        )  # same code everywhere
    stats = build_corpus(pairs, tmp_path, near_threshold=None, min_pairs=(20, 30))
    seen: dict[str, str] = {}
    pkg_split: dict[str, str] = {}
    for shard in tmp_path.glob("python/*.jsonl.gz"):
        split = shard.name.split("-")[0]
        for r in read_shard(shard):
            assert seen.setdefault(r["code_sha"], split) == split
            assert pkg_split.setdefault(r["package"], split) == split
    assert set(pkg_split.values()) == {"train", "valid", "test"}
    assert stats["languages"]["python"]["splits"]["valid"] >= 20
    assert stats["languages"]["python"]["splits"]["test"] >= 30
    assert sum(stats["languages"]["python"]["splits"].values()) == 60 * 5 + 1
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert sum(s["pairs"] for s in manifest["shards"]) == 301


def test_exclude_hashes_drop_pairs(tmp_path):
    code = "def g(x):\n    y = x + 1\n    return y\n"
    stats = build_corpus(
        [_pair("p", code, 1)], tmp_path, exclude_hashes={code_sha(code)}, near_threshold=None
    )
    assert stats["languages"]["python"]["dedup"]["overlap_with_excluded"] == 1


def test_shard_size_limit(tmp_path):
    rng = random.Random(1)
    limit = 64 * 1024
    with ShardWriter(tmp_path, "go", "train", max_bytes=limit) as w:
        for i in range(400):
            w.write({"id": str(i), "code": "".join(rng.choice(string.printable) for _ in range(1000))})
    files = sorted((tmp_path / "go").iterdir())
    assert len(files) > 3
    assert all(f.stat().st_size <= limit for f in files)
    total = sum(1 for f in files for _ in gzip.open(f, "rt"))
    assert total == 400
    assert sum(s["pairs"] for s in w.shards) == 400 and all(len(s["sha256"]) == 64 for s in w.shards)
    with pytest.raises(ValueError, match="larger than a whole shard"):
        ShardWriter(tmp_path, "go", "valid", max_bytes=limit).write({"id": "big", "code": "x" * limit})


def test_bad_language_and_source_type():
    with pytest.raises(ValueError, match="language must be one of"):
        extract_functions(b"x", "cobol")
    with pytest.raises(TypeError, match="source must be bytes"):
        extract_functions("def f(): pass", "python")


def test_anonymise_renames_and_strips_comments():
    from loracode_embed.mining.anonymise import anonymise

    py = anonymise(
        'def area(width, height):\n    """Doc."""\n    # product\n    size = width * height\n'
        "    return size.real",
        "python",
    )
    assert py == "def func(arg_0, arg_1):\n    arg_2 = arg_0 * arg_1\n    return arg_2.real"
    java = anonymise(
        "public int add(int a, int b) {\n  /* x */ int c = a + b;\n  return Math.max(c, this.d);\n}", "java"
    )
    assert "func(int arg_0, int arg_1)" in java and "Math.max(arg_2, this.d)" in java and "/*" not in java
    go = anonymise("func Add(a, b int) int {\n\t// sum\n\tc := a + b\n\treturn c\n}", "go")
    assert go.startswith("func func(arg_0, arg_1 int) int") and "sum" not in go
    php = anonymise("public function add($a, $b) {\n  $c = $a + $b; // x\n  return $this->c($c);\n}", "php")
    assert "$arg_2 = $arg_0 + $arg_1;" in php and "$this->c($arg_2)" in php
    ctor = anonymise("protected ConsoleWriter(Object lock) {\n\tsuper(lock);\n}", "java")
    assert ctor == "protected func(Object arg_0) {\n\tsuper(arg_0);\n}"


def _value_order(language, packages):
    from loracode_embed.mining.split import package_value

    return sorted(packages, key=lambda p: -package_value(language, p))


def test_split_tops_up_valid_and_test_to_the_minimum_with_whole_packages():
    sizes = {f"pkg{i}": 10 + (i * 37) % 90 for i in range(300)}
    total = sum(sizes.values())
    plain = {p: split_for_package("php", p) for p in sizes}
    plain_test = sum(n for p, n in sizes.items() if plain[p] == "test")
    want = plain_test + 500
    out = assign_package_splits("php", sizes, min_pairs=(want, want), max_fraction=0.5)
    assert set(out) == set(sizes)
    per = {s: sum(n for p, n in sizes.items() if out[p] == s) for s in ("train", "valid", "test")}
    assert per["test"] >= want and per["valid"] >= want
    assert sum(per.values()) == total
    # packages already in valid/test by hash stay there; the moved ones are the train packages that come
    # first in descending hash order (skipping none here: every package is far below twice the target)
    assert all(out[p] == s for p, s in plain.items() if s != "train")
    moved = [p for p in _value_order("php", sizes) if plain[p] == "train" and out[p] != "train"]
    donors = [p for p in _value_order("php", sizes) if plain[p] == "train"]
    assert moved == donors[: len(moved)]
    # deterministic and independent of the order of the input mapping
    again = assign_package_splits(
        "php", dict(reversed(list(sizes.items()))), min_pairs=(want, want), max_fraction=0.5
    )
    assert again == out


def test_split_top_up_is_capped_and_skips_huge_packages():
    sizes = {f"p{i}": 10 for i in range(100)}
    sizes["huge"] = 10_000
    out = assign_package_splits("go", sizes, min_pairs=(1000, 1000), max_fraction=0.1)
    per = {s: sum(n for p, n in sizes.items() if out[p] == s) for s in ("train", "valid", "test")}
    target = 1000  # min(1000, 0.1 * 11_000)
    assert out["huge"] == split_for_package("go", "huge")  # 10_000 > 2 * target: never moved
    moved = [p for p in sizes if out[p] != split_for_package("go", p)]
    assert moved and all(sizes[p] == 10 for p in moved)
    assert per["test"] <= 2 * target and per["valid"] <= 2 * target
    small = assign_package_splits(
        "go", {"a": 5, "b": 5, "c": 5, "d": 5}, min_pairs=(1000, 1000), max_fraction=0.25
    )
    small_per = {s: sum(5 for p, v in small.items() if v == s) for s in ("train", "valid", "test")}
    assert small_per["test"] <= 10 and small_per["train"] >= 5  # capped at 25% of 20 pairs (+ one package)


def test_split_rejects_bad_parameters():
    with pytest.raises(ValueError, match="min_pairs"):
        assign_package_splits("go", {"a": 1}, min_pairs=(-1, 5))
    with pytest.raises(ValueError, match="max_fraction"):
        assign_package_splits("go", {"a": 1}, max_fraction=0.9)
    with pytest.raises(ValueError, match="sizes\\['a'\\]"):
        assign_package_splits("go", {"a": -3})
    with pytest.raises(ValueError, match="package"):
        assign_package_splits("go", {"": 3})


def test_npm_holdout_names_match_exactly_or_as_lodash_modules():
    from loracode_embed.mining.holdout import is_holdout_package

    assert is_holdout_package("npm", "lodash") and is_holdout_package("npm", "lodash.debounce")
    assert is_holdout_package("npm", "source-map-js") and is_holdout_package("npm", "ws")
    assert not is_holdout_package("npm", "async") and not is_holdout_package("npm", "wsx")


def test_javascript_bundles_are_dropped_by_path_but_not_other_languages_dist_dirs():
    from loracode_embed.mining.filters import path_drop_reason

    assert path_drop_reason("usr/share/nodejs/less/dist/less.js") == "js_bundle"
    assert path_drop_reason("package/lib/yaml.browser.js") == "js_bundle"
    assert path_drop_reason("yaml/browser/dist/compose/composer.mjs") == "js_bundle"
    assert path_drop_reason("package/lib/compose/composer.js") is None
    assert path_drop_reason("src/dist/dist.go") is None
