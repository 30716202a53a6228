"""Guess a snippet's programming language from its content alone (no file name).

Pure Python, no torch, no model. Used where code arrives without a path (LangChain / LlamaIndex
documents, pasted snippets) so that it can still be routed to a per-language adapter.

How it works: a table of regular-expression *cues* (keywords and syntax typical of one language or a
small family: ``def ...:`` blocks and ``self.`` for Python, ``func`` / ``:=`` / ``err != nil`` for Go,
``public ... class`` / ``throws`` / ``boolean`` for Java, ``<?php`` / ``$this->`` for PHP, ``def`` without
a colon and ``end`` for Ruby, ``#include`` for C/C++, ``using System`` / PascalCase calls for C#,
``fn`` / ``let mut`` for Rust, ...). Each cue adds its weight to one or more languages once per match,
up to a per-cue cap, so one repeated token cannot dominate. The language with the highest score wins;
``None`` is returned when nothing scores at least :data:`MIN_SCORE` or the top two languages tie.
Cues tolerate tokenised code (``$ this -> x``, ``@ Override``), as in CodeSearchNet.

Accuracy on real code is measured by ``benchmarks/language_guess_accuracy.py`` (see
``docs/integrations/language-guess.md``). The guess is a routing hint, not a parser: short, generic
snippets (``x = 1``) return ``None`` or can be wrong.

Example:
    >>> from loracode_embed.language_guess import guess_language
    >>> guess_language("def add(self, a, b):\\n    return a + b\\n")
    'python'
    >>> guess_language("func (s *Server) Start() error {\\n\\tif err != nil {\\n\\t\\treturn err\\n\\t}\\n}")
    'go'
    >>> guess_language("hello world") is None
    True
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

__all__ = ["GUESSABLE_LANGUAGES", "MIN_SCORE", "guess_language", "language_scores"]

#: A language must score at least this much to be returned.
MIN_SCORE = 2.0

#: Only the first this-many characters are scanned (keeps the guess fast on whole files).
MAX_CHARS = 20_000

# On a tie between these pairs the first (the more general language) wins instead of ``None``:
# TypeScript without type annotations is JavaScript; C++ without C++-only features is C.
_TIE_PREFERENCE: dict[frozenset[str], str] = {
    frozenset({"javascript", "typescript"}): "javascript",
    frozenset({"c", "cpp"}): "c",
}


@dataclass(frozen=True)
class _Cue:
    pattern: re.Pattern[str]
    weights: Mapping[str, float]
    cap: int


def _cue(regex: str, weights: Mapping[str, float], cap: int = 3, flags: int = 0) -> _Cue:
    return _Cue(re.compile(regex, flags | re.MULTILINE), dict(weights), cap)


# Shorthands for families that share syntax.
_JS = {"javascript": 1.0, "typescript": 1.0}
_C = {"c": 1.0, "cpp": 1.0}
_JVM = {"java": 1.0, "csharp": 1.0}


def _w(base: Mapping[str, float], factor: float) -> dict[str, float]:
    return {lang: weight * factor for lang, weight in base.items()}


_ACCESS = r"\b(?:public|private|protected)\b"
# An access modifier, other modifiers, a return type, then the method name (group 1).
_DECL = (
    r"\b(?:public|private|protected|internal)\s+(?:(?:static|final|abstract|synchronized|override|virtual"
    r"|async|sealed|new|unsafe)\s+)*[\w<>\[\],.?]+\s+"
)

_CUES: tuple[_Cue, ...] = (
    # ---------------------------------------------------------------- Python
    _cue(r"\bdef\s+\w+\s*\((?:[^()]|\((?:[^()]|\([^()]*\))*\))*\)\s*(?:->\s*[^:{]+?)?\s*:", {"python": 4.0}),
    _cue(r"\bfor\s+\w+(?:\s*,\s*\w+)*\s+in\b(?![^\n]*\bdo\b)[^\n]*:", {"python": 2.0, "ruby": 0.5}, cap=2),
    _cue(
        r"\b(?:dict|set|list|tuple|str|int|float|sorted)\s*\(|\bif\s+not\s+[\w.]+\s*[:(\[]",
        {"python": 1.0, "go": 0.2},
        cap=2,
    ),
    _cue(r"\bdef\s+\w+\s*\(\s*(?:self|cls)\b", {"python": 2.0}, cap=2),
    _cue(r"\bself\s*\.\s*\w+", {"python": 1.0, "ruby": 0.3, "swift": 0.3}),
    _cue(r"^\s*(?:from\s+[\w.]+\s+import\s+[\w*(]|import\s+[\w.]+(?:\s+as\s+\w+)?\s*$)", {"python": 3.0}),
    _cue(r"\belif\b", {"python": 3.0}, cap=1),
    _cue(r"\bNone\b", {"python": 1.5, "rust": 0.5}),
    _cue(r"\b(?:True|False)\b", {"python": 1.0}),
    _cue(r"\bis\s+(?:not\s+)?None\b|\bnot\s+in\s+[\w.]+\s*[:)\],]", {"python": 2.0}),
    _cue(r"\bexcept\b(?:\s+[\w.]+(?:\s+as\s+\w+)?)?\s*:", {"python": 3.0}, cap=2),
    _cue(r"^\s*(?:if|for|while|with|try|else|finally|class)\b[^\n;{}]*:\s*(?:#.*)?$", {"python": 1.5}),
    _cue(r"\b(?:isinstance|len|range|enumerate|zip|hasattr|getattr)\s*\(", {"python": 1.0, "go": 0.3}),
    _cue(r"\blambda\b[^:\n]*:", {"python": 2.0}, cap=1),
    _cue(r"\bpass\b\s*$|\bpass\b(?=\s+(?:def|return|else|except)\b)", {"python": 1.5}, cap=1),
    _cue(r"\"\"\"|'''", {"python": 3.0}, cap=1),
    _cue(r"\b__\w+__\b", {"python": 2.0}, cap=2),
    _cue(r"\bwith\s+[\w.()\s,]+\bas\s+\w+\s*:", {"python": 2.0}, cap=1),
    _cue(r"\bprint\s*\(", {"python": 0.5}, cap=1),
    _cue(r"\braise\s+\w+(?:\.\w+)*\s*\(", {"python": 1.5, "ruby": 0.5}, cap=2),
    _cue(r"\*\s*\*\s*kwargs\b|\*\s*args\b", {"python": 2.0}, cap=1),
    # ---------------------------------------------------------------- Ruby
    _cue(
        r"\bdef\s+(?:self\s*\.\s*)?\w+[?!]?(?:\s*$|\s+\w+\s*$|(?=\s+[a-z_]\w*\s*(?:=|\.|$)))", {"ruby": 3.0}
    ),
    _cue(
        r"\bdef\s+(?:self\s*\.\s*)?\w+[?!=]?\s*\((?:[^()]|\([^()]*\))*\)(?!\s*(?:->[^:]*)?:)(?!\s*\{)",
        {"ruby": 2.0},
    ),
    _cue(r"(?<![.\w])end(?![\w(=:\[,)])(?!\s*[=(,\[\]):])", {"ruby": 1.5, "lua": 1.0}, cap=4),
    _cue(r"\bdo\s*\|[^|\n]*\|", {"ruby": 3.0}, cap=2),
    _cue(r"\{\s*\|\s*\w+(?:\s*,\s*\w+)*\s*\|", {"ruby": 3.0}, cap=2),
    _cue(r"\belsif\b", {"ruby": 4.0}, cap=1),
    _cue(r"\bunless\b", {"ruby": 2.0}, cap=1),
    _cue(r"(?<![\w$])@\w+\b(?!\s*\()(?![\w.]*\s*$)", {"ruby": 1.0}),
    _cue(r"(?<![\w:]):[a-z_]\w*[?!]?(?=\s*(?:[,)\]}]|=>))", {"ruby": 1.5}),
    _cue(r"\bnil\b", {"ruby": 1.5, "go": 1.5, "swift": 1.0}),
    _cue(r"\brescue\b", {"ruby": 3.0}, cap=1),
    _cue(r"\.each(?:_with_index)?\b|\.map\s*(?:\{|do\b)", {"ruby": 2.0}, cap=2),
    _cue(r"#\{", {"ruby": 2.0}, cap=2),
    _cue(r"\battr_(?:reader|accessor|writer)\b", {"ruby": 3.0}, cap=1),
    _cue(r"\bputs\b|\brequire(?:_relative)?\s+['\"]", {"ruby": 2.0}, cap=2),
    _cue(r"\.\s*new\b(?!\s*\w)", {"ruby": 1.5}, cap=2),
    _cue(r"\bmodule\s+[A-Z]\w*\s*$", {"ruby": 2.0}, cap=1),
    # ---------------------------------------------------------------- Go
    _cue(r"\bfunc\s*\(\s*\w+\s+\*?\s*\w+\s*\)\s*\w+\s*\(", {"go": 5.0}, cap=2),
    _cue(r"\bfunc\s+\w+\s*\(", {"go": 2.5, "swift": 1.5}),
    _cue(r"\bfunc\s*\(", {"go": 1.0}),
    _cue(r"^\s*package\s+\w+\s*$", {"go": 3.0, "kotlin": 0.5}, cap=1),
    _cue(r":=", {"go": 2.0}, cap=3),
    _cue(r"\berr\s*!=\s*nil\b", {"go": 4.0}, cap=1),
    _cue(r"\b(?:chan|defer|go\s+func)\b", {"go": 2.5}, cap=2),
    _cue(r"\btype\s+\w+\s+(?:struct|interface)\b", {"go": 4.0}, cap=1),
    _cue(r"\bfmt\s*\.\s*\w+|\berrors\s*\.\s*New\b", {"go": 3.0}, cap=1),
    _cue(
        r"\[\s*\]\s*\*?\s*(?:byte|string|int|int64|float64|interface|struct|\w+\s*\.\s*\w+)\b",
        {"go": 2.0},
        cap=2,
    ),
    _cue(r"\bmap\s*\[\s*\w+\s*\]", {"go": 3.0}, cap=1),
    _cue(r"\b(?:float64|int64|uint8|uint32|uint64|int32|rune)\b", {"go": 2.0, "rust": 0.0}, cap=2),
    _cue(r"\bmake\s*\(", {"go": 1.5}, cap=1),
    _cue(r"\brange\s+\w+", {"go": 1.5}, cap=1),
    _cue(r"\)\s*\(\s*\*?\s*\w+\s*,\s*error\s*\)|\berror\s*\{", {"go": 3.0}, cap=1),
    # ---------------------------------------------------------------- Java and C# (shared)
    _cue(
        _ACCESS + r"\s+(?:static\s+|final\s+|abstract\s+|synchronized\s+|override\s+|virtual\s+|async\s+)*"
        r"[\w<>\[\]?,.\s]+?\s+\w+\s*\([^)]*\)\s*(?:throws\s+[\w.,\s]+)?\{",
        {"java": 2.0, "csharp": 2.0},
        cap=2,
    ),
    _cue(r"\b(?:int|long|double|float|char|byte|short|void)\s+\w+\s*[=;,)(]", _w(_JVM, 0.5) | _w(_C, 0.5)),
    _cue(
        r"\bnew\s+[A-Z]\w*(?:\s*\.\s*\w+)*\s*(?:<[^>]*>)?\s*[(\[{]",
        _w(_JVM, 1.0) | _w(_JS, 0.5) | {"php": 0.3},
    ),
    _cue(r"\bclass\s+\w+(?:<[^>]*>)?\s*(?:extends|implements|:)?", {"java": 0.5, "csharp": 0.5}),
    # Method declarations: Java names methods in camelCase, C# in PascalCase.
    _cue(_DECL + r"([a-z]\w*)\s*\(", {"java": 1.5}, cap=2),
    _cue(_DECL + r"([A-Z]\w*)\s*\(", {"csharp": 1.5}, cap=2),
    _cue(r"(?<![.\w$])[a-z]+[A-Z]\w*\s*\(", {"java": 0.7, "javascript": 0.3, "go": 0.2}, cap=2),
    _cue(
        r";\s*$|;", {"java": 0.3, "csharp": 0.3, "c": 0.3, "cpp": 0.3, "php": 0.3, "javascript": 0.1}, cap=5
    ),
    # ---------------------------------------------------------------- Java
    _cue(r"\bboolean\b", {"java": 3.0}, cap=1),
    _cue(r"\bthrows\b", {"java": 3.0}, cap=1),
    _cue(
        r"@\s*Override\b|@\s*(?:Nullable|NonNull|Test|Autowired|Deprecated|SuppressWarnings)\b",
        {"java": 3.0, "kotlin": 0.5},
        cap=1,
    ),
    _cue(r"\bfinal\s+(?:[A-Z]\w*|int|long|boolean|double|byte|char)\b", {"java": 2.5}, cap=2),
    _cue(r"\bString\b", {"java": 1.0, "csharp": 0.3}, cap=2),
    _cue(r"\bsuper\s*[(.]", {"java": 2.0}, cap=1),
    _cue(r"\bSystem\s*\.\s*out\b|\bSystem\s*\.\s*(?:currentTimeMillis|arraycopy)\b", {"java": 3.0}, cap=1),
    _cue(r"^\s*(?:import\s+(?:static\s+)?[\w.]+(?:\.\*)?|package\s+[\w.]+)\s*;", {"java": 4.0}, cap=1),
    _cue(
        r"\.\s*(?:equals|length|size|toString|hashCode|isEmpty|getClass|containsKey|charAt)\s*\(",
        {"java": 1.5, "javascript": 0.2},
        cap=3,
    ),
    _cue(r"\.\s*[a-z]\w*\s*\(", {"java": 0.4, "javascript": 0.3, "typescript": 0.3}, cap=5),
    _cue(r"\b(?:extends|implements)\s+[A-Z]", {"java": 1.5, "typescript": 0.5, "php": 0.5}, cap=1),
    _cue(r"\b(?:ArrayList|HashMap|Integer|Map\.Entry|Iterator|Collections|Arrays)\b", {"java": 2.0}, cap=2),
    _cue(r"\binstanceof\b", {"java": 1.0, "javascript": 0.5, "php": 0.5}, cap=1),
    # ---------------------------------------------------------------- C#
    _cue(r"^\s*using\s+System\b|^\s*using\s+[A-Z][\w.]*\s*;", {"csharp": 5.0}, cap=1),
    _cue(r"\bnamespace\s+[A-Z][\w.]*\s*\{?\s*$", {"csharp": 2.0, "cpp": 0.5}, cap=1),
    _cue(r"\b(?:override|virtual)\b", {"csharp": 3.0, "cpp": 0.5, "kotlin": 0.5}, cap=1),
    _cue(
        r"\b(?:string|object)\s*(?:\[\s*\])?\s+@?[a-zA-Z_]\w*\s*[=;,)]|\(\s*(?:string|object)\s*\)"
        r"|<\s*(?:string|object)\s*[,>]|\b(?:string|object)\s+\w+\s*\(",
        {"csharp": 2.5, "cpp": 0.3},
        cap=2,
    ),
    _cue(r"\bbool\b", {"csharp": 1.0, "cpp": 1.0, "c": 0.5, "rust": 0.5}, cap=1),
    _cue(r"\bI[A-Z][a-z]\w*\s*<|\bis\s+[A-Z]\w*|\bas\s+[A-Z]\w*\s*;", {"csharp": 1.5}, cap=1),
    _cue(r"\bforeach\s*\((?:\s*var|\s*[A-Z]\w*|\s*int|\s*string)\b", {"csharp": 3.0}, cap=1),
    _cue(r"\.\s*[A-Z]\w*\s*\(", {"csharp": 1.0, "go": 0.6}, cap=4),
    _cue(r"\b[a-z]\w*\s*\.\s*(?:Length|Count|Add|ToString|Equals|GetHashCode)\b", {"csharp": 2.0}, cap=2),
    _cue(r"\{\s*get\s*;|\bget\s*\{|\bset\s*\{", {"csharp": 3.0}, cap=1),
    _cue(r"\b(?:sealed|readonly|internal|ref|out)\s+[\w<]", {"csharp": 2.0, "typescript": 0.5}, cap=2),
    _cue(r"\bvar\s+\w+\s*=\s*new\b", {"csharp": 2.0}, cap=1),
    _cue(
        r"\b(?:Console|Task|IEnumerable|IList|IDictionary|Dictionary|Guid|Func|Action)\b",
        {"csharp": 2.0},
        cap=2,
    ),
    _cue(r"\bbase\s*\.\s*\w+|:\s*base\s*\(|\bthis\s*\.\s*[A-Z]\w*\s*\(", {"csharp": 2.0}, cap=1),
    _cue(r"\b(?:async\s+Task|await)\b", {"csharp": 1.0, "javascript": 0.8, "typescript": 0.8}, cap=1),
    # ---------------------------------------------------------------- JavaScript / TypeScript
    _cue(r"\bfunction\s*\*?\s*[\w$]*\s*\(", _w(_JS, 2.0) | {"php": 0.5}, cap=3),
    _cue(r"=>", _w(_JS, 1.0) | {"php": 0.2, "csharp": 0.3}, cap=3),
    _cue(r"\b(?:const|let)\s+\w+\s*=", _w(_JS, 2.0) | {"rust": 0.3, "swift": 0.5}, cap=2),
    _cue(r"\b(?:const|let)\s*\{[\w\s,:]*\}\s*=", _w(_JS, 3.0), cap=1),
    _cue(r"\bvar\s+\w+\s*(?:=|,|;)", _w(_JS, 1.5) | {"csharp": 0.5}, cap=2),
    _cue(r"===|!==", _w(_JS, 2.0) | {"php": 1.0}, cap=2),
    _cue(r"\bundefined\b|\btypeof\b", _w(_JS, 2.5), cap=2),
    _cue(r"\bconsole\s*\.\s*(?:log|error|warn)\b|\bdocument\s*\.|\bwindow\s*\.", _w(_JS, 3.0), cap=1),
    _cue(r"\brequire\s*\(\s*['\"]|\bmodule\s*\.\s*exports\b|\bexports\s*\.\s*\w+\s*=", _w(_JS, 3.0), cap=1),
    _cue(r"\bthis\s*\.\s*[a-z_$]\w*", _w(_JS, 0.8) | {"java": 0.6, "csharp": 0.2}, cap=3),
    _cue(r"\bprototype\b|\.\s*then\s*\(|\bPromise\b", _w(_JS, 2.0), cap=2),
    _cue(
        r"^\s*(?:import\s+.*\s+from\s+['\"]|export\s+(?:default|const|function|class))", _w(_JS, 3.0), cap=1
    ),
    _cue(r"(?<![\w$])\$\s*\(|\b_\s*\.\s*\w+\s*\(", _w(_JS, 1.5), cap=1),
    _cue(r"\bnull\b", _w(_JS, 0.3) | _w(_JVM, 0.3) | {"php": 0.3}, cap=2),
    # TypeScript only
    _cue(
        r"[\w)]\s*\??\s*:\s*(?:string|number|boolean|any|void|unknown|never)(?:\[\])?\s*[,)=;{]",
        {"typescript": 3.0},
        cap=2,
    ),
    _cue(
        r"\b(?:interface|type)\s+[A-Z]\w*(?:<[^>]*>)?\s*(?:=|\{|extends)",
        {"typescript": 2.5, "java": 0.3},
        cap=1,
    ),
    _cue(
        r"\bexport\s+(?:interface|type|enum)\b|\bas\s+(?:string|number|any|unknown|const)\b",
        {"typescript": 3.0},
        cap=1,
    ),
    _cue(r"\b(?:Partial|Readonly|Record|Promise)<|\bprivate\s+readonly\b", {"typescript": 2.0}, cap=1),
    # ---------------------------------------------------------------- PHP
    _cue(r"<\?php", {"php": 8.0}, cap=1),
    _cue(r"\$\s*this\s*->", {"php": 5.0}, cap=1),
    _cue(r"(?<![\w{])\$\s*[a-zA-Z_]\w*", {"php": 1.2, "shell": 0.6, "perl": 0.5}, cap=5),
    _cue(r"\b(?:public|private|protected)\s+(?:static\s+)?function\b", {"php": 5.0}, cap=1),
    _cue(r"->\s*\w+\s*\(", {"php": 1.0, "cpp": 0.3, "c": 0.2}, cap=3),
    _cue(r"\bforeach\s*\(\s*\$", {"php": 3.0}, cap=1),
    _cue(
        r"\barray\s*\(|\b(?:isset|empty|unset|is_array|count|strlen|in_array|array_\w+)\s*\(",
        {"php": 2.0},
        cap=2,
    ),
    _cue(r"^\s*(?:namespace|use)\s+[A-Z]\w*\\", {"php": 4.0}, cap=1),
    _cue(
        r"\bself\s*::|\bstatic\s*::|\bparent\s*::|\b[A-Z]\w*\s*::\s*\$?\w+",
        {"php": 1.5, "cpp": 0.5, "rust": 0.5},
        cap=2,
    ),
    _cue(r"\becho\b", {"php": 1.0, "shell": 1.0}, cap=1),
    _cue(r"\.\s*=|\s\.\s+['\"$]", {"php": 1.0}, cap=2),
    # ---------------------------------------------------------------- C and C++
    _cue(r"^\s*#\s*include\s*[<\"][\w./]+\.h[>\"]", _w(_C, 3.0), cap=1),
    _cue(r"^\s*#\s*include\s*<\w+>", {"cpp": 4.0}, cap=1),
    _cue(r"^\s*#\s*(?:define|ifdef|ifndef|endif|pragma)\b", _w(_C, 2.0) | {"csharp": 0.5}, cap=1),
    _cue(r"\bstd\s*::|\bcout\b|\bcerr\b|\bendl\b", {"cpp": 4.0}, cap=1),
    _cue(r"\btemplate\s*<|\bnullptr\b|\bconstexpr\b|\bvirtual\b.*=\s*0\s*;", {"cpp": 4.0}, cap=1),
    _cue(r"\b(?:class|struct)\s+\w+\s*(?::\s*(?:public|private)\s+\w+)?\s*\{", {"cpp": 1.0, "c": 0.5}, cap=1),
    _cue(r"\b\w+\s*::\s*~?\w+\s*\(", {"cpp": 1.5, "rust": 0.5}, cap=2),
    _cue(
        r"\b(?:printf|fprintf|sprintf|malloc|calloc|free|memcpy|memset|strcmp|strcpy)\s*\(",
        _w(_C, 1.0) | {"c": 2.0},
        cap=2,
    ),
    _cue(r"\bstruct\s+\w+\s*\*|\b(?:unsigned|size_t|uint\d+_t|int\d+_t)\b|\bvoid\s*\*", _w(_C, 2.0), cap=2),
    _cue(r"\bNULL\b", {"c": 1.5, "cpp": 1.0}, cap=1),
    _cue(r"\w\s*->\s*\w+(?!\s*\()", _w(_C, 1.0) | {"php": 0.3}, cap=3),
    _cue(r"\bconst\s+(?:char|int|std)\b|\b(?:char|int)\s*\*+\s*\w+", _w(_C, 2.0), cap=2),
    _cue(r"\bauto\s+\w+\s*=|\b(?:public|private|protected)\s*:", {"cpp": 2.0}, cap=1),
    # ---------------------------------------------------------------- Rust
    _cue(r"\bfn\s+\w+\s*(?:<[^>]*>)?\s*\(", {"rust": 5.0}, cap=1),
    _cue(r"\blet\s+mut\b|&mut\b|&self\b", {"rust": 5.0}, cap=1),
    _cue(r"\bimpl\b(?:\s*<[^>]*>)?\s+\w+|\bpub\s+(?:fn|struct|enum|mod|crate|trait)\b", {"rust": 4.0}, cap=1),
    _cue(r"^\s*use\s+\w+(?:::\w+)+", {"rust": 3.0}, cap=1),
    _cue(r"\b(?:println|vec|format|panic|assert_eq|assert)!\s*[(\[]", {"rust": 3.0}, cap=1),
    _cue(
        r"\.unwrap\(\)|\b(?:Some|Ok|Err)\s*\(|\bOption<|\bResult<|\bVec<|\busize\b|\b[iu](?:8|16|32|64)\b",
        {"rust": 2.0},
        cap=2,
    ),
    _cue(r"\bmatch\s+[\w.&]+\s*\{", {"rust": 2.0}, cap=1),
    # ---------------------------------------------------------------- Kotlin, Swift, shell, Lua, Perl
    _cue(r"\bfun\s+\w+\s*\(", {"kotlin": 5.0}, cap=1),
    _cue(r"\bval\s+\w+\s*[:=]", {"kotlin": 2.5, "scala": 2.0}, cap=1),
    _cue(
        r"\bguard\s+let\b|\bif\s+let\b|^\s*import\s+(?:UIKit|Foundation|SwiftUI)\b",
        {"swift": 4.0, "rust": 0.5},
        cap=1,
    ),
    _cue(r"\bfunc\s+\w+\s*\([^)]*\)\s*(?:->|throws)", {"swift": 2.5}, cap=1),
    _cue(r"^\s*(?:fi|esac|done)\s*$|\bthen\s*$|\[\[\s|\$\{\w+", {"shell": 2.0}, cap=2),
    _cue(r"\blocal\s+\w+\s*=|\bfunction\s+\w+\s*\(.*\)\s*$|\belseif\b", {"lua": 1.5}, cap=1),
    _cue(r"\bmy\s+[$@%]\w+|\buse\s+strict\b", {"perl": 4.0}, cap=1),
)

#: Languages the cue table can return.
GUESSABLE_LANGUAGES: tuple[str, ...] = tuple(
    sorted({lang for cue in _CUES for lang, w in cue.weights.items() if w > 0})
)


def language_scores(code: str) -> dict[str, float]:
    """Score every guessable language for ``code``; higher means more likely. Zero scores are left out.

    Raises:
        TypeError: ``code`` is not a string.

    Example:
        >>> scores = language_scores("fn main() { let mut x = 1; }")
        >>> max(scores, key=scores.get)
        'rust'
    """
    if not isinstance(code, str):
        raise TypeError(f"code must be a string, got {type(code).__name__}: {code!r:.80}")
    text = code[:MAX_CHARS]
    scores: dict[str, float] = {}
    for cue in _CUES:
        hits = 0
        for _ in cue.pattern.finditer(text):
            hits += 1
            if hits >= cue.cap:
                break
        if hits:
            for lang, weight in cue.weights.items():
                if weight:
                    scores[lang] = scores.get(lang, 0.0) + weight * hits
    return scores


def guess_language(code: str) -> str | None:
    """Guess the programming language of ``code`` from its content; ``None`` when unsure.

    Returns a canonical id from :mod:`loracode_embed.languages` (one of :data:`GUESSABLE_LANGUAGES`),
    or ``None`` when no language scores :data:`MIN_SCORE` or the best two tie.

    Raises:
        TypeError: ``code`` is not a string.

    Example:
        >>> guess_language("public class A { public boolean ok() throws IOException { return true; } }")
        'java'
        >>> guess_language("<?php echo $name; ?>")
        'php'
        >>> guess_language("") is None
        True
    """
    scores = language_scores(code)
    if not scores:
        return None
    ranked = sorted(scores.items(), key=lambda item: item[1], reverse=True)
    best, best_score = ranked[0]
    if best_score < MIN_SCORE:
        return None
    if len(ranked) > 1 and best_score - ranked[1][1] < 1e-9:
        return _TIE_PREFERENCE.get(frozenset({best, ranked[1][0]}))
    return best
