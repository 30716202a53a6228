"""Extract (doc comment, function) pairs from one source file with tree-sitter.

Each language has a small spec: which nodes are functions, and where the doc comment lives (a Python
docstring inside the body; a comment block right before the function elsewhere). The returned code is
the function's own text with the docstring removed (other languages' doc comments lie outside it).

Grammars come from the per-language wheels (``tree-sitter-python``, ...), imported lazily: install them
with ``pip install 'loracode-embed[mine]'``.

Example:
    >>> src = b'def add(a, b):\\n    \"\"\"Add two numbers together.\"\"\"\\n    c = a + b\\n    return c\\n'
    >>> [f.doc for f in extract_functions(src, "python")]
    ['\"\"\"Add two numbers together.\"\"\"']
"""

from __future__ import annotations

import functools
import importlib
import logging
import time
from dataclasses import dataclass

logger = logging.getLogger(__name__)

MINE_EXTRA_HINT = "pip install 'loracode-embed[mine]'"


@dataclass(frozen=True)
class LanguageSpec:
    """How to find functions and their doc comments in one language."""

    module: str
    attr: str
    functions: frozenset[str]
    doc_style: str  # "python" (docstring in body), "block" (/** */ before), "lines" (// or # lines before)
    comment_types: frozenset[str]
    doc_prefixes: tuple[str, ...]


SPECS: dict[str, LanguageSpec] = {
    "python": LanguageSpec(
        "tree_sitter_python",
        "language",
        frozenset({"function_definition"}),
        "python",
        frozenset({"comment"}),
        (),
    ),
    "go": LanguageSpec(
        "tree_sitter_go",
        "language",
        frozenset({"function_declaration", "method_declaration"}),
        "lines",
        frozenset({"comment"}),
        ("//", "/*"),
    ),
    "java": LanguageSpec(
        "tree_sitter_java",
        "language",
        frozenset({"method_declaration", "constructor_declaration"}),
        "block",
        frozenset({"block_comment", "comment"}),
        ("/**",),
    ),
    "javascript": LanguageSpec(
        "tree_sitter_javascript",
        "language",
        frozenset(
            {
                "function_declaration",
                "generator_function_declaration",
                "method_definition",
                "function_expression",
                "function",
                "arrow_function",
                "generator_function",
            }
        ),
        "block",
        frozenset({"comment"}),
        ("/**",),
    ),
    "php": LanguageSpec(
        "tree_sitter_php",
        "language_php",
        frozenset({"function_definition", "method_declaration"}),
        "block",
        frozenset({"comment"}),
        ("/**",),
    ),
    "ruby": LanguageSpec(
        "tree_sitter_ruby",
        "language",
        frozenset({"method", "singleton_method"}),
        "lines",
        frozenset({"comment"}),
        ("#", "=begin"),
    ),
    "c": LanguageSpec(
        "tree_sitter_c",
        "language",
        frozenset({"function_definition"}),
        "lines",
        frozenset({"comment"}),
        ("/**", "/*!", "///", "//!"),
    ),
    "cpp": LanguageSpec(
        "tree_sitter_cpp",
        "language",
        frozenset({"function_definition"}),
        "lines",
        frozenset({"comment"}),
        ("/**", "/*!", "///", "//!"),
    ),
    "csharp": LanguageSpec(
        "tree_sitter_c_sharp",
        "language",
        frozenset({"method_declaration", "constructor_declaration"}),
        "lines",
        frozenset({"comment"}),
        ("///", "/**"),
    ),
}
MINED_LANGUAGES: tuple[str, ...] = tuple(SPECS)

# Wrappers between a JavaScript function node and the statement its doc comment precedes.
_JS_WRAPPERS = frozenset(
    {
        "variable_declarator",
        "lexical_declaration",
        "variable_declaration",
        "assignment_expression",
        "expression_statement",
        "export_statement",
        "pair",
        "field_definition",
        "public_field_definition",
        "augmented_assignment_expression",
    }
)
_NAME_FIELDS = ("name", "declarator")


class ParseTimeout(Exception):
    """Raised when tree-sitter does not finish one file within its time limit."""


