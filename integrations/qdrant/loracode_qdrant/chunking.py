"""Cut source files into chunks: functions, methods and classes, each under the model's token limit.

How a file is cut:

1. Files in a language with a tree-sitter grammar are parsed (from bytes, so every offset is a byte
   offset into the file, correct with any non-ASCII text). The syntax tree is walked iteratively
   (a 100k-deep bracket nest cannot overflow the Python stack).
2. Each definition becomes one chunk: ``function`` (including methods, with a ``Class.method``
   symbol) or ``class``. A class that fits under the token limit is one chunk; a larger one gives a
   ``class`` chunk for its header and the code between its methods, and one chunk per method.
   Namespaces, modules and ``impl`` blocks are always entered.
3. A definition over the limit is split at statement boundaries: its body's statements are packed
   greedily into parts (``kind`` gets a ``-part`` suffix); a single statement still over the limit is
   split by its own children, then by lines.
4. Code between definitions at the same level (imports, constants, top-level statements) is packed
   into ``module`` chunks the same way.
5. Files with no grammar (and files whose tree is mostly errors) fall back to overlapping line windows
   (``kind="window"``). A line longer than the limit is cut into character windows.

Every chunk is checked with the model's real token counter (``count_tokens``) and cut further if it
is still over ``max_tokens``.

Example:
    >>> source = (b"import os\\n\\ndef add(a, b):\\n    return a + b\\n\\n"
    ...           b"class C:\\n    def m(self):\\n        pass\\n")
    >>> chunker = Chunker(lambda texts: [len(t.split()) for t in texts], max_tokens=100)
    >>> [(c.kind, c.symbol, c.start_line, c.end_line) for c in chunker.chunk(source, "python")]
    [('module', None, 1, 1), ('function', 'add', 3, 4), ('class', 'C', 6, 8)]
"""

from __future__ import annotations

import hashlib
import importlib
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import tree_sitter

logger = logging.getLogger(__name__)

#: Bump when chunk boundaries or payloads change: a store built by another version refuses updates.
CHUNKER_VERSION = "1"

TokenCounter = Callable[[Sequence[str]], list[int]]
_MAX_SPLIT_DEPTH = 6  # deeper than this (long operator chains, nested literals), split by lines


@dataclass(frozen=True)
class Chunk:
    """One piece of a file to embed and store.

    Attributes:
        text: The chunk's source text (decoded from ``data[start_byte:end_byte]``).
        kind: ``function``, ``class``, ``module``, ``window``, or one of these with ``-part``.
        symbol: Qualified name of the definition (``Class.method``), or ``None``.
        start_line: First line, 1-based.
        end_line: Last line, 1-based, inclusive.
        start_byte: Offset of the first byte in the file.
        end_byte: Offset one past the last byte.
        content_hash: sha256 (hex) of the chunk's bytes.
    """

    text: str
    kind: str
    symbol: str | None
    start_line: int
    end_line: int
    start_byte: int
    end_byte: int
    content_hash: str


@dataclass(frozen=True)
class _LangSpec:
    module: str
    factory: str
    functions: frozenset[str]
    classes: frozenset[str]
    containers: frozenset[str] = frozenset()
    wrappers: frozenset[str] = frozenset()  # nodes whose single definition child is the real unit
    body_fields: tuple[str, ...] = ("body",)


