"""Data sources for the query-type classifier: which texts are natural language and which are code.

Shared by ``train_query_type.py`` (tuning splits only) and ``evaluate_query_type.py`` (held-out splits),
so that both agree on the CONCODE hash split and on the exact training texts (which evaluation excludes).

Every loader returns a list of ``(source_name, text)`` pairs; label 0 = natural language, 1 = code.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
DATA_DIR = REPO_ROOT.parent / "shared" / "data"

# CONCODE has only a dev file: a hash of each line decides whether it is for training or held out.
CONCODE_HELDOUT_PERCENT = 30
CONCODE_SEP = "concode_field_sep"

_TOKEN_RE = re.compile(r"\w+|[^\w\s]")


def _json(rel: str) -> object:
    with open(DATA_DIR / rel, encoding="utf-8") as fh:
        return json.load(fh)


def _unique(items: list[tuple[str, str]]) -> list[tuple[str, str]]:
    seen: set[str] = set()
    out = []
    for src, text in items:
        key = text.strip()
        if key and key not in seen:
            seen.add(key)
            out.append((src, text))
    return out


def concode_is_heldout(line: str) -> bool:
    """True for the CONCODE lines reserved for evaluation (stable hash of the raw JSON line)."""
    digest = hashlib.sha256(line.strip().encode("utf-8")).digest()
    return int.from_bytes(digest[:4], "big") % 100 < CONCODE_HELDOUT_PERCENT


def concode(heldout: bool) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """(NL descriptions, code) from one side of the CONCODE dev split."""
    nl, code = [], []
    with open(DATA_DIR / "concode" / "dev.json", encoding="utf-8") as fh:
        for line in fh:
            if not line.strip() or concode_is_heldout(line) != heldout:
                continue
            rec = json.loads(line)
            nl.append(("concode-nl", rec["nl"].split(CONCODE_SEP, 1)[0].strip()))
            code.append(("concode-code", rec["code"]))
    return _unique(nl), _unique(code)


def staqc(split: str) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """(question titles, code snippets) of StaQC ``train`` or ``dev``."""
    rows = _json(f"staqc/{split}_staqc.json")
    nl = [(f"staqc-{split}", r["doc"]) for r in rows]
    code = [(f"staqc-{split}-code", r["code"]) for r in rows if looks_like_snippet(r["code"])]
    return _unique(nl), _unique(code)


def looks_like_snippet(code: str) -> bool:
    """StaQC 'code' sometimes is program output (tables of numbers); keep only text with code syntax."""
    return any(ch in code for ch in "()=[]{};:")


def cosqa_tuning() -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """(queries, functions) of the CoSQA tuning files: cosqa-dev.json and cosqa-retrieval-dev-500.json."""
    nl, code = [], []
    for rel in ("cosqa/cosqa-dev.json", "cosqa/cosqa-retrieval-dev-500.json"):
        for r in _json(rel):
            nl.append(("cosqa-dev", r["doc"]))
            code.append(("cosqa-dev-code", r["code"]))
    return _unique(nl), _unique(code)


def cosqa_test_queries() -> list[tuple[str, str]]:
    """Queries of the CoSQA retrieval test file (held out)."""
    return _unique([("cosqa-test", r["doc"]) for r in _json("cosqa/cosqa-retrieval-test-500.json")])


def cosqa_corpus() -> list[tuple[str, str]]:
    """All 6,267 functions of the CoSQA retrieval corpus (``code_idx_map.txt`` keys)."""
    return _unique([("cosqa-corpus", code) for code in _json("cosqa/code_idx_map.txt")])


def java_cs(split: str) -> list[tuple[str, str]]:
    """Java and C# methods (one per line) of the CodeXGLUE translation ``train``/``valid``/``test`` split."""
    out = []
    for lang, ext in (("java", "java"), ("csharp", "cs")):
        with open(DATA_DIR / "codexglue-java-cs" / f"{split}.java-cs.txt.{ext}", encoding="utf-8") as fh:
            out.extend((f"{lang}-{split}", line.rstrip("\n")) for line in fh if line.strip())
    return _unique(out)


CLOZE_LANGUAGES = ("go", "java", "javascript", "php", "python", "ruby")


def cloze_code() -> list[tuple[str, str]]:
    """CodeSearchNet cloze test code: ``pl_tokens`` joined by spaces, ``<mask>`` replaced by ``max``."""
    out = []
    for lang in CLOZE_LANGUAGES:
        for r in _json(f"codexglue-cloze-csn/{lang}.json"):
            text = " ".join(r["pl_tokens"]).replace("<mask>", "max")
            out.append((f"csn-cloze-{lang}", text))
    return _unique(out)


def tokenise_like_csn(code: str) -> str:
    """Split code into word and punctuation tokens joined by single spaces (as CodeSearchNet tokens)."""
    return " ".join(_TOKEN_RE.findall(code))


def short_fragments(code: str, rng: random.Random, n: int) -> list[str]:
    """Up to ``n`` short fragments of a multi-line function: its first line and windows of 1-4 lines."""
    lines = [ln for ln in code.splitlines() if ln.strip()]
    # Docstring and comment lines alone are prose; fragments must carry some code syntax.
    frags = []
    if lines and looks_like_snippet(lines[0]):
        frags.append(lines[0].strip())
    for _ in range(n * 3):
        if len(frags) >= n or len(lines) < 2:
            break
        size = rng.randint(1, 4)
        start = rng.randrange(0, max(1, len(lines) - size + 1))
        window = lines[start : start + size]
        text = "\n".join(window)
        stripped = [ln.strip() for ln in window]
        if not looks_like_snippet(text) or any(
            ln.startswith(("#", '"""', "'''", "//", "*", "/*")) for ln in stripped
        ):
            continue
        frags.append(_dedent(window))
    return frags[:n]


def _dedent(lines: list[str]) -> str:
    indent = min(len(ln) - len(ln.lstrip()) for ln in lines)
    return "\n".join(ln[indent:] for ln in lines)
