"""Request limits and argument checks shared by the HTTP routes and the MCP tools.

Every check raises :class:`RequestError`, which names the offending field and carries the HTTP status the
routes answer with (the MCP tools turn it into a tool error with the same message). Nothing is read,
embedded or stored before the checks pass.

Example:
    >>> limits = Limits(max_k=50)
    >>> check_k(10, limits)
    10
    >>> check_k(500, limits)
    Traceback (most recent call last):
    ...
    loracode_serve.limits.RequestError: k must be an integer from 1 to 50, got 500
    >>> check_path_globs("src/**/*.py", limits)
    ['src/**/*.py']
    >>> try:
    ...     check_path_globs("../secrets/*", limits)
    ... except RequestError as exc:
    ...     print(exc.field, exc.status)
    path_glob 400
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

_WINDOWS_DRIVE = re.compile(r"^[A-Za-z]:")


@dataclass(frozen=True)
class Limits:
    """What one request may ask for.

    Attributes:
        max_inputs: Texts per ``/v1/embeddings`` request.
        max_chars: Characters per text (an embedding input, a query, a piece of code).
        max_k: Hits per search.
        max_globs: ``path_glob`` patterns per search.
        max_glob_chars: Characters per ``path_glob`` pattern.
        max_body_bytes: Bytes of one HTTP request body.
    """

    max_inputs: int = 256
    max_chars: int = 32_000
    max_k: int = 100
    max_globs: int = 16
    max_glob_chars: int = 512
    max_body_bytes: int = 16_000_000


class RequestError(ValueError):
    """A request that breaks a rule: ``field`` names the argument, ``status`` the HTTP answer.

    Args:
        field: The request field at fault (``"input"``, ``"k"``, ``"path_glob"``...).
        message: What is wrong, with the offending value.
        status: The HTTP status (400 bad value, 404 unknown model, 413 too large, 401 no token...).
        code: A short machine-readable code.
    """

    def __init__(self, field: str | None, message: str, status: int = 400, code: str = "invalid_value"):
        super().__init__(message)
        self.field = field
        self.status = status
        self.code = code

    def to_json(self) -> dict[str, Any]:
        """The OpenAI-style error body: ``{"error": {"message", "type", "param", "code"}}``."""
        kind = "invalid_request_error" if self.status < 500 else "server_error"
        if self.status == 401:
            kind = "authentication_error"
        return {"error": {"message": str(self), "type": kind, "param": self.field, "code": self.code}}


def _short(value: Any, n: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= n else text[: n - 3] + "..."


def check_text(value: Any, field: str, limits: Limits) -> str:
    """A non-empty string of at most ``max_chars`` characters.

    Example:
        >>> check_text("def f(): pass", "code", Limits())
        'def f(): pass'
    """
    if not isinstance(value, str):
        raise RequestError(field, f"{field} must be a string, got {type(value).__name__}")
    if not value.strip():
        raise RequestError(field, f"{field} must not be empty")
    if len(value) > limits.max_chars:
        raise RequestError(
            field,
            f"{field} has {len(value)} characters; the limit is {limits.max_chars}",
            status=413,
            code="too_long",
        )
    return value


def check_inputs(value: Any, limits: Limits, field: str = "input") -> list[str]:
    """The ``input`` of an embeddings request: a string or a list of strings (token arrays are refused).

    Example:
        >>> check_inputs(["a", "b"], Limits())
        ['a', 'b']
        >>> check_inputs([[1, 2]], Limits())  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        loracode_serve.limits.RequestError: input[0] must be a string (token arrays are not supported...
    """
    texts = [value] if isinstance(value, str) else value
    if not isinstance(texts, list):
        raise RequestError(
            field, f"{field} must be a string or a list of strings, got {type(value).__name__}"
        )
    if not texts:
        raise RequestError(field, f"{field} must not be an empty list")
    if len(texts) > limits.max_inputs:
        raise RequestError(
            field,
            f"{field} has {len(texts)} items; the limit is {limits.max_inputs} per request",
            status=413,
            code="too_many_inputs",
        )
    for i, text in enumerate(texts):
        if not isinstance(text, str):
            hint = " (token arrays are not supported: send text)" if isinstance(text, (int, list)) else ""
            raise RequestError(field, f"{field}[{i}] must be a string{hint}, got {type(text).__name__}")
        if len(text) > limits.max_chars:
            raise RequestError(
                field,
                f"{field}[{i}] has {len(text)} characters; the limit is {limits.max_chars}",
                status=413,
                code="too_long",
            )
    return texts


def check_k(value: Any, limits: Limits, field: str = "k") -> int:
    """An int from 1 to ``max_k``."""
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= limits.max_k:
        raise RequestError(field, f"{field} must be an integer from 1 to {limits.max_k}, got {_short(value)}")
    return value


def check_choice(value: Any, field: str, choices: Sequence[str]) -> str:
    """One of ``choices``.

    Example:
        >>> check_choice("unified", "mode", ("per-language", "unified"))
        'unified'
    """
    if value not in choices:
        raise RequestError(
            field, f"{field} must be one of {', '.join(map(repr, choices))}, got {_short(value)}"
        )
    return value


def check_language(value: Any, field: str = "language") -> str | None:
    """``None`` or a known language name, canonicalised (``golang`` -> ``go``).

    Example:
        >>> check_language("golang")
        'go'
    """
    if value is None:
        return None
    if not isinstance(value, str) or not value:
        raise RequestError(field, f"{field} must be a language name or null, got {_short(value)}")
    from loracode_embed.languages import canonical_language

    try:
        return canonical_language(value)
    except ValueError as exc:
        raise RequestError(field, f"{field}: {exc}") from exc


def check_path_globs(value: Any, limits: Limits, field: str = "path_glob") -> list[str] | None:
    """``None``, or glob patterns relative to the indexed tree: no ``..``, no absolute or home paths.

    Example:
        >>> check_path_globs(None, Limits()) is None
        True
        >>> check_path_globs("/etc/*", Limits())  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        loracode_serve.limits.RequestError: path_glob must be relative to the indexed tree (no leading '/'...
    """
    if value is None:
        return None
    globs = [value] if isinstance(value, str) else value
    if not isinstance(globs, list) or not globs:
        raise RequestError(
            field, f"{field} must be a glob string or a non-empty list of them, got {_short(value)}"
        )
    if len(globs) > limits.max_globs:
        raise RequestError(field, f"{field} has {len(globs)} patterns; the limit is {limits.max_globs}")
    for glob in globs:
        if not isinstance(glob, str) or not glob.strip():
            raise RequestError(field, f"{field} patterns must be non-empty strings, got {_short(glob)}")
        if len(glob) > limits.max_glob_chars:
            raise RequestError(
                field, f"{field} pattern has {len(glob)} characters; the limit is {limits.max_glob_chars}"
            )
        if "\0" in glob:
            raise RequestError(field, f"{field} must not contain NUL characters, got {_short(glob)}")
        if glob.startswith(("/", "\\", "~")) or _WINDOWS_DRIVE.match(glob):
            raise RequestError(
                field,
                f"{field} must be relative to the indexed tree (no leading '/', '\\', "
                f"'~' or drive letter), got {_short(glob)}",
            )
        if ".." in re.split(r"[/\\]", glob):
            raise RequestError(
                field, f"{field} must stay inside the indexed tree ('..' is not allowed), got {_short(glob)}"
            )
    return globs