@dataclass(frozen=True)
class ExtractedFunction:
    """One documented function: raw doc comment, code without it, its name and 1-based start line."""

    name: str
    doc: str
    code: str
    line: int
    has_error: bool


def _require(module: str):
    try:
        return importlib.import_module(module)
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(f"mining needs the tree-sitter grammar {module!r}: {MINE_EXTRA_HINT}") from exc


@functools.cache
def get_parser(language: str):
    """A tree-sitter Parser for ``language`` (one of :data:`MINED_LANGUAGES`), cached per process."""
    if language not in SPECS:
        raise ValueError(f"language must be one of {', '.join(MINED_LANGUAGES)}; got {language!r}")
    ts = _require("tree_sitter")
    spec = SPECS[language]
    grammar = _require(spec.module)
    return ts.Parser(ts.Language(getattr(grammar, spec.attr)()))


def parse(source: bytes, language: str, timeout_s: float | None = 5.0):
    """Parse ``source``; raises :class:`ParseTimeout` when it takes longer than ``timeout_s`` seconds.

    tree-sitter 0.25+ calls ``progress_callback`` while it parses a callback-fed source; returning True
    cancels the parse (the binding then raises ValueError), which is how the time limit is enforced.
    """
    parser = get_parser(language)
    if timeout_s is None:
        return parser.parse(source)
    deadline = time.monotonic() + timeout_s
    expired = [False]

    def progress(_offset: int, _has_error: bool) -> bool:
        if time.monotonic() > deadline:
            expired[0] = True
            return True
        return False

    def read(offset: int, _point) -> bytes:
        return source[offset : offset + 65536]

    try:
        tree = parser.parse(read, progress_callback=progress)
    except ValueError as exc:
        parser.reset()  # a cancelled parse would otherwise be resumed by the next parse() call
        if expired[0]:
            raise ParseTimeout(f"parse exceeded {timeout_s}s") from exc
        raise
    if tree is None:
        parser.reset()
        raise ParseTimeout(f"parse exceeded {timeout_s}s")
    return tree


def _text(source: bytes, node) -> str:
    return source[node.start_byte : node.end_byte].decode("utf-8", errors="replace")


def _func_name(node, source: bytes) -> str:
    for field in _NAME_FIELDS:
        child = node.child_by_field_name(field)
        while child is not None and child.type not in (
            "identifier",
            "field_identifier",
            "name",
            "property_identifier",
            "constant",
            "operator",
            "qualified_identifier",
            "destructor_name",
            "private_property_identifier",
        ):
            nxt = child.child_by_field_name("declarator") or child.child_by_field_name("name")
            child = nxt
        if child is not None:
            return _text(source, child)
    parent = node.parent
    if parent is not None and parent.type in ("variable_declarator", "pair", "assignment_expression"):
        target = (
            parent.child_by_field_name("name")
            or parent.child_by_field_name("key")
            or parent.child_by_field_name("left")
        )
        if target is not None:
            return _text(source, target).split(".")[-1]
    return ""


def _python_docstring(node):
    body = node.child_by_field_name("body")
    if body is None or body.named_child_count == 0:
        return None
    first = body.named_children[0]
    if first.type == "expression_statement" and first.named_child_count == 1:
        first = first.named_children[0]
    if first.type == "string":
        return first
    return None


def _anchor(node, language: str):
    """The node a doc comment is written before: the function, or a JS statement/export wrapping it."""
    anchor = node
    if language == "javascript":
        while anchor.parent is not None and anchor.parent.type in _JS_WRAPPERS:
            anchor = anchor.parent
    elif language in ("c", "cpp"):
        while anchor.parent is not None and anchor.parent.type in ("template_declaration",):
            anchor = anchor.parent
    elif language == "python":
        if anchor.parent is not None and anchor.parent.type == "decorated_definition":
            anchor = anchor.parent
    return anchor


