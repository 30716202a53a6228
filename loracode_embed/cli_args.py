"""Argument types for ``loracode`` commands: bad values are refused by the parser, before any model loads.

Each is an ``argparse`` ``type=``: a bad value exits with status 2 and a usage message naming the option.

Example:
    >>> positive_int("3")
    3
    >>> language("golang")
    'go'
    >>> language("klingon")
    Traceback (most recent call last):
    ...
    argparse.ArgumentTypeError: Unknown language 'klingon'...
"""

from __future__ import annotations

import argparse


def positive_int(text: str) -> int:
    """An integer of at least 1."""
    value = _int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text!r}")
    return value


def non_negative_int(text: str) -> int:
    """An integer of at least 0."""
    value = _int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, got {text!r}")
    return value


def language(text: str) -> str:
    """A programming language name or alias, as its canonical id (``golang`` -> ``go``)."""
    from loracode_embed.languages import canonical_language  # on use: parsers build without it

    try:
        return canonical_language(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _int(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be an integer, got {text!r}") from None
