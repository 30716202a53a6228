"""A small, deterministic stand-in for ``LoRACodeModel``, for tests and examples (no torch, instant).

It embeds text as a hashed bag of lower-cased word pieces (identifiers are split at ``_`` and case
changes), so texts that share words are close. Each adapter space applies its own fixed random
rotation, so vectors from two spaces are not comparable, as with real adapters. ``count_tokens``
counts whitespace-separated words.

Example:
    >>> model = FakeModel(adapters=("text2code-python",))
    >>> model.route("text2code", "python"), model.route("text2code", "go")
    ('text2code-python', None)
    >>> float(model.encode_query(["retry http"])[0] @ model.encode_code(["def retry_http(): pass"])[0]) > 0.5
    True
"""

from __future__ import annotations

import hashlib
import os
import re
import signal
import textwrap
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

_WORD = re.compile(r"[A-Za-z][a-z]*|[0-9]+")
_STOP = frozenset({"def", "return", "self", "a", "an", "the", "of", "with", "to", "in", "for", "pass"})


class FakeModel:
    """A model with ``LoRACodeModel``'s inference surface.

    Args:
        adapters: Adapter names. ``text2code-<lang>`` serves text2code for that language,
            ``code2code-<lang>`` code2code, ``text2code`` / ``code2code`` any language.
        dim: Embedding size.
        max_seq_length: Token limit (whitespace words).
        fingerprint: Override the fingerprint (default: derived from adapters and dim).
    """

    def __init__(
        self,
        adapters: Sequence[str] = (),
        dim: int = 64,
        max_seq_length: int = 128,
        fingerprint: str | None = None,
    ) -> None:
        self.adapters = list(adapters)
        self.embedding_dim = dim
        self.max_seq_length = max_seq_length
        self.fingerprint = (
            fingerprint or hashlib.sha256(f"fake|{dim}|{sorted(adapters)}".encode()).hexdigest()
        )
        self.calls: list[tuple[str, int, str | None]] = []  # (method, n_texts, adapter) for tests
        self._rotations: dict[str, np.ndarray] = {}

    def route(self, task: str = "text2code", language: str | None = None) -> str | None:
        """Language adapter, then task adapter, then ``None`` (base)."""
        if language is not None and f"{task}-{language}" in self.adapters:
            return f"{task}-{language}"
        if task in self.adapters:
            return task
        return None

    def classify_query(self, text: str) -> str:
        """``code2code`` when the text has code punctuation."""
        return "code2code" if re.search(r"[(){};=]|\bdef\b|\bfunc\b", text) else "text2code"

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        """Whitespace-separated words per text."""
        return [len(t.split()) for t in texts]

    def _embed(self, texts: Sequence[str], adapter: str | None) -> np.ndarray:
        out = np.zeros((len(texts), self.embedding_dim), dtype=np.float32)
        for row, text in enumerate(texts):
            if not isinstance(text, str):
                raise TypeError(f"texts[{row}] must be a string, got {type(text).__name__}")
            for word in _WORD.findall(text):
                word = word.lower()
                if word in _STOP:
                    continue
                h = int.from_bytes(hashlib.md5(word.encode()).digest()[:4], "little")
                out[row, h % self.embedding_dim] += 1.0
            out[row, 0] += 0.01  # never the zero vector
        if adapter is not None:
            out = out @ self._rotation(adapter)
        return out / np.linalg.norm(out, axis=1, keepdims=True)

    def _rotation(self, adapter: str) -> np.ndarray:
        if adapter not in self._rotations:
            seed = int.from_bytes(hashlib.md5(adapter.encode()).digest()[:4], "little")
            q, _ = np.linalg.qr(np.random.default_rng(seed).standard_normal((self.embedding_dim,) * 2))
            self._rotations[adapter] = q.astype(np.float32)
        return self._rotations[adapter]

    def _adapter(self, adapter: str, task: str, language: str | None) -> str | None:
        if adapter == "auto":
            return self.route(task, language)
        if adapter == "base":
            return None
        if adapter not in self.adapters:
            raise ValueError(f"Unknown adapter {adapter!r}. Available: {', '.join(self.adapters) or 'none'}")
        return adapter

    def encode_query(
        self, texts: Sequence[str], language: str | None = None, task: str = "auto", *, adapter: str = "auto",
        **_: object,
    ) -> np.ndarray:  # fmt: skip
        """Embed queries."""
        texts = list(texts)
        if task == "auto":
            task = self.classify_query(texts[0]) if texts else "text2code"
        name = self._adapter(adapter, task, language)
        self.calls.append(("encode_query", len(texts), name))
        return self._embed(texts, name)

    def encode_code(
        self, texts: Sequence[str], languages: str | Sequence[str | None] | None = None, paths: object = None,
        task: str = "text2code", *, adapter: str = "auto", **_: object,
    ) -> np.ndarray:  # fmt: skip
        """Embed code."""
        texts = list(texts)
        language = languages if isinstance(languages, str) or languages is None else languages[0]
        name = self._adapter(adapter, task, language)
        self.calls.append(("encode_code", len(texts), name))
        return self._embed(texts, name)


class CrashOnceModel(FakeModel):
    """A :class:`FakeModel` whose process is killed (``SIGKILL``, as the out-of-memory killer does) in
    the first ``encode_code`` call of any process that shares ``marker``: the file is created by the
    call that dies, so every later call, in any process, embeds normally. For the tests of retries.

    Args:
        marker: A path that must not exist yet.
        **kwargs: As :class:`FakeModel`.
    """

    def __init__(self, marker: str | Path, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.marker = str(marker)

    def encode_code(self, texts: Sequence[str], *args: Any, **kwargs: Any) -> np.ndarray:
        """Embed code, unless this is the first call: then the process dies."""
        try:
            fd = os.open(self.marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
        except FileExistsError:
            return super().encode_code(texts, *args, **kwargs)
        os.write(fd, str(os.getpid()).encode())
        os.close(fd)
        os.kill(os.getpid(), signal.SIGKILL)
        raise AssertionError("unreachable")  # pragma: no cover


# Small sample sources for tests, examples and benchmarks.
NET_PY = '''\
"""HTTP helpers."""
import time


def fetch_with_retry(url, attempts=3):
    """Retry an HTTP request with exponential backoff."""
    for attempt in range(attempts):
        try:
            return http_get(url)
        except ConnectionError:
            time.sleep(2 ** attempt)
    raise ConnectionError(url)


class Cache:
    """A small in-memory cache."""

    def get(self, key):
        return self.data.get(key)

    def put(self, key, value):
        self.data[key] = value
'''

PARSE_PY = '''\
import json


def parse_config(text):
    """Parse a JSON configuration string into a dict."""
    return json.loads(text)


def sort_pairs(pairs):
    return sorted(pairs, key=lambda p: p[1])
'''

MAIN_GO = """\
package main

import "strings"

// ReverseWords reverses the order of words in a sentence.
func ReverseWords(s string) string {
	words := strings.Fields(s)
	for i, j := 0, len(words)-1; i < j; i, j = i+1, j-1 {
		words[i], words[j] = words[j], words[i]
	}
	return strings.Join(words, " ")
}
"""


def write_tree(root: Path, files: dict[str, str | bytes]) -> Path:
    """Write ``{relative path: content}`` under ``root``."""
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(textwrap.dedent(content), encoding="utf-8")
    return root
