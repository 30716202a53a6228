"""Readers for the public evaluation sets in ``../shared/data`` (see its README.md), one function per set.

Every reader returns :class:`~loracode_embed.evaluation.records.EvalSet` objects: each query's gold is
its own code, and the candidates are the pair codes plus the set's corpus, deduplicated by code text.
How each set is turned into a retrieval task:

* **CoSQA retrieval** (:func:`load_cosqa_retrieval`): queries and gold code from
  ``cosqa-retrieval-{dev,test}-500.json``; candidates are the 6,267 functions of ``code_idx_map.txt``.
  Every one of the 500 + 500 gold codes is in that corpus (checked on load, see the set's ``notes``).
* **CoSQA labelled dev / StaQC** (:func:`load_cosqa_labelled`, :func:`load_staqc`): labelled 0/1 pairs.
  Queries are the label-1 pairs; candidates are the codes of *all* pairs of the file (negatives
  included), so the negatives act as hard distractors. StaQC has questions with more than one positive
  snippet; each positive is its own query and the question's other positives count as wrong candidates.
* **CodeSearchNet cloze** (:func:`load_csn_cloze`): the files are already tokenised. Code text is the
  ``pl_tokens`` joined with single spaces, with the ``<mask>`` token replaced by ``max`` (the file does
  not say whether the original was ``max`` or ``min``; the answers are not shipped). Layout and indents
  are lost, so this set measures robustness to tokenised text as well as retrieval. The query is the
  ``nl_tokens`` joined with spaces, **dropping the first NL token when it is the function's declared
  name** (the identifier before the signature's ``(``): Go docstrings start with the function's own
  name (Go doc convention: 119 of 152 Go queries), which would let the query match the code by name
  alone. In the other languages the first token is mostly an ordinary word ("Returns") and is kept;
  the rule drops it from 3 Python, 2 Java, 2 JavaScript, 7 PHP and 0 Ruby queries.
* **Java -> C#** (:func:`load_java_cs`): query = Java method (line i of ``.java``), gold = the C# method
  on line i of ``.cs``, candidates = all C# lines of the split (test: 1,000 lines, 995 distinct texts).
  Task ``code2code``. ``direction="cs-java"`` swaps the roles.
* **CONCODE** (:func:`load_concode`): query = the ``nl`` text before the first ``concode_field_sep``
  (the class-context tokens after it are dropped); gold = ``code`` (tokenised Java, method name replaced
  by ``function`` in the source data); candidates = all 2,000 dev codes (1,935 distinct).

Example:
    >>> from loracode_embed.evaluation.shared_sets import load_cosqa_retrieval
    >>> s = load_cosqa_retrieval("test")          # doctest: +SKIP
    >>> len(s.pairs), len(s.candidate_codes())    # doctest: +SKIP
    (500, 6267)
"""

from __future__ import annotations

import json
import logging
import os
import re
from pathlib import Path

from loracode_embed.evaluation.records import EvalSet, Pair
from loracode_embed.jsonl import iter_objects, require_strings

logger = logging.getLogger(__name__)

DATA_DIR_ENV = "LORACODE_DATA_DIR"
CLOZE_LANGUAGES: tuple[str, ...] = ("go", "java", "javascript", "php", "python", "ruby")
_IDENTIFIER = re.compile(r"^[A-Za-z_$][A-Za-z0-9_$]*$")
_KEYWORDS = frozenset(
    {
        "func",
        "function",
        "def",
        "fn",
        "sub",
        "if",
        "elif",
        "for",
        "while",
        "switch",
        "catch",
        "return",
        "new",
        "and",
        "or",
        "not",
        "lambda",
        "await",
        "typeof",
    }
)


def default_data_dir() -> Path:
    """The shared data directory: ``$LORACODE_DATA_DIR``, else ``../shared/data`` from the project root.

    The project root is found from this file's location (a source checkout) and then from the current
    directory. Raises FileNotFoundError naming the environment variable when neither exists.
    """
    env = os.environ.get(DATA_DIR_ENV)
    if env:
        path = Path(env)
        if not path.is_dir():
            raise FileNotFoundError(f"{DATA_DIR_ENV}={env!r} is not a directory")
        return path
    candidates = [
        Path(__file__).resolve().parents[2].parent / "shared" / "data",
        Path.cwd().parent / "shared" / "data",
        Path.cwd() / "shared" / "data",
    ]
    for path in candidates:
        if (path / "README.md").is_file() or (path / "cosqa").is_dir():
            return path
    raise FileNotFoundError(
        "shared evaluation data not found; looked in "
        + ", ".join(str(p) for p in candidates)
        + f". Set {DATA_DIR_ENV} or pass --data-dir."
    )


def _dir(data_dir: str | os.PathLike[str] | None) -> Path:
    return Path(data_dir) if data_dir is not None else default_data_dir()


