from __future__ import annotations

import pytest

from loracode_qdrant.chunking import LANG_SPECS, Chunker, parser_for


def words(texts):
    return [len(t.split()) for t in texts]


def check_offsets(data: bytes, chunks) -> None:
    for c in chunks:
        assert data[c.start_byte : c.end_byte].decode("utf-8") == c.text
        first = c.start_byte + len(c.text.encode()) - len(c.text.encode().lstrip())
        assert data.count(b"\n", 0, first) + 1 == c.start_line


def test_python_units_and_symbols() -> None:
    src = (
        b"import os\n\nX = 1\n\n"
        b"@decorator\ndef top(a):\n    return a\n\n"
        b"class Shape:\n    def area(self):\n        return 0\n"
    )
    chunks = Chunker(words, 100).chunk(src, "python")
    assert [(c.kind, c.symbol, c.start_line, c.end_line) for c in chunks] == [
        ("module", None, 1, 3),
        ("function", "top", 5, 7),
        ("class", "Shape", 9, 11),
    ]
    check_offsets(src, chunks)


def test_big_class_gives_header_and_methods() -> None:
    methods = "".join(f"    def m{i}(self):\n        return {i} + {i} + {i}\n\n" for i in range(6))
    src = f"class Big:\n    '''Doc.'''\n\n{methods}".encode()
    chunks = Chunker(words, 20).chunk(src, "python")
    symbols = [c.symbol for c in chunks if c.kind == "function"]
    assert symbols == [f"Big.m{i}" for i in range(6)]
    assert chunks[0].kind == "class" and chunks[0].start_line == 1
    check_offsets(src, chunks)


def test_long_function_split_at_statement_boundaries() -> None:
    body = "".join(f"    value_{i} = compute(value_{i - 1}, {i})\n" for i in range(1, 60))
    src = f"def long_one(x):\n    value_0 = x\n{body}    return value_59\n".encode()
    chunker = Chunker(words, 40)
    chunks = chunker.chunk(src, "python")
    assert len(chunks) > 3
    assert all(c.kind == "function-part" and c.symbol == "long_one" for c in chunks)
    assert all(n <= 40 for n in words([c.text for c in chunks]))
    assert chunks[0].start_byte == 0 and chunks[-1].end_byte == len(src) - 1  # no trailing newline
    # every part after the first starts at the start of a statement line
    statement_starts = {i for i in range(len(src)) if src[i : i + 4] == b"    " and src[i - 1 : i] == b"\n"}
    assert all(c.start_byte + 0 in statement_starts or src[c.start_byte - 4 : c.start_byte] == b"    "
               for c in chunks[1:])  # fmt: skip
    check_offsets(src, chunks)
    covered = b"".join(src[c.start_byte : c.end_byte] for c in chunks)
    assert covered.replace(b"\n", b"").replace(b" ", b"") == src.replace(b"\n", b"").replace(b" ", b"")


def test_non_ascii_offsets_stay_byte_exact() -> None:
    src = "# 日本語のコメント\ndef grüß(naïve):\n    return 'ñ' * 3  # ✓\n\n".encode()
    src += "def zwei():\n    return '€'\n".encode()
    chunks = Chunker(words, 100).chunk(src, "python")
    assert [c.symbol for c in chunks if c.kind == "function"] == ["grüß", "zwei"]
    check_offsets(src, chunks)


def test_unknown_language_uses_overlapping_line_windows() -> None:
    src = "".join(f"line {i}\n" for i in range(100)).encode()
    chunks = Chunker(words, 200, window_lines=40, window_overlap=8).chunk(src, None)
    assert [(c.start_line, c.end_line) for c in chunks] == [(1, 40), (33, 72), (65, 100)]
    assert all(c.kind == "window" for c in chunks)


def test_deep_nest_and_long_line_stay_under_limit() -> None:
    deep = b"x = " + b"[" * 100_000 + b"]" * 100_000 + b"\n"
    chunker = Chunker(lambda texts: [len(t) // 4 + 1 for t in texts], 512)
    chunks = chunker.chunk(deep, "python")
    assert chunks and all(len(c.text) // 4 + 1 <= 512 for c in chunks)
    assert b"".join(deep[c.start_byte : c.end_byte] for c in chunks) == deep.rstrip(b"\n")


@pytest.mark.parametrize(
    ("language", "source", "symbol"),
    [
        ("go", b"package m\nfunc (s *S) Run() int { return 1 }\n", "Run"),
        ("java", b"class A { void run() { } }\n", "A"),
        ("javascript", b"const run = (a) => { return a }\n", "run"),
        ("typescript", b"export function run(a: number): number { return a }\n", "run"),
        ("php", b"<?php\nfunction run() { return 1; }\n", "run"),
        ("ruby", b"def run\n  1\nend\n", "run"),
        ("c", b"int run(void) { return 1; }\n", "run"),
        ("cpp", b"namespace n { int run() { return 1; } }\n", "n.run"),
        ("csharp", b"class A { void Run() { } }\n", "A"),
        ("rust", b"fn run() -> i32 { 1 }\n", "run"),
    ],
)
def test_every_grammar_finds_its_definition(language: str, source: bytes, symbol: str) -> None:
    assert parser_for(language) is not None
    chunks = Chunker(words, 100).chunk(source, language)
    assert symbol in [c.symbol for c in chunks]
    check_offsets(source, chunks)


def test_grammars_cover_the_listed_languages() -> None:
    assert set(LANG_SPECS) == {"python", "go", "java", "javascript", "typescript", "php", "ruby", "c", "cpp",
                               "csharp", "rust"}  # fmt: skip


def test_empty_and_bad_input() -> None:
    assert Chunker(words, 10).chunk(b"  \n\n", "python") == []
    with pytest.raises(TypeError, match="data must be bytes"):
        Chunker(words, 10).chunk("x = 1", "python")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="max_tokens"):
        Chunker(words, 0)