_JS_FUNCS = frozenset(
    {"function_declaration", "generator_function_declaration", "method_definition", "function_signature"}
)
_JS_CLASSES = frozenset({"class_declaration", "abstract_class_declaration", "interface_declaration"})
LANG_SPECS: dict[str, _LangSpec] = {
    "python": _LangSpec(
        "tree_sitter_python", "language", frozenset({"function_definition"}), frozenset({"class_definition"}),
        wrappers=frozenset({"decorated_definition"}),
    ),
    "go": _LangSpec(
        "tree_sitter_go", "language", frozenset({"function_declaration", "method_declaration"}),
        frozenset({"type_declaration"}),
    ),
    "java": _LangSpec(
        "tree_sitter_java", "language",
        frozenset({"method_declaration", "constructor_declaration", "compact_constructor_declaration"}),
        frozenset({"class_declaration", "interface_declaration", "enum_declaration", "record_declaration",
                   "annotation_type_declaration"}),
    ),
    "javascript": _LangSpec(
        "tree_sitter_javascript", "language", _JS_FUNCS, _JS_CLASSES, wrappers=frozenset({"export_statement"})
    ),
    "typescript": _LangSpec(
        "tree_sitter_typescript", "language_tsx", _JS_FUNCS, _JS_CLASSES | {"enum_declaration"},
        containers=frozenset({"internal_module", "module"}), wrappers=frozenset({"export_statement"}),
    ),
    "php": _LangSpec(
        "tree_sitter_php", "language_php", frozenset({"function_definition", "method_declaration"}),
        frozenset({"class_declaration", "interface_declaration", "trait_declaration", "enum_declaration"}),
        containers=frozenset({"namespace_definition"}),
    ),
    "ruby": _LangSpec(
        "tree_sitter_ruby", "language", frozenset({"method", "singleton_method"}), frozenset({"class"}),
        containers=frozenset({"module"}),
    ),
    "c": _LangSpec("tree_sitter_c", "language", frozenset({"function_definition"}), frozenset()),
    "cpp": _LangSpec(
        "tree_sitter_cpp", "language", frozenset({"function_definition"}),
        frozenset({"class_specifier", "struct_specifier"}),
        containers=frozenset({"namespace_definition", "linkage_specification"}),
        wrappers=frozenset({"template_declaration"}),
    ),
    "csharp": _LangSpec(
        "tree_sitter_c_sharp", "language",
        frozenset({"method_declaration", "constructor_declaration", "local_function_statement",
                   "operator_declaration"}),
        frozenset({"class_declaration", "struct_declaration", "interface_declaration", "record_declaration",
                   "enum_declaration"}),
        containers=frozenset({"namespace_declaration", "file_scoped_namespace_declaration"}),
    ),
    "rust": _LangSpec(
        "tree_sitter_rust", "language", frozenset({"function_item"}),
        frozenset({"struct_item", "enum_item", "trait_item", "impl_item"}),
        containers=frozenset({"mod_item"}),
    ),
}  # fmt: skip

_PARSERS: dict[str, tree_sitter.Parser] = {}


def parser_for(language: str) -> tree_sitter.Parser | None:
    """A cached tree-sitter parser for a canonical language id, or ``None`` if there is no grammar."""
    if language in _PARSERS:
        return _PARSERS[language]
    spec = LANG_SPECS.get(language)
    if spec is None:
        return None
    try:
        module = importlib.import_module(spec.module)
        parser = tree_sitter.Parser(tree_sitter.Language(getattr(module, spec.factory)()))
    except (ImportError, AttributeError, ValueError) as exc:
        logger.warning("No tree-sitter grammar for %s (%s): falling back to line windows", language, exc)
        _PARSERS[language] = None  # type: ignore[assignment]
        return None
    _PARSERS[language] = parser
    return parser