def _read_json(path: Path) -> object:
    if not path.is_file():
        raise FileNotFoundError(f"missing shared data file: {path}")
    with path.open(encoding="utf-8") as fh:
        return json.load(fh)


def _records(path: Path, required: tuple[str, ...]) -> list[dict]:
    data = _read_json(path)
    if not isinstance(data, list):
        raise ValueError(f"{path}: expected a JSON list, got {type(data).__name__}")
    for i, rec in enumerate(data):
        if not isinstance(rec, dict):
            raise ValueError(f"{path}: item {i} is not an object")
        for key in required:
            if key not in rec:
                raise ValueError(f"{path}: item {i} has no {key!r} field")
    return data


def load_cosqa_corpus(data_dir: str | os.PathLike[str] | None = None) -> list[str]:
    """The 6,267 CoSQA retrieval functions, ordered by their index in ``code_idx_map.txt``."""
    path = _dir(data_dir) / "cosqa" / "code_idx_map.txt"
    mapping = _read_json(path)
    if not isinstance(mapping, dict):
        raise ValueError(f"{path}: expected a JSON object mapping code to index")
    return [code for code, _ in sorted(mapping.items(), key=lambda kv: int(kv[1]))]


def load_cosqa_retrieval(split: str = "dev", data_dir: str | os.PathLike[str] | None = None) -> EvalSet:
    """CoSQA code retrieval: 500 web queries against the 6,267-function corpus.

    Args:
        split: ``"dev"`` (tuning) or ``"test"`` (reporting only).
        data_dir: The shared data directory (default: :func:`default_data_dir`).
    """
    if split not in ("dev", "test"):
        raise ValueError(f"split must be 'dev' or 'test', got {split!r}")
    base = _dir(data_dir) / "cosqa"
    records = _records(base / f"cosqa-retrieval-{split}-500.json", ("idx", "doc", "code"))
    corpus = load_cosqa_corpus(data_dir)
    corpus_set = set(corpus)
    source = f"cosqa-retrieval-{split}"
    pairs = [Pair(r["doc"], r["code"], "python", source, str(r["idx"])) for r in records]
    inside = sum(p.code in corpus_set for p in pairs)
    note = f"{inside} of {len(pairs)} gold codes are in the {len(corpus):,}-function corpus"
    if inside != len(pairs):
        note += f" ({len(pairs) - inside} are not and are added as extra candidates)"
    logger.info("cosqa-%s: %s", split, note)
    return EvalSet(f"cosqa-{split}", pairs, list(corpus), "text2code", "python", (note,))


def _labelled(path: Path, name: str, source: str) -> EvalSet:
    records = _records(path, ("idx", "doc", "code", "label"))
    pairs = [
        Pair(r["doc"], r["code"], "python", source, str(r["idx"])) for r in records if str(r["label"]) == "1"
    ]
    corpus: list[Pair | str] = [r["code"] for r in records]
    note = f"{len(pairs)} label-1 queries; candidates are the codes of all {len(records)} labelled pairs"
    return EvalSet(name, pairs, corpus, "text2code", "python", (note,))


def load_cosqa_labelled(data_dir: str | os.PathLike[str] | None = None) -> EvalSet:
    """CoSQA ``cosqa-dev.json``: 604 labelled pairs, 313 positive, as retrieval over 552 codes."""
    return _labelled(_dir(data_dir) / "cosqa" / "cosqa-dev.json", "cosqa-pairs-dev", "cosqa-dev")


def load_staqc(split: str = "dev", data_dir: str | os.PathLike[str] | None = None) -> EvalSet:
    """StaQC Stack Overflow titles -> Python snippets (``"train"``: 1,287 positives; ``"dev"``: 421)."""
    if split not in ("train", "dev"):
        raise ValueError(f"split must be 'train' or 'dev', got {split!r}")
    return _labelled(_dir(data_dir) / "staqc" / f"{split}_staqc.json", f"staqc-{split}", f"staqc-{split}")


def cloze_code_text(pl_tokens: list[str]) -> str:
    """Code text from cloze ``pl_tokens``: joined with single spaces, ``<mask>`` put back as ``max``."""
    return " ".join("max" if tok == "<mask>" else tok for tok in pl_tokens)


def declared_name(pl_tokens: list[str], window: int = 40) -> str | None:
    """The declared function name in cloze code tokens: the first identifier right before a ``(``.

    Keywords that precede a parenthesis (``func`` of a Go receiver, ``function``, ``if``, ...) are
    skipped; only the first ``window`` tokens are searched. ``None`` when no such identifier is found.

    Example:
        >>> declared_name(["func", "(", "v", "*", "V", ")", "SetMax", "(", "n", "int", ")"])
        'SetMax'
    """
    for i in range(1, min(len(pl_tokens), window)):
        prev = pl_tokens[i - 1]
        if pl_tokens[i] == "(" and _IDENTIFIER.match(prev) and prev not in _KEYWORDS:
            return prev
    return None


