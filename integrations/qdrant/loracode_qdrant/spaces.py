"""Which embedding spaces an index stores per chunk (``CodeIndex(spaces=...)``, ``loracode index --spaces``).

Three kinds, each one named vector per chunk where it routes to a distinct adapter
(:func:`loracode_qdrant.index.code_spaces`): ``language`` (the chunk language's text2code space,
always stored: every search of a language uses it), ``unified`` (the unified text2code space, for
``--mode unified``) and ``code2code``. A new index stores ``language`` alone, one embedding per chunk;
docs/benchmarks.md ("Embedding spaces per chunk") says what the other two buy. Imports nothing heavy:
the command line checks ``--spaces`` with it before any model loads.

Example:
    >>> check_space_kinds("language,code2code")
    ('language', 'code2code')
    >>> stored_space_kinds({})  # an index built before the choice existed
    ('language', 'unified', 'code2code')
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

#: Every kind, in the order they are listed and stored.
SPACE_KINDS = ("language", "unified", "code2code")
#: What a new index stores.
DEFAULT_SPACE_KINDS = ("language",)


def check_space_kinds(spaces: str | Sequence[str]) -> tuple[str, ...]:
    """``"all"``, a comma list or a list of :data:`SPACE_KINDS`, as a tuple in their order.

    Raises:
        ValueError: an unknown kind (named), or no ``language``.

    Example:
        >>> check_space_kinds(["code2code", "language"])
        ('language', 'code2code')
        >>> check_space_kinds("all")
        ('language', 'unified', 'code2code')
        >>> check_space_kinds("unified")
        Traceback (most recent call last):
        ...
        ValueError: spaces must include 'language' (every search of a language uses it), got ['unified']
    """
    if isinstance(spaces, str):
        spaces = SPACE_KINDS if spaces.strip() == "all" else [s.strip() for s in spaces.split(",")]
    if not isinstance(spaces, Sequence):
        raise TypeError(f"spaces must be 'all' or a list of {', '.join(SPACE_KINDS)}, got {spaces!r}")
    items = list(spaces)
    for item in items:
        if item not in SPACE_KINDS:
            raise ValueError(
                f"spaces: unknown space {item!r}; expected 'all' or any of {', '.join(SPACE_KINDS)}"
            )
    if "language" not in items:
        raise ValueError(
            f"spaces must include 'language' (every search of a language uses it), got {items!r}"
        )
    return tuple(kind for kind in SPACE_KINDS if kind in items)


def stored_space_kinds(meta: Mapping[str, Any]) -> tuple[str, ...]:
    """The kinds an index stores, from its metadata record (before they were recorded: all three).

    Example:
        >>> stored_space_kinds({"space_kinds": ["language"]})
        ('language',)
    """
    return tuple(meta.get("space_kinds", SPACE_KINDS))
