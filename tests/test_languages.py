import pytest

from loracode_embed.languages import (
    LANGUAGES,
    SUPPORTED_LANGUAGES,
    canonical_language,
    get_language,
    language_for_path,
    language_for_shebang,
)


@pytest.mark.parametrize(
    ("alias", "expected"),
    [
        ("py", "python"),
        ("Python", "python"),
        ("golang", "go"),
        ("JS", "javascript"),
        ("c#", "csharp"),
        ("C++", "cpp"),
        ("ts", "typescript"),
        ("bash", "shell"),
        (" rb ", "ruby"),
    ],
)
def test_aliases_map_to_canonical_ids(alias, expected):
    assert canonical_language(alias) == expected


def test_issue_languages_are_supported():
    for lang in (
        "python",
        "go",
        "java",
        "javascript",
        "typescript",
        "php",
        "ruby",
        "c",
        "cpp",
        "csharp",
        "rust",
        "kotlin",
        "scala",
        "swift",
        "shell",
    ):
        assert lang in SUPPORTED_LANGUAGES


def test_unknown_language_lists_supported():
    with pytest.raises(ValueError, match=r"Unknown language 'cobol'\. Supported: .*python"):
        canonical_language("cobol")


def test_non_string_language_is_type_error():
    with pytest.raises(TypeError, match="language must be a string"):
        canonical_language(3)


def test_aliases_and_extensions_do_not_collide():
    seen: dict[str, str] = {}
    for lang in LANGUAGES:
        for key in (lang.id, lang.name.lower(), *lang.aliases):
            assert seen.setdefault(key.lower(), lang.id) == lang.id, key
    exts: dict[str, str] = {}
    for lang in LANGUAGES:
        for ext in lang.extensions:
            assert exts.setdefault(ext, lang.id) == lang.id, ext


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("a/b.py", "python"),
        ("x.GO", "go"),
        ("Main.java", "java"),
        ("app.tsx", "typescript"),
        ("lib.rb", "ruby"),
        ("Rakefile", "ruby"),
        ("x.hpp", "cpp"),
        ("P.cs", "csharp"),
        ("a.kt", "kotlin"),
        ("run.sh", "shell"),
        ("README.md", None),
        ("Makefile", None),
    ],
)
def test_language_for_path(path, expected):
    assert language_for_path(path) == expected


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("#!/usr/bin/env python3", "python"),
        ("#!/usr/bin/python3.11", "python"),
        ("#!/bin/bash", "shell"),
        ("#! /usr/bin/env node", "javascript"),
        ("#!/usr/bin/env ruby -w", "ruby"),
        ("print(1)", None),
    ],
)
def test_shebangs(line, expected):
    assert language_for_shebang(line) == expected
    assert language_for_path("bin/tool", first_line=line) == expected


def test_get_language_record():
    assert get_language("golang").extensions == (".go",)