def cloze_query_text(nl_tokens: list[str], pl_tokens: list[str], drop_leading_name: bool = True) -> str:
    """Query text from cloze ``nl_tokens``, joined with single spaces.

    With ``drop_leading_name`` the first token is dropped when it is the function's declared name
    (:func:`declared_name`), as in Go docstrings ("SetMaxStructPoolSize sets the ..."), and the query has
    other tokens left.
    """
    tokens = list(nl_tokens)
    if drop_leading_name and len(tokens) > 1 and tokens[0] == declared_name(pl_tokens):
        tokens = tokens[1:]
    return " ".join(tokens)


def load_csn_cloze(
    language: str, data_dir: str | os.PathLike[str] | None = None, drop_leading_name: bool = True
) -> EvalSet:
    """CodeSearchNet cloze pairs of one language.

    Sizes: go 152, java 482, javascript 272, php 407, python 1,264, ruby 38.

    Candidates are the set's own codes (text rebuilt by :func:`cloze_code_text`).
    """
    if language not in CLOZE_LANGUAGES:
        raise ValueError(f"language must be one of {CLOZE_LANGUAGES}, got {language!r}")
    path = _dir(data_dir) / "codexglue-cloze-csn" / f"{language}.json"
    records = _records(path, ("idx", "nl_tokens", "pl_tokens"))
    pairs = []
    dropped = 0
    for r in records:
        query = cloze_query_text(r["nl_tokens"], r["pl_tokens"], drop_leading_name)
        dropped += query != " ".join(r["nl_tokens"])
        pairs.append(
            Pair(query, cloze_code_text(r["pl_tokens"]), language, f"csn-cloze-{language}", str(r["idx"]))
        )
    notes = (
        "tokens joined with spaces; <mask> replaced by 'max'",
        f"leading function-name token dropped from {dropped} of {len(pairs)} queries"
        if drop_leading_name
        else "queries keep their leading token",
    )
    return EvalSet(f"csn-cloze-{language}", pairs, None, "text2code", language, notes)


def _lines(path: Path) -> list[str]:
    if not path.is_file():
        raise FileNotFoundError(f"missing shared data file: {path}")
    with path.open(encoding="utf-8") as fh:
        return fh.read().splitlines()


def load_java_cs(
    split: str = "test", direction: str = "java-cs", data_dir: str | os.PathLike[str] | None = None
) -> EvalSet:
    """CodeXGLUE Java <-> C# methods as code-to-code retrieval (train 10,295, valid 499, test 1,000 lines).

    Args:
        split: ``"train"``, ``"valid"`` or ``"test"``.
        direction: ``"java-cs"`` (Java query, C# gold) or ``"cs-java"``.
    """
    if split not in ("train", "valid", "test"):
        raise ValueError(f"split must be 'train', 'valid' or 'test', got {split!r}")
    if direction not in ("java-cs", "cs-java"):
        raise ValueError(f"direction must be 'java-cs' or 'cs-java', got {direction!r}")
    base = _dir(data_dir) / "codexglue-java-cs"
    java = _lines(base / f"{split}.java-cs.txt.java")
    cs = _lines(base / f"{split}.java-cs.txt.cs")
    if len(java) != len(cs):
        raise ValueError(f"{base}: {split} has {len(java)} Java lines but {len(cs)} C# lines")
    if direction == "java-cs":
        queries, codes, qlang, clang = java, cs, "java", "csharp"
    else:
        queries, codes, qlang, clang = cs, java, "csharp", "java"
    source = f"{direction}-{split}"
    pairs = [
        Pair(q, c, clang, source, f"{source}-{i}", query_language=qlang)
        for i, (q, c) in enumerate(zip(queries, codes, strict=True))
    ]
    return EvalSet(f"{direction}-{split}", pairs, None, "code2code", clang, ())


def concode_query_text(nl: str) -> str:
    """The natural-language part of a CONCODE ``nl`` field: text before the first ``concode_field_sep``."""
    return nl.split("concode_field_sep", 1)[0].strip()


def load_concode(data_dir: str | os.PathLike[str] | None = None) -> EvalSet:
    """CONCODE dev: 2,000 English descriptions -> tokenised Java member functions."""
    path = _dir(data_dir) / "concode" / "dev.json"
    pairs = []
    for n, rec in iter_objects(path):
        require_strings(rec, ("nl", "code"), path, n)
        pairs.append(
            Pair(concode_query_text(rec["nl"]), rec["code"], "java", "concode-dev", f"concode-dev-{n - 1}")
        )
    note = "query = nl text before the first concode_field_sep; class context dropped"
    return EvalSet("concode-dev", pairs, None, "text2code", "java", (note,))
