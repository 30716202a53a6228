"""Identifier-aware sparse (BM25) vectors for hybrid search.

Two parts, one written here and one kept:

* :func:`code_tokens` (written here): splits source text and queries into search terms the way code is
  named. Compound names are kept whole *and* split: ``os.path.join`` gives ``os.path.join``, ``os``,
  ``path``, ``join``; ``getUserById`` gives ``getuserbyid``, ``get``, ``user``, ``by``, ``id``;
  ``ERR_STREAM_WRITE_AFTER_END``, ``my-config-key`` and ``src/http/client.py`` likewise. Words in string
  literals and comments are terms like any other, so an error message can be found by its words. No
  library tokenizer does this: Qdrant's ``Code`` tokenizer splits camelCase and snake_case but does not
  keep dotted, kebab or path names whole, and fastembed's BM25 splits on punctuation only.
* The BM25 weighting, English stop words, Snowball stemming and term hashing are Qdrant's own
  (``qdrant_edge.Bm25`` with its whitespace tokenizer over our terms): document term weights are
  ``tf * (k + 1) / (tf + k * (1 - b + b * len / avg_len))`` with a fixed ``avg_len``, and the query
  gives each distinct term the weight 1. The inverse document frequency is left to the store (a sparse
  vector declared with ``Modifier.IDF``), so adding files never changes the weights already stored.

A chunk that defines a name (its chunker symbol, ``Class.method``) also gets a *defines* term per name
it defines, ``def:class.method`` and ``def:method``: a term family of its own, which no word of the
text can produce (``:`` alone is no name character). A query that is an identifier asks for these
terms too (:meth:`SparseEncoder.encode_query` with ``defines``), so the chunk that defines ``retry``
outranks the call sites, imports and tests that only mention it.

Example:
    >>> code_tokens("def getUserById(user_id):")
    ['def', 'getuserbyid', 'get', 'user', 'by', 'id', 'user_id', 'user', 'id']
    >>> code_tokens("os.path.join")
    ['os.path.join', 'os', 'path', 'join']
    >>> encoder = SparseEncoder()
    >>> q = encoder.encode_query("getUserById")
    >>> len(q.indices) == len(q.values) and len(q.indices) > 0
    True
    >>> encoder.encode_query("the of and").indices    # stop words only: no term
    []
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

#: Name of the sparse vector in the store (beside the dense spaces, which are adapter names).
SPARSE_SPACE = "bm25-code"
#: Version of the tokenizer and weighting; stored in the index metadata (an index of an older version
#: gets its sparse vectors recomputed from the stored chunks on its next index run). 2: defines terms.
SPARSE_VERSION = "2"
#: Prefix of the defines terms (see the module docstring).
DEFINES_PREFIX = "def:"

# A name: letters, digits, _ and $, optionally joined by . - / :: into a compound (a dotted path, a
# kebab-case key, a file path, a Rust/C++ path). A compound is cut at 8 parts.
_PART = r"[A-Za-z_$][A-Za-z0-9_$]*|[0-9]+[A-Za-z_][A-Za-z0-9_]*"
_NAME = re.compile(rf"(?:{_PART})(?:(?:\.|-|/|::)(?:{_PART})){{0,7}}")
_SEGMENT_SPLIT = re.compile(r"\.|-|/|::")
# camelCase / PascalCase / acronym / digit boundaries: "parseHTTPResponse2" -> parse HTTP Response 2
_CAMEL = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|[0-9]+")
#: Longest term kept (longer names are usually data: hashes, base64).
MAX_TERM_CHARS = 64


def _word_parts(segment: str) -> list[str]:
    """The snake_case and camelCase parts of one name segment (``$`` dropped), lower-cased."""
    parts: list[str] = []
    for piece in segment.replace("$", "_").split("_"):
        parts.extend(p.lower() for p in _CAMEL.findall(piece))
    return parts


def code_tokens(text: str) -> list[str]:
    """Search terms of ``text``, in order, repeats kept (term frequency counts them).

    Each compound name gives itself (if it has several segments), then each segment, then each
    segment's snake/camel parts (if it has several). Terms are lower-cased; one-letter parts of a name
    are dropped (a one-letter name is kept).

    Example:
        >>> code_tokens("ERR_STREAM_WRITE_AFTER_END")
        ['err_stream_write_after_end', 'err', 'stream', 'write', 'after', 'end']
        >>> code_tokens("load src/http/client.py")
        ['load', 'src/http/client.py', 'client.py', 'src', 'http', 'client', 'py']
        >>> code_tokens("x = 1")
        ['x']
    """
    if not isinstance(text, str):
        raise TypeError(f"text must be a string, got {type(text).__name__}")
    out: list[str] = []
    for match in _NAME.finditer(text):
        name = match.group(0)
        segments = [s for s in _SEGMENT_SPLIT.split(name) if s]
        if len(segments) > 1 and len(name) <= MAX_TERM_CHARS:
            out.append(name.lower())
        base = name.rsplit("/", 1)[-1]
        if base != name and _SEGMENT_SPLIT.search(base):  # a path's file name: "client.py"
            out.append(base.lower())
        for segment in segments:
            if len(segment) > MAX_TERM_CHARS:
                continue
            out.append(segment.lower())
            parts = _word_parts(segment)
            if len(parts) > 1 or (parts and parts[0] != out[-1]):  # "$scope" -> "scope" too
                out.extend(p for p in parts if len(p) > 1)
    return out


def defined_names(symbol: str | None) -> list[str]:
    """The names a chunk with this chunker symbol defines: the whole symbol and its last segment.

    Example:
        >>> defined_names("Retry.withBackoff")
        ['retry.withbackoff', 'withbackoff']
        >>> defined_names(None)
        []
    """
    if not symbol:
        return []
    names = [symbol.lower()]
    last = _SEGMENT_SPLIT.split(symbol)[-1].lower()
    if last and last != names[0]:
        names.append(last)
    return [n for n in names if len(n) <= MAX_TERM_CHARS]


def identifier_names(query: str) -> list[str]:
    """The names a query asks for the definition of: empty unless the query is one name.

    A query is a name when it is a single identifier, plain or compound (``parse``, ``getUserById``,
    ``MAX_RETRIES``, ``os.path.join``, ``my-config-key``): then the whole compound and each of its
    segments are names. Prose (``parse the config``) and code (``parse(config)``) ask for none.
    Plain words count too: on the dev projects, treating ``normalize`` as a name lifted the top-1
    rate of identifier queries (docs/benchmarks.md, "Hybrid search").

    Example:
        >>> identifier_names("getUserById"), identifier_names("os.path.join")
        (['getuserbyid'], ['os.path.join', 'os', 'path', 'join'])
        >>> identifier_names("parse"), identifier_names("retry the request")
        (['parse'], [])
    """
    text = query.strip()
    if _NAME.fullmatch(text) is None:
        return []
    segments = [s for s in _SEGMENT_SPLIT.split(text) if s and len(s) <= MAX_TERM_CHARS]
    names = [text.lower()] if len(segments) > 1 and len(text) <= MAX_TERM_CHARS else []
    return names + [s.lower() for s in segments]


@dataclass(frozen=True)
class SparseVector:
    """A sparse vector: term ids (sorted, distinct) and their weights.

    Example:
        >>> SparseVector([3, 7], [1.0, 0.5]).to_dict()
        {'indices': [3, 7], 'values': [1.0, 0.5]}
    """

    indices: list[int]
    values: list[float]

    def to_dict(self) -> dict[str, list[Any]]:
        """``{"indices": [...], "values": [...]}`` (the JSON shape of Qdrant's sparse vectors)."""
        return {"indices": list(self.indices), "values": list(self.values)}

    def __bool__(self) -> bool:
        return bool(self.indices)


class SparseEncoder:
    """BM25 sparse vectors of code and queries over :func:`code_tokens` terms.

    Args:
        k: BM25 term-frequency saturation (Qdrant's default 1.2).
        b: BM25 length normalisation, 0 to 1 (default 0.75).
        avg_len: The fixed average chunk length in terms that ``b`` normalises against. A constant,
            not a corpus statistic, so that no stored weight depends on the other chunks (the
            IDF is the store's). 120 is about the mean term count of a chunk of the shipped model.

    Example:
        >>> doc = SparseEncoder().encode_document("def retry(fn): return retry_with_backoff(fn)")
        >>> len(doc.indices) == len(set(doc.indices))
        True
    """

    def __init__(self, k: float = 1.2, b: float = 0.75, avg_len: float = 120.0) -> None:
        import qdrant_edge as qe

        for name, value in (("k", k), ("b", b), ("avg_len", avg_len)):
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise TypeError(f"{name} must be a number, got {value!r}")
        if not 0.0 <= b <= 1.0:
            raise ValueError(f"b must be between 0 and 1, got {b!r}")
        if k < 0:
            raise ValueError(f"k must be >= 0, got {k!r}")
        if avg_len <= 0:
            raise ValueError(f"avg_len must be > 0, got {avg_len!r}")
        self.k, self.b, self.avg_len = float(k), float(b), float(avg_len)
        config = qe.Bm25Config(k=self.k, b=self.b, avg_len=self.avg_len,
                               tokenizer=qe.TokenizerType.Whitespace, language="english",
                               max_token_len=MAX_TERM_CHARS)  # fmt: skip
        self._bm25 = qe.Bm25(config)

    @staticmethod
    def _pack(vector: Any) -> SparseVector:
        pairs = sorted(zip(vector.indices, vector.values, strict=True))
        return SparseVector([int(i) for i, _ in pairs], [float(v) for _, v in pairs])

    def encode_document(self, text: str, defines: Sequence[str] = ()) -> SparseVector:
        """The BM25 document vector of a chunk (may be empty: a chunk with no name or word).

        Args:
            text: The chunk's text (and whatever else should be searchable, such as its path).
            defines: Names the chunk defines (:func:`defined_names`): each adds its defines term.
        """
        terms = code_tokens(text) + [DEFINES_PREFIX + name for name in defines]
        return self._pack(self._bm25.embed_document(" ".join(terms)))

    def encode_documents(self, texts: Iterable[str]) -> list[SparseVector]:
        """:meth:`encode_document` of each text."""
        return [self.encode_document(t) for t in texts]

    def encode_query(self, text: str, defines: float = 0.0) -> SparseVector:
        """The query vector: weight 1 per distinct term (empty if the query has only stop words).

        Args:
            text: The query.
            defines: Weight of the defines terms of an identifier query (:func:`identifier_names`);
                0 (default) adds none.

        Example:
            >>> enc = SparseEncoder()
            >>> plain, asks = enc.encode_query("getUserById"), enc.encode_query("getUserById", defines=2.0)
            >>> len(asks.indices) - len(plain.indices), max(asks.values)
            (1, 2.0)
        """
        if isinstance(defines, bool) or not isinstance(defines, (int, float)) or defines < 0:
            raise ValueError(f"defines must be a number >= 0, got {defines!r}")
        query = self._pack(self._bm25.embed_query(" ".join(code_tokens(text))))
        names = identifier_names(text) if defines else []
        if not names:
            return query
        extra = self._pack(self._bm25.embed_query(" ".join(DEFINES_PREFIX + n for n in names)))
        weights = dict(zip(query.indices, query.values, strict=True))
        weights.update((i, float(defines)) for i in extra.indices)
        return SparseVector(sorted(weights), [weights[i] for i in sorted(weights)])

    def encode_queries(self, texts: Sequence[str]) -> list[SparseVector]:
        """:meth:`encode_query` of each text."""
        return [self.encode_query(t) for t in texts]
