"""Programming languages: canonical ids, aliases, file extensions and shebangs.

Pure Python, no torch. Everything else in the package names languages by the canonical ids defined here.

Example:
    >>> from loracode_embed.languages import canonical_language, language_for_path
    >>> canonical_language("golang")
    'go'
    >>> canonical_language("C#")
    'csharp'
    >>> language_for_path("src/app/main.py")
    'python'
    >>> language_for_path("README") is None
    True
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Language:
    """One supported programming language.

    Attributes:
        id: The canonical id (lower case, ASCII), e.g. ``"cpp"``.
        name: A human-readable name, e.g. ``"C++"``.
        aliases: Other spellings accepted anywhere a language is named.
        extensions: File extensions (with the dot, lower case) that map to this language.
        filenames: Exact file names that map to this language (e.g. ``Rakefile``).
        interpreters: Interpreter names recognised on a ``#!`` line.
    """

    id: str
    name: str
    aliases: tuple[str, ...] = ()
    extensions: tuple[str, ...] = ()
    filenames: tuple[str, ...] = ()
    interpreters: tuple[str, ...] = ()


LANGUAGES: tuple[Language, ...] = (
    Language(
        "python",
        "Python",
        ("py", "python3", "py3"),
        (".py", ".pyi", ".pyw"),
        ("SConstruct",),
        ("python", "python3", "python2", "pypy", "pypy3"),
    ),
    Language("go", "Go", ("golang",), (".go",)),
    Language("java", "Java", (), (".java",)),
    Language(
        "javascript",
        "JavaScript",
        ("js", "node", "nodejs", "ecmascript"),
        (".js", ".mjs", ".cjs", ".jsx"),
        (),
        ("node", "nodejs"),
    ),
    Language("typescript", "TypeScript", ("ts",), (".ts", ".tsx", ".mts", ".cts")),
    Language("php", "PHP", (), (".php", ".phtml", ".php3", ".php4", ".php5", ".phps"), (), ("php",)),
    Language("ruby", "Ruby", ("rb",), (".rb", ".rake", ".gemspec"), ("Rakefile", "Gemfile"), ("ruby",)),
    Language("c", "C", (), (".c", ".h")),
    Language(
        "cpp",
        "C++",
        ("c++", "cxx", "cplusplus"),
        (".cc", ".cpp", ".cxx", ".c++", ".hh", ".hpp", ".hxx", ".h++"),
    ),
    Language("csharp", "C#", ("c#", "cs", "c-sharp"), (".cs",)),
    Language("rust", "Rust", ("rs",), (".rs",)),
    Language("kotlin", "Kotlin", ("kt",), (".kt", ".kts")),
    Language("scala", "Scala", (), (".scala", ".sc")),
    Language("swift", "Swift", (), (".swift",)),
    Language(
        "shell",
        "Shell",
        ("sh", "bash", "zsh"),
        (".sh", ".bash", ".zsh"),
        (),
        ("sh", "bash", "zsh", "dash", "ksh"),
    ),
    Language("lua", "Lua", (), (".lua",), (), ("lua",)),
    Language("perl", "Perl", ("pl",), (".pl", ".pm"), (), ("perl",)),
    Language("r", "R", (), (".r",), (), ("Rscript",)),
    Language("haskell", "Haskell", ("hs",), (".hs",)),
    Language("elixir", "Elixir", ("ex",), (".ex", ".exs"), (), ("elixir",)),
    Language("dart", "Dart", (), (".dart",)),
    Language("objective-c", "Objective-C", ("objc", "objectivec"), (".m", ".mm")),
    Language("sql", "SQL", (), (".sql",)),
)

_BY_ID: dict[str, Language] = {lang.id: lang for lang in LANGUAGES}
_LOOKUP: dict[str, str] = {}
for _lang in LANGUAGES:
    for _key in (_lang.id, _lang.name, *_lang.aliases):
        _LOOKUP[_key.lower()] = _lang.id
_BY_EXTENSION: dict[str, str] = {ext: lang.id for lang in LANGUAGES for ext in lang.extensions}
_BY_FILENAME: dict[str, str] = {name: lang.id for lang in LANGUAGES for name in lang.filenames}
_BY_INTERPRETER: dict[str, str] = {i: lang.id for lang in LANGUAGES for i in lang.interpreters}

#: The canonical ids, sorted.
SUPPORTED_LANGUAGES: tuple[str, ...] = tuple(sorted(_BY_ID))


def canonical_language(name: str) -> str:
    """Return the canonical id for a language name or alias (case-insensitive).

    Raises:
        TypeError: ``name`` is not a string.
        ValueError: the language is unknown; the message lists the supported ids.

    Example:
        >>> canonical_language("JS")
        'javascript'
    """
    if not isinstance(name, str):
        raise TypeError(f"language must be a string, got {type(name).__name__}: {name!r}")
    key = name.strip().lower()
    if key in _LOOKUP:
        return _LOOKUP[key]
    raise ValueError(f"Unknown language {name!r}. Supported: {', '.join(SUPPORTED_LANGUAGES)}")


def get_language(language_id: str) -> Language:
    """Return the :class:`Language` record for a name or alias.

    Example:
        >>> get_language("c++").name
        'C++'
    """
    return _BY_ID[canonical_language(language_id)]


_SHEBANG = re.compile(r"^#!\s*(\S+)(?:\s+(\S+))?")


def language_for_shebang(first_line: str) -> str | None:
    """Language named by a ``#!`` line, or ``None``.

    Example:
        >>> language_for_shebang("#!/usr/bin/env python3")
        'python'
    """
    match = _SHEBANG.match(first_line)
    if not match:
        return None
    program = os.path.basename(match.group(1))
    if program == "env" and match.group(2):
        program = os.path.basename(match.group(2))
    program = re.sub(r"[\d.]+$", "", program) or program  # python3.11 -> python
    return _BY_INTERPRETER.get(program) or _BY_INTERPRETER.get(program.lower())


def language_for_path(path: str | os.PathLike[str], first_line: str | None = None) -> str | None:
    """Guess a file's language from its name, then from its ``#!`` line; ``None`` if unknown.

    Example:
        >>> language_for_path("lib/tasks/Rakefile")
        'ruby'
        >>> language_for_path("bin/tool", first_line="#!/bin/bash")
        'shell'
    """
    base = os.path.basename(os.fspath(path))
    if base in _BY_FILENAME:
        return _BY_FILENAME[base]
    ext = os.path.splitext(base)[1].lower()
    if ext in _BY_EXTENSION:
        return _BY_EXTENSION[ext]
    if first_line is not None:
        return language_for_shebang(first_line)
    return None
