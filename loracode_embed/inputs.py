"""Input validation shared by every encode entry point: clear errors that name the argument and index.

Example:
    >>> check_texts(["a", ""], "texts")
    ['a', '']
    >>> check_texts(["a", None], "texts")
    Traceback (most recent call last):
    ...
    TypeError: texts[1] must be a string, got NoneType: None
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any


def check_texts(texts: Any, argument: str) -> list[str]:
    """Return ``texts`` as a list of strings, or raise naming the argument and the bad index.

    A bare string is refused: ``encode_query("abc")`` would otherwise embed three one-letter texts.
    """
    if texts is None:
        raise TypeError(f"{argument} must be a list of strings, got None")
    if isinstance(texts, (str, bytes)):
        raise TypeError(
            f"{argument} must be a list of strings, not a single {type(texts).__name__}; wrap it: [text]"
        )
    try:
        items = list(texts)
    except TypeError:
        raise TypeError(f"{argument} must be a list of strings, got {type(texts).__name__}") from None
    for index, item in enumerate(items):
        if not isinstance(item, str):
            shown = repr(item) if len(repr(item)) < 60 else repr(item)[:57] + "..."
            raise TypeError(f"{argument}[{index}] must be a string, got {type(item).__name__}: {shown}")
    return items


def per_item(value: Any, count: int, argument: str, allow_none: bool) -> list[Any]:
    """Broadcast a single value to ``count`` items, or check a per-item sequence's length and types."""
    if value is None:
        return [None] * count
    if isinstance(value, (str, os.PathLike)):
        return [value] * count
    if not isinstance(value, Sequence):
        raise TypeError(f"{argument} must be a string or a list, got {type(value).__name__}")
    items = list(value)
    if len(items) != count:
        raise ValueError(f"{argument} has {len(items)} items but texts has {count}")
    for index, item in enumerate(items):
        if item is None and allow_none:
            continue
        if not isinstance(item, (str, os.PathLike)):
            raise TypeError(f"{argument}[{index}] must be a string, got {type(item).__name__}: {item!r}")
    return items


def item_languages(
    n: int, languages: str | Sequence[str | None] | None, paths: Sequence[str | os.PathLike[str]] | None
) -> list[str | None]:
    """The language of each of ``n`` items, from ``languages`` (one or per item) or from file ``paths``.

    Raises ValueError naming the argument and the item (unknown language, wrong count, both given).

    Example:
        >>> item_languages(2, None, ["a.py", "b.go"])
        ['python', 'go']
    """
    from loracode_embed.languages import canonical_language, language_for_path

    if languages is not None and paths is not None:
        raise ValueError("pass either languages= or paths=, not both")
    if paths is not None:
        return [language_for_path(p) for p in per_item(paths, n, "paths", allow_none=False)]
    langs = per_item(languages, n, "languages", allow_none=True)
    for i, lang in enumerate(langs):
        if lang is not None:
            try:
                canonical_language(lang)
            except ValueError as exc:
                raise ValueError(f"languages[{i}]: {exc}") from exc
    return langs


def language_alias(language: Any, languages: Any) -> Any:
    """``encode_code``'s ``language=`` (one language for all items) folded into ``languages=``.

    Example:
        >>> language_alias("go", None)
        'go'
        >>> language_alias(None, ["go", "python"])
        ['go', 'python']
        >>> language_alias("go", ["go"])
        Traceback (most recent call last):
        ...
        ValueError: pass either language= (one language for all items) or languages= (one or per item), not both
    """
    if language is None:
        return languages
    if languages is not None:
        raise ValueError(
            "pass either language= (one language for all items) or languages= (one or per item), not both"
        )
    if not isinstance(language, str):
        raise TypeError(f"language must be a string, got {type(language).__name__}: {language!r}")
    return language
