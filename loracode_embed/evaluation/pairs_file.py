"""Read a ``--pairs`` / ``--corpus`` JSON-lines file of ``{"query", "code", "language", "id"?}`` records.

Example:
    >>> import json, tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "pairs.jsonl"
    >>> line = json.dumps({"query": "add", "code": "def add(a, b): ...", "language": "py"})
    >>> _ = path.write_text(line + "\\n")
    >>> read_pairs_jsonl(path)[0].language
    'python'
"""

from __future__ import annotations

import os
from pathlib import Path

from loracode_embed.evaluation.records import Pair
from loracode_embed.jsonl import iter_objects, require_strings
from loracode_embed.languages import canonical_language


def read_pairs_jsonl(
    path: str | os.PathLike[str],
    default_language: str | None = None,
    require_query: bool = True,
) -> list[Pair]:
    """Parse a JSON-lines pairs file into :class:`Pair` records.

    Args:
        path: The file (``.gz`` is unpacked on the fly); blank lines are skipped.
        default_language: Language for lines that have none (otherwise ``language`` is required).
        require_query: ``False`` for a ``--corpus`` file, whose lines need only ``code`` and ``language``.

    ``code_language`` is accepted for ``language``. Each line's ``language`` (and optional
    ``query_language``) is canonicalised with
    :func:`loracode_embed.languages.canonical_language`. A missing ``id`` becomes ``<file stem>-<line>``.

    Raises:
        FileNotFoundError: ``path`` does not exist.
        ValueError: a line is not a JSON object, or a field is missing, not a string, or names an unknown
            language; the message names the file, the line number and the field.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"pairs file not found: {path}")
    source = path.name.split(".")[0]
    pairs: list[Pair] = []
    for n, rec in iter_objects(path):
        require_strings(rec, ("query", "code") if require_query else ("code",), path, n)
        language = rec.get("language", rec.get("code_language", default_language))
        if language is None:
            raise ValueError(f"{path}: line {n} has no 'language' field (or pass --language)")
        if not isinstance(language, str):
            raise ValueError(f"{path}: line {n}: field 'language' must be a string")
        try:
            language = canonical_language(language)
            query_language = rec.get("query_language")
            if query_language is not None:
                query_language = canonical_language(str(query_language))
        except ValueError as exc:
            raise ValueError(f"{path}: line {n}: {exc}") from exc
        pair_id = rec.get("id")
        pairs.append(
            Pair(
                query=rec.get("query", ""),
                code=rec["code"],
                language=language,
                source=source,
                id=str(pair_id) if pair_id is not None else f"{source}-{n}",
                query_language=query_language,
            )
        )
    return pairs
