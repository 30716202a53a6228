"""The record types every evaluation set is read into.

A :class:`Pair` is one query with its gold code; an :class:`EvalSet` is a named list of pairs plus an
optional extra candidate corpus. Each query's only relevant candidate is its own ``code``; the
candidates of a set are all pair codes plus the corpus, deduplicated by exact code text.

Example:
    >>> from loracode_embed.evaluation.records import EvalSet, Pair
    >>> p = Pair(query="add two numbers", code="def add(a, b):\\n    return a + b", language="python",
    ...          source="example", id="ex-0")
    >>> s = EvalSet(name="tiny", pairs=[p], corpus=["def sub(a, b):\\n    return a - b"], task="text2code")
    >>> len(s.candidate_codes())
    2
"""

from __future__ import annotations

from dataclasses import dataclass, field

TASKS: tuple[str, ...] = ("text2code", "code2code")


@dataclass(frozen=True)
class Pair:
    """One query and its gold code.

    Attributes:
        query: The query text (natural language for text2code, code for code2code).
        code: The gold code; it is also a retrieval candidate.
        language: Canonical language id of ``code`` (see :mod:`loracode_embed.languages`).
        source: Where the pair comes from, e.g. ``"cosqa-retrieval-test"``.
        id: An identifier unique within its source.
        query_language: Language of the query when it is code in another language (code2code across
            languages, e.g. Java -> C#); ``None`` means the same as ``language``.
    """

    query: str
    code: str
    language: str
    source: str
    id: str
    query_language: str | None = None

    def __post_init__(self) -> None:
        for name in ("query", "code", "language", "source", "id"):
            value = getattr(self, name)
            if not isinstance(value, str):
                raise TypeError(f"Pair.{name} must be a str, got {type(value).__name__}: {value!r:.80}")
        if self.query_language is not None and not isinstance(self.query_language, str):
            raise TypeError(
                f"Pair.query_language must be a str or None, got {type(self.query_language).__name__}"
            )

    @property
    def query_lang(self) -> str:
        """The language hint for the query: ``query_language`` if set, else ``language``."""
        return self.query_language or self.language


@dataclass(frozen=True)
class EvalSet:
    """A named retrieval evaluation set.

    Attributes:
        name: Set name, e.g. ``"cosqa-test"``.
        pairs: The queries with their gold codes.
        corpus: Extra candidates beyond the pair codes (``Pair`` or bare code strings), or ``None``.
        task: ``"text2code"`` or ``"code2code"``.
        corpus_language: Language of bare-string corpus items; ``None`` means the pairs' code language
            when all pairs share one, else unknown.
        notes: Free-text facts about how the set was built (logged and shown by ``loracode eval``).
    """

    name: str
    pairs: list[Pair]
    corpus: list[Pair | str] | None = None
    task: str = "text2code"
    corpus_language: str | None = None
    notes: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        if self.task not in TASKS:
            raise ValueError(f"EvalSet.task must be one of {TASKS}, got {self.task!r}")
        for i, pair in enumerate(self.pairs):
            if not isinstance(pair, Pair):
                raise TypeError(f"EvalSet.pairs[{i}] must be a Pair, got {type(pair).__name__}")
        for i, item in enumerate(self.corpus or ()):
            if not isinstance(item, (Pair, str)):
                raise TypeError(f"EvalSet.corpus[{i}] must be a Pair or str, got {type(item).__name__}")

    def languages(self) -> list[str]:
        """Sorted code languages of the pairs."""
        return sorted({p.language for p in self.pairs})

    def _bare_corpus_language(self) -> str | None:
        if self.corpus_language is not None:
            return self.corpus_language
        langs = {p.language for p in self.pairs}
        return next(iter(langs)) if len(langs) == 1 else None

    def candidates(self) -> list[tuple[str, str | None]]:
        """All candidates as ``(code, language)``: pair codes first, then the corpus; deduplicated by code.

        The first occurrence of a code text fixes its language.
        """
        seen: dict[str, str | None] = {}
        for pair in self.pairs:
            seen.setdefault(pair.code, pair.language)
        bare_lang = self._bare_corpus_language()
        for item in self.corpus or ():
            if isinstance(item, Pair):
                seen.setdefault(item.code, item.language)
            else:
                seen.setdefault(item, bare_lang)
        return list(seen.items())

    def candidate_codes(self) -> list[str]:
        """The deduplicated candidate code texts, in :meth:`candidates` order."""
        return [code for code, _ in self.candidates()]

    def filter_language(self, language: str) -> EvalSet:
        """The same set restricted to pairs (and corpus items) whose code language is ``language``.

        Bare-string corpus items are kept only when their language (see ``corpus_language``) matches.
        """
        pairs = [p for p in self.pairs if p.language == language]
        corpus: list[Pair | str] | None = None
        if self.corpus is not None:
            bare_lang = self._bare_corpus_language()
            corpus = [
                c
                for c in self.corpus
                if (c.language == language if isinstance(c, Pair) else bare_lang == language)
            ]
        return EvalSet(
            name=self.name if len(pairs) == len(self.pairs) else f"{self.name}[{language}]",
            pairs=pairs,
            corpus=corpus,
            task=self.task,
            corpus_language=self.corpus_language if self.corpus_language == language else None,
            notes=self.notes,
        )

    def limit(self, n: int) -> EvalSet:
        """The first ``n`` pairs (the corpus is kept whole). For quick runs only, not reported numbers."""
        if n < 1:
            raise ValueError(f"limit must be >= 1, got {n}")
        return EvalSet(
            name=self.name,
            pairs=self.pairs[:n],
            corpus=self.corpus,
            task=self.task,
            corpus_language=self.corpus_language,
            notes=(*self.notes, f"limited to the first {n} queries: not for reported numbers"),
        )
