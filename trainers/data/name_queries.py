"""Short-intent training pairs for Python: a function's name as the query, the function (docstring kept,
name hidden) as the code.

CoSQA's queries are short web searches ("python check if a variable is iterable") and its functions
keep their docstrings. The mined pairs have neither: their query is the docstring and their code has it
removed. A function's name is the closest thing to a short intent that the mined code carries, written
by the function's author: ``is_iterable_but_not_string`` -> ``"is iterable but not string"``. So part of
the training set becomes (name words -> function with its docstring restored and its name replaced by
``func``). The name is hidden so that the query cannot be matched by the identifier alone; the model
must match the intent to the docstring and the body. No evaluation data is used.

    python trainers/data/name_queries.py --input CORPUS/python/train-00000.jsonl.gz \\
        --output OUT/python-names/train-00000.jsonl.gz --fraction 0.5 --seed 0

Example:
    >>> name_words("isIterable_butNot_string")
    ['is', 'iterable', 'but', 'not', 'string']
    >>> print(hide_name("def area(r):\\n    return area(r - 1) + 1", "area"))
    def func(r):
        return func(r - 1) + 1
"""

from __future__ import annotations

import gzip
import json
import random
import re
import sys
from collections.abc import Iterator
from pathlib import Path

from loracode_embed.jsonl import iter_objects

sys.path.insert(0, str(Path(__file__).resolve().parent))  # a script beside docstring_augment.py
from docstring_augment import restore_docstring, rewrite_parser, write_flagged  # noqa: E402

_DEF = re.compile(r"^\s*(?:async\s+)?def\s+(\w+)", re.MULTILINE)
_CAMEL = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|\d+")
# Names that say nothing about what a function does: protocol methods and framework hooks.
_UNINFORMATIVE = frozenset("init call forward main run setup test get set new str repr".split())


def name_words(name: str) -> list[str]:
    """The lower-case words of a snake_case or camelCase identifier."""
    return [w.lower() for part in name.split("_") for w in _CAMEL.findall(part)]


def function_name(pair: dict) -> str | None:
    """The function's own name: the record's ``func_name`` (last dotted part), else the first ``def``."""
    if pair.get("func_name"):
        return str(pair["func_name"]).split(".")[-1]
    match = _DEF.search(pair["code"])
    return match.group(1) if match else None


def hide_name(code: str, name: str) -> str:
    """``code`` with every whole-word use of ``name`` (the definition and recursive calls) replaced by ``func``."""
    return re.sub(rf"(?<![\w.]){re.escape(name)}\b", "func", code)


def name_query(name: str, rng: random.Random) -> str | None:
    """A web-style query from a function name, or None when the name is too short or says nothing."""
    if name.startswith("__") or name.startswith("test"):
        return None
    words = name_words(name)
    if len(words) < 2 or all(w in _UNINFORMATIVE for w in words):
        return None
    roll = rng.random()
    if roll < 0.4:
        words.insert(0, "python")
    elif roll < 0.7:
        words.append("python")
    return " ".join(words)


def name_pairs(pairs: Iterator[dict], fraction: float, seed: int) -> Iterator[tuple[dict[str, str], bool]]:
    """Yield each mined pair, rewritten to (name query -> named-hidden function with docstring) with
    probability ``fraction``; the flag says whether it was."""
    if not 0.0 <= fraction <= 1.0:
        raise ValueError(f"fraction must be within [0, 1], got {fraction!r}")
    rng = random.Random(seed)
    for pair in pairs:
        if rng.random() < fraction:
            name = function_name(pair)
            query = name_query(name, rng) if name else None
            code = restore_docstring(pair["code"], pair["query"]) if query else None
            if query and code:
                yield {"query": query, "code": hide_name(code, name), "language": "python"}, True
                continue
        yield {"query": pair["query"], "code": pair["code"], "language": "python"}, False


def main(argv: list[str] | None = None) -> int:
    args = rewrite_parser(__doc__.splitlines()[0]).parse_args(argv)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    counts = {"mined": 0, "rewritten": 0}
    with gzip.open(args.output, "wt", encoding="utf-8") as out:
        records = (record for _, record in iter_objects(args.input))
        write_flagged(out, name_pairs(records, args.fraction, args.seed), counts)
    print(json.dumps({"output": str(args.output), **counts}), file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