def _leading_comment(node, source: bytes, spec: LanguageSpec, language: str):
    """The doc comment right before ``node`` (contiguous comment lines, no blank line between), or None."""
    anchor = _anchor(node, language)
    comments = []
    expected_row = anchor.start_point[0]
    sib = anchor.prev_sibling
    while sib is None and anchor.parent is not None and anchor.parent.start_byte == anchor.start_byte:
        anchor = anchor.parent  # first statement of a body node (Ruby's body_statement): look outside it
        sib = anchor.prev_sibling
    # Java/C# annotations/attributes and PHP attributes can sit between the comment and the declaration
    # as part of the node itself, so a direct sibling walk is enough.
    while sib is not None and sib.type in spec.comment_types:
        if sib.end_point[0] < expected_row - 1:
            break
        text = _text(source, sib)
        if not text.lstrip().startswith(spec.doc_prefixes):
            break
        comments.append(text)
        if spec.doc_style == "block":
            break
        expected_row = sib.start_point[0]
        sib = sib.prev_sibling
    if not comments:
        return None
    comments.reverse()
    if spec.doc_style == "lines" and len(comments) > 1 and comments[0].lstrip().startswith("/*"):
        comments = [comments[-1]]
    return "\n".join(comments)


def _iter_functions(root, types: frozenset[str]):
    stack = [root]
    while stack:
        node = stack.pop()
        if node.type in types:
            yield node
        stack.extend(reversed(node.children))


def extract_functions(
    source: bytes, language: str, *, timeout_s: float | None = 5.0
) -> list[ExtractedFunction]:
    """Documented functions of ``source`` (UTF-8 bytes) in ``language``, in file order.

    Functions without a doc comment are skipped. ``code`` is the function text with its docstring
    removed; ``has_error`` tells whether tree-sitter found a syntax error inside the function.

    Raises:
        ParseTimeout: the parse ran past ``timeout_s`` seconds.
        ValueError: unknown language.
    """
    if not isinstance(source, bytes):
        raise TypeError(f"source must be bytes, got {type(source).__name__}")
    spec = SPECS.get(language)
    if spec is None:
        raise ValueError(f"language must be one of {', '.join(MINED_LANGUAGES)}; got {language!r}")
    tree = parse(source, language, timeout_s)
    out: list[ExtractedFunction] = []
    for node in _iter_functions(tree.root_node, spec.functions):
        if language == "javascript" and node.type in (
            "function_expression",
            "function",
            "arrow_function",
            "generator_function",
        ):
            if node.parent is None or node.parent.type not in _JS_WRAPPERS:
                continue  # an anonymous callback: no place for a doc comment
        if spec.doc_style == "python":
            doc_node = _python_docstring(node)
            if doc_node is None:
                continue
            doc = _text(source, doc_node)
            start, end = node.start_byte, node.end_byte
            # remove the docstring line(s) entirely, including its indentation and line break
            cut_start = source.rfind(b"\n", start, doc_node.start_byte) + 1 or doc_node.start_byte
            if source[cut_start : doc_node.start_byte].strip():
                cut_start = doc_node.start_byte
            cut_end = doc_node.end_byte
            nl = source.find(b"\n", cut_end, end)
            if nl != -1 and not source[cut_end:nl].strip():
                cut_end = nl + 1
            code_bytes = source[start:cut_start] + source[cut_end:end]
        else:
            doc = _leading_comment(node, source, spec, language)
            if doc is None:
                continue
            anchor = _anchor(node, language) if language == "javascript" else node
            code_bytes = source[anchor.start_byte : anchor.end_byte]
        # re-indent: prefix the first line with its column so dedent works on the whole function
        col = node.start_point[1] if spec.doc_style == "python" else _anchor(node, language).start_point[1]
        code = (" " * col + code_bytes.decode("utf-8", errors="replace")).rstrip()
        code = _dedent(code)
        out.append(
            ExtractedFunction(_func_name(node, source), doc, code, node.start_point[0] + 1, node.has_error)
        )
    return out


def _dedent(code: str) -> str:
    lines = code.split("\n")
    indents = [len(line) - len(line.lstrip()) for line in lines if line.strip()]
    cut = min(indents) if indents else 0
    return "\n".join(line[cut:] if len(line) >= cut else line.lstrip() for line in lines)
