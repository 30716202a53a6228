"""Web-style training pairs for Python: short search queries against functions that keep their docstring.

Mined pairs follow CodeSearchNet: the query is the docstring's first sentence and the code has its
docstring removed. Real search traffic differs on both sides: CoSQA's queries are short web queries
("python check file is readonly") and its functions keep their docstrings. An adapter trained only on
mined pairs fell below the base model on CoSQA (0.505 against 0.537), so part of the Python training
set is rewritten into that shape, from the same mined pairs (no evaluation data is used):

* the code gets its docstring back, as the first statement of the body (``restore_docstring``);
* the query becomes a short lower-case keyword phrase made from the docstring sentence, sometimes with
  "python" or "how to" added, as web queries have (``web_query``).

A fraction of the pairs (``--fraction``) is rewritten; the rest stay as mined. Optionally the labelled
positive pairs of StaQC's *train* split (Stack Overflow titles -> Python snippets) are appended.

    python trainers/data/docstring_augment.py --input CORPUS/python/train-00000.jsonl.gz \\
        --output OUT/python-web/train-00000.jsonl.gz --fraction 0.5 --seed 0 \\
        --staqc ../shared/data/staqc/train_staqc.json

Example:
    >>> print(restore_docstring("def area(r):\\n    return 3.14 * r * r", "Area of a circle."))
    def area(r):
        \"\"\"Area of a circle.\"\"\"
        return 3.14 * r * r
    >>> import random
    >>> web_query("Returns the area of the given circle.", random.Random(3))
    'return area of circle python'
"""

from __future__ import annotations

import argparse
import ast
import gzip
import json
import random
import re
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from loracode_embed.jsonl import iter_objects

_MARKUP = re.compile(r"[LCIBU]\{([^}]*)\}|:\w+:`~?([^`]*)`|`+([^`]*)`+")
_WORD = re.compile(r"[a-z0-9_]+(?:\.[a-z0-9_]+)*")
# Determiners and fillers that web queries usually leave out.
_FILLERS = {"the", "a", "an", "this", "that", "these", "given", "specified", "provided", "current", "some"}


def restore_docstring(code: str, docstring: str) -> str | None:
    """``code`` (one Python function, docstring removed) with ``docstring`` as its first statement.

    Returns None when the function cannot be parsed, its body starts on the ``def`` line, or the
    docstring cannot be written as a plain triple-quoted string.
    """
    if '"""' in docstring or "\\" in docstring or not docstring.strip():
        return None
    source = textwrap.dedent(code)
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return None
    if not tree.body or not isinstance(tree.body[0], (ast.FunctionDef, ast.AsyncFunctionDef)):
        return None
    function = tree.body[0]
    first = function.body[0]
    if first.lineno == function.lineno:
        return None  # one-liner: def f(): return x
    lines = source.split("\n")
    indent = " " * first.col_offset
    lines.insert(first.lineno - 1, f'{indent}"""{docstring.strip()}"""')
    return "\n".join(lines)


def web_query(sentence: str, rng: random.Random) -> str:
    """A short lower-case keyword query made from a docstring sentence, the way people type searches."""
    text = _MARKUP.sub(lambda m: next(g for g in m.groups() if g is not None), sentence).lower()
    words = _WORD.findall(text)
    if words and len(words[0]) > 4 and words[0].endswith("s") and not words[0].endswith("ss"):
        words[0] = words[0][:-1]  # "returns" -> "return", "checks" -> "check"
    words = [w for w in words if w not in _FILLERS or rng.random() < 0.2]
    words = words[: rng.randint(3, 8)]
    roll = rng.random()
    if roll < 0.4:
        words.insert(0, "python")
    elif roll < 0.7:
        words.append("python")
    if rng.random() < 0.1:
        words[:0] = ["how", "to"]
    return " ".join(words)


def augment_pairs(
    pairs: Iterator[dict[str, str]], fraction: float, seed: int, restore: bool = True
) -> Iterator[tuple[dict[str, str], bool]]:
    """Yield each pair, rewritten to web style with probability ``fraction``; the flag says whether it was.

    With ``restore=False`` only the query is rewritten and the code stays as mined (no docstring).
    The pair's other fields (``id``, ``package``, ``path``) are kept: the hard-negative guards need them.
    """
    if not 0.0 <= fraction <= 1.0:
        raise ValueError(f"fraction must be within [0, 1], got {fraction!r}")
    rng = random.Random(seed)
    for pair in pairs:
        if rng.random() < fraction:
            code = restore_docstring(pair["code"], pair["query"]) if restore else pair["code"]
            query = web_query(pair["query"], rng)
            if code is not None and len(query.split()) >= 2:
                yield {**pair, "query": query, "code": code, "language": "python"}, True
                continue
        yield {**pair, "language": "python"}, False


def staqc_pairs(path: Path) -> list[dict[str, str]]:
    """The label-1 (question title, snippet) pairs of a StaQC file.

    Each gets ``package`` ``staqc`` and ``path`` the row's ``idx`` (its position without one): the fields
    the hard-negative miner's same-file guard reads. Snippets of one question share its title, and the
    miner's same-query guard keeps them from being each other's negatives.
    """
    rows = json.loads(path.read_text(encoding="utf-8"))
    return [
        {
            "query": row["doc"],
            "code": row["code"],
            "language": "python",
            "package": "staqc",
            "path": str(row.get("idx", position)),
        }
        for position, row in enumerate(rows)
        if int(row.get("label", 0)) == 1 and row["doc"].strip() and row["code"].strip()
    ]


def _read(path: Path) -> Iterator[dict[str, str]]:
    return (record for _, record in iter_objects(path))


def rewrite_parser(description: str) -> argparse.ArgumentParser:
    """The arguments of a script that rewrites part of the mined Python pairs (this one, name_queries.py)."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--input", type=Path, required=True, help="mined Python pairs (.jsonl or .jsonl.gz)")
    parser.add_argument("--output", type=Path, required=True, help="output .jsonl.gz")
    parser.add_argument("--fraction", type=float, default=0.5, help="share of pairs rewritten")
    parser.add_argument("--seed", type=int, default=0)
    return parser


def write_flagged(
    out: IO[str], flagged: Iterator[tuple[dict[str, str], bool]], counts: dict[str, int]
) -> None:
    """Write each pair as a JSON line, counting it as ``rewritten`` or ``mined`` by its flag."""
    for pair, rewritten in flagged:
        counts["rewritten" if rewritten else "mined"] += 1
        out.write(json.dumps(pair, ensure_ascii=False) + "\n")


def main(argv: list[str] | None = None) -> int:
    parser = rewrite_parser(__doc__.splitlines()[0])
    parser.add_argument("--staqc", type=Path, help="StaQC train file whose positive pairs are appended")
    parser.add_argument(
        "--query-only", action="store_true", help="rewrite the query only; the code keeps no docstring"
    )
    args = parser.parse_args(argv)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    counts = {"mined": 0, "rewritten": 0, "staqc": 0}
    with gzip.open(args.output, "wt", encoding="utf-8") as out:
        flagged = augment_pairs(_read(args.input), args.fraction, args.seed, restore=not args.query_only)
        write_flagged(out, flagged, counts)
        if args.staqc:
            for pair in staqc_pairs(args.staqc):
                counts["staqc"] += 1
                out.write(json.dumps(pair, ensure_ascii=False) + "\n")
    print(json.dumps({"output": str(args.output), **counts}), file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