class Chunker:
    """Cuts files into :class:`Chunk` s; one instance per model (token counter and limit).

    Args:
        count_tokens: Returns the model's token count for each text (``model.count_tokens``).
        max_tokens: Largest chunk, in tokens (use the model's ``max_seq_length`` less a margin).
        window_lines: Lines per window for files with no grammar.
        window_overlap: Lines shared by consecutive windows.
    """

    def __init__(
        self, count_tokens: TokenCounter, max_tokens: int, *, window_lines: int = 40, window_overlap: int = 8
    ) -> None:
        if not callable(count_tokens):
            raise TypeError(f"count_tokens must be callable, got {type(count_tokens).__name__}")
        if isinstance(max_tokens, bool) or not isinstance(max_tokens, int) or max_tokens < 8:
            raise ValueError(f"max_tokens must be an int >= 8, got {max_tokens!r}")
        if not 0 <= window_overlap < window_lines:
            raise ValueError(
                f"window_overlap must be in [0, window_lines), got {window_overlap} with {window_lines}"
            )
        self.count_tokens = count_tokens
        self.max_tokens = max_tokens
        self.window_lines = window_lines
        self.window_overlap = window_overlap

    # ---------------------------------------------------------------- public
    def chunk(self, data: bytes, language: str | None) -> list[Chunk]:
        """Chunks of one file's bytes, in file order. Empty and whitespace-only files give ``[]``."""
        if not isinstance(data, bytes):
            raise TypeError(f"data must be bytes, got {type(data).__name__}")
        if not data.strip():
            return []
        self._data = data
        self._line_starts = _line_starts(data)
        self._counts: dict[tuple[int, int], int] = {}
        parser = parser_for(language) if language else None
        spans: list[_Span] = []
        if parser is not None:
            tree = parser.parse(data)
            root = tree.root_node
            if root.has_error and _error_ratio(root) > 0.5:
                logger.debug("Mostly unparsable %s file: using line windows", language)
            else:
                spans = self._spans_for_tree(root, LANG_SPECS[language])  # type: ignore[index]
        if not spans:
            spans = self._windows(0, len(data), "window", None)
        spans = self._enforce_limit(spans)
        chunks = []
        for span in spans:
            raw = data[span.start : span.end]
            if not raw.strip():
                continue
            chunks.append(
                Chunk(
                    text=raw.decode("utf-8", errors="replace"),
                    kind=span.kind,
                    symbol=span.symbol,
                    start_line=self._line_of(span.start + len(raw) - len(raw.lstrip())),
                    end_line=self._line_of(span.start + len(raw.rstrip()) - 1),
                    start_byte=span.start,
                    end_byte=span.end,
                    content_hash=hashlib.sha256(raw).hexdigest(),
                )
            )
        return chunks

    # ---------------------------------------------------------------- tree walking
    def _spans_for_tree(self, root: tree_sitter.Node, spec: _LangSpec) -> list[_Span]:
        spans: list[_Span] = []
        # Work items: (node whose children form one level, qualified prefix). Iterative, no recursion.
        stack: list[tuple[tree_sitter.Node, str | None]] = [(root, None)]
        while stack:
            level, prefix = stack.pop()
            loose: list[tree_sitter.Node] = []
            for child in _body_children(level, spec):
                unit, kind = _unit(child, spec)
                if kind is None:
                    if unit.type in spec.containers:
                        spans.extend(self._pack(loose, "module", prefix))
                        loose = []
                        name = _name_of(unit, self._data)
                        stack.append((unit, _join(prefix, name)))
                    else:
                        loose.append(child)
                    continue
                # Comments right above a definition (doc comments) belong to it.
                start = child.start_byte
                while loose and "comment" in loose[-1].type:
                    start = loose.pop().start_byte
                spans.extend(self._pack(loose, "module", prefix))
                loose = []
                symbol = _join(prefix, _name_of(unit, self._data))
                if self._tokens_of(start, child.end_byte) <= self.max_tokens:
                    spans.append(_Span(start, child.end_byte, kind, symbol))
                elif kind == "class":
                    header, members = _class_parts(unit, spec)
                    if header is not None:
                        spans.extend(self._split_range(child.start_byte, header, "class", symbol))
                    if members is not None:
                        stack.append((members, symbol))
                else:
                    spans.extend(self._split_unit(child, unit, kind, symbol, spec))
            spans.extend(self._pack(loose, "module", prefix))
        spans.sort(key=lambda s: (s.start, s.end))
        return spans

    def _split_unit(
        self, outer: tree_sitter.Node, unit: tree_sitter.Node, kind: str, symbol: str | None, spec: _LangSpec
    ) -> list[_Span]:
        body = _body_of(unit, spec)
        if body is None or not body.named_children:
            return self._split_range(outer.start_byte, outer.end_byte, kind + "-part", symbol)
        statements = list(body.named_children)
        parts = self._pack(statements, kind + "-part", symbol)
        if parts:  # the signature (and decorators) go with the first part
            parts[0] = _Span(outer.start_byte, parts[0].end, parts[0].kind, symbol)
            tail = parts[-1]
            parts[-1] = _Span(tail.start, max(tail.end, outer.end_byte), tail.kind, symbol)
        return parts

    # ---------------------------------------------------------------- packing and splitting
    def _pack(
        self, nodes: list[tree_sitter.Node], kind: str, symbol: str | None, depth: int = 0
    ) -> list[_Span]:
        """Greedily group consecutive nodes into spans under the limit; split oversize nodes."""
        if not nodes:
            return []
        counts = self._count_ranges([(n.start_byte, n.end_byte) for n in nodes])
        spans: list[_Span] = []
        start = end = None
        total = 0
        for node, count in zip(nodes, counts, strict=True):
            if count > self.max_tokens:
                if start is not None:
                    spans.append(_Span(start, end, kind, symbol))  # type: ignore[arg-type]
                    start = None
                    total = 0
                spans.extend(self._split_node(node, kind, symbol, depth))
                continue
            if start is not None and total + count > self.max_tokens:
                spans.append(_Span(start, end, kind, symbol))  # type: ignore[arg-type]
                start = None
                total = 0
            if start is None:
                start = node.start_byte
            end = node.end_byte
            total += count
        if start is not None:
            spans.append(_Span(start, end, kind, symbol))  # type: ignore[arg-type]
        # Consecutive spans touch: the bytes between two groups (" = ", commas...) stay in the first.
        for i in range(len(spans) - 1):
            if spans[i].end < spans[i + 1].start:
                spans[i] = _Span(spans[i].start, spans[i + 1].start, spans[i].kind, spans[i].symbol)
        return spans

    def _split_node(
        self, node: tree_sitter.Node, kind: str, symbol: str | None, depth: int = 0
    ) -> list[_Span]:
        """One node over the limit: split by its named children (a few levels down), else by lines."""
        # Descend through single-child chains iteratively (deep nests stay off the Python stack).
        current = node
        for _ in range(10_000):
            children = current.named_children
            if len(children) != 1:
                break
            current = children[0]
        children = current.named_children
        if len(children) >= 2 and depth < _MAX_SPLIT_DEPTH:
            parts = self._pack(children, kind, symbol, depth + 1)
            if parts:
                parts[0] = _Span(node.start_byte, parts[0].end, kind, symbol)
                parts[-1] = _Span(parts[-1].start, node.end_byte, kind, symbol)
            return parts
        return self._split_range(node.start_byte, node.end_byte, kind, symbol)

    def _split_range(self, start: int, end: int, kind: str, symbol: str | None) -> list[_Span]:
        if self._tokens_of(start, end) <= self.max_tokens:
            return [_Span(start, end, kind, symbol)]
        return self._windows(start, end, kind, symbol, overlap=False)

    def _windows(
        self, start: int, end: int, kind: str, symbol: str | None, *, overlap: bool = True
    ) -> list[_Span]:
        """Line windows over ``data[start:end]`` (overlapping for whole files), each under the limit."""
        lines = _split_lines(self._data, start, end)
        if not lines:
            return []
        step = self.window_lines - (self.window_overlap if overlap else 0)
        spans = []
        i = 0
        while i < len(lines):
            group = lines[i : i + self.window_lines]
            spans.append(_Span(group[0][0], group[-1][1], kind, symbol))
            if i + self.window_lines >= len(lines):
                break
            i += step
        return spans

    def _enforce_limit(self, spans: list[_Span]) -> list[_Span]:
        """Check every span with the real counter; cut the ones still over the limit (lines, then chars)."""
        out: list[_Span] = []
        pending = spans
        for _ in range(64):
            counts = self._count_ranges([(s.start, s.end) for s in pending])
            over: list[_Span] = []
            for span, count in zip(pending, counts, strict=True):
                if count <= self.max_tokens:
                    out.append(span)
                else:
                    over.append(span)
            if not over:
                break
            pending = []
            for span in over:
                pending.extend(self._halve(span))
        else:  # pragma: no cover - halving always terminates well before this
            out.extend(pending)
        out.sort(key=lambda s: (s.start, s.end))
        return out

    def _halve(self, span: _Span) -> list[_Span]:
        lines = _split_lines(self._data, span.start, span.end)
        if len(lines) >= 2:
            mid = lines[len(lines) // 2][0]
        else:  # one long line: cut at a UTF-8 character boundary near the middle
            mid = (span.start + span.end) // 2
            while mid < span.end and (self._data[mid] & 0xC0) == 0x80:
                mid += 1
            if mid >= span.end or mid <= span.start:
                return [span] if span.end - span.start <= 1 else [
                    _Span(span.start, span.start + 1, span.kind, span.symbol)]  # fmt: skip
        return [_Span(span.start, mid, span.kind, span.symbol), _Span(mid, span.end, span.kind, span.symbol)]

    # ---------------------------------------------------------------- helpers
    def _tokens_of(self, start: int, end: int) -> int:
        return self._count_ranges([(start, end)])[0]

    def _count_ranges(self, ranges: list[tuple[int, int]]) -> list[int]:
        """Token counts of byte ranges of the current file, each range tokenized at most once."""
        missing = list(dict.fromkeys(r for r in ranges if r not in self._counts))
        if missing:
            texts = [self._data[a:b].decode("utf-8", "replace") for a, b in missing]
            self._counts.update(zip(missing, self.count_tokens(texts), strict=True))
        return [self._counts[r] for r in ranges]

    def _line_of(self, offset: int) -> int:
        import bisect

        return bisect.bisect_right(self._line_starts, offset)


@dataclass(frozen=True)
class _Span:
    start: int
    end: int
    kind: str
    symbol: str | None


def _line_starts(data: bytes) -> list[int]:
    starts = [0]
    pos = data.find(b"\n")
    while pos != -1:
        starts.append(pos + 1)
        pos = data.find(b"\n", pos + 1)
    return starts


def _split_lines(data: bytes, start: int, end: int) -> list[tuple[int, int]]:
    """(start, end) byte ranges of the non-blank lines within ``data[start:end]``."""
    out = []
    pos = start
    while pos < end:
        nl = data.find(b"\n", pos, end)
        stop = end if nl == -1 else nl + 1
        if data[pos:stop].strip():
            out.append((pos, stop))
        pos = stop
    return out


def _error_ratio(root: tree_sitter.Node) -> float:
    total = root.end_byte - root.start_byte or 1
    errors = sum(c.end_byte - c.start_byte for c in root.children if c.type == "ERROR" or c.is_missing)
    return errors / total


def _join(prefix: str | None, name: str | None) -> str | None:
    if name is None:
        return prefix
    return f"{prefix}.{name}" if prefix else name


def _unit(node: tree_sitter.Node, spec: _LangSpec) -> tuple[tree_sitter.Node, str | None]:
    """The definition a top node stands for, and its kind (``function``/``class``), or (node, None)."""
    current = node
    for _ in range(4):
        if current.type in spec.functions:
            return current, "function"
        if current.type in spec.classes:
            return current, "class"
        if current.type in spec.wrappers or current.type in ("lexical_declaration", "variable_declaration"):
            inner = [c for c in current.named_children if c.type not in ("decorator", "comment")]
            found = None
            for c in inner:
                if c.type in spec.functions or c.type in spec.classes or c.type in spec.wrappers:
                    found = c
                    break
                if c.type == "variable_declarator":  # const f = () => {...}
                    value = c.child_by_field_name("value")
                    if value is not None and value.type in ("arrow_function", "function_expression",
                                                            "function"):  # fmt: skip
                        return c, "function"
            if found is None:
                return node, None
            current = found
            continue
        break
    return node, None


def _name_of(node: tree_sitter.Node, data: bytes) -> str | None:
    for field_name in ("name", "type"):
        child = node.child_by_field_name(field_name)
        if child is not None and child.type not in ("primitive_type",):
            return data[child.start_byte : child.end_byte].decode("utf-8", "replace")[:200]
    if node.type == "type_declaration":  # Go: type X struct {...}
        for c in node.named_children:
            name = c.child_by_field_name("name")
            if name is not None:
                return data[name.start_byte : name.end_byte].decode("utf-8", "replace")
    declarator = node.child_by_field_name("declarator")  # C/C++ functions
    for _ in range(16):
        if declarator is None:
            break
        if declarator.type in ("identifier", "field_identifier", "qualified_identifier", "destructor_name",
                               "operator_name"):  # fmt: skip
            return data[declarator.start_byte : declarator.end_byte].decode("utf-8", "replace")[:200]
        declarator = declarator.child_by_field_name("declarator")
    return None


def _body_of(unit: tree_sitter.Node, spec: _LangSpec) -> tree_sitter.Node | None:
    for field_name in spec.body_fields:
        body = unit.child_by_field_name(field_name)
        if body is not None:
            return body
    if unit.type == "variable_declarator":
        value = unit.child_by_field_name("value")
        if value is not None:
            return value.child_by_field_name("body")
    if unit.type == "type_declaration":  # Go struct/interface body
        for c in unit.named_children:
            t = c.child_by_field_name("type")
            if t is not None:
                return t
    return None


def _body_children(level: tree_sitter.Node, spec: _LangSpec) -> list[tree_sitter.Node]:
    if level.type in spec.containers or level.type in spec.classes:
        body = _body_of(level, spec)
        if body is None:  # e.g. Ruby module/class: children directly; C#/PHP namespace bodies
            body = next(
                (
                    c
                    for c in level.named_children
                    if c.type in ("declaration_list", "body_statement", "compound_statement")
                ),
                None,
            )
        if body is None:
            return [
                c
                for c in level.named_children
                if c.type not in ("identifier", "constant", "scope_resolution", "superclass")
            ]
        return list(body.named_children)
    return list(level.named_children)


def _class_parts(unit: tree_sitter.Node, spec: _LangSpec) -> tuple[int | None, tree_sitter.Node | None]:
    """End byte of a class's header (up to its body), and the node whose children are its members."""
    body = _body_of(unit, spec)
    if body is None:
        body = next(
            (
                c
                for c in unit.named_children
                if c.type in ("body_statement", "declaration_list", "field_declaration_list")
            ),
            None,
        )
    if body is None:
        return None, None
    first = body.named_children[0] if body.named_children else None
    header_end = first.start_byte if first is not None else body.end_byte
    return header_end, unit
