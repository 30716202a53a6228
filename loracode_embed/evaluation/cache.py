"""An on-disk cache of candidate embeddings, so sets that share a corpus encode it once.

CoSQA dev and test rank against the same 6,267 functions; with ``loracode eval --cache-dir DIR`` the second
run reads their vectors instead of encoding them again. One cache file holds the vectors of one model
(its ``fingerprint``: base weights, adapters and manifest); inside it a vector is found by the SHA-256 of
the adapter that encoded it (``"base"`` or a bundle adapter's name, as routed), its language and its
text, so runs of different tasks share the vectors of the adapter they have in common. A cache never
changes a result: the vectors are the ones the same model and adapter produced for the same text.

Example:
    >>> import tempfile, numpy as np
    >>> cache = EmbeddingCache(tempfile.mkdtemp(), "fp")
    >>> cache.put(["def f(): pass"], ["python"], ["base"], np.ones((1, 3), np.float32))
    >>> cache.save()
    >>> again = EmbeddingCache(cache.path.parent, "fp")
    >>> found, vecs = again.get(["def f(): pass"], ["python"], ["base"])
    >>> found.tolist(), vecs.shape
    ([True], (1, 3))
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

logger = logging.getLogger(__name__)


def text_key(text: str, language: str | None, adapter: str) -> str:
    """The cache key of one text: SHA-256 of ``adapter`` NUL ``language`` NUL ``text``."""
    return hashlib.sha256(f"{adapter}\0{language or ''}\0{text}".encode()).hexdigest()


class EmbeddingCache:
    """Vectors of one model, stored in ``<directory>/<hash of the fingerprint>.npz``."""

    def __init__(self, directory: str | os.PathLike[str], fingerprint: str) -> None:
        if not isinstance(fingerprint, str) or not fingerprint:
            raise ValueError("an embedding cache needs the model's fingerprint (a non-empty str)")
        name = hashlib.sha256(fingerprint.encode()).hexdigest()[:24]
        self.path = Path(directory) / f"{name}.npz"
        self._vectors: dict[str, np.ndarray] = {}
        self._dirty = False
        if self.path.is_file():
            with np.load(self.path, allow_pickle=False) as data:
                for key, vec in zip(data["keys"].tolist(), data["vectors"], strict=True):
                    self._vectors[key] = vec
            logger.info("embedding cache %s: %d vectors", self.path, len(self._vectors))

    def __len__(self) -> int:
        return len(self._vectors)

    def get(
        self, texts: Sequence[str], languages: Sequence[str | None], adapters: Sequence[str]
    ) -> tuple[np.ndarray, np.ndarray | None]:
        """``(found mask, vectors)``; rows of texts not found are zeros (``None`` when the cache is empty)."""
        keys = [text_key(t, lang, a) for t, lang, a in zip(texts, languages, adapters, strict=True)]
        found = np.array([k in self._vectors for k in keys], dtype=bool)
        if not self._vectors:
            return found, None
        dim = next(iter(self._vectors.values())).shape[0]
        out = np.zeros((len(keys), dim), dtype=np.float32)
        for i, key in enumerate(keys):
            if found[i]:
                out[i] = self._vectors[key]
        return found, out

    def put(
        self,
        texts: Sequence[str],
        languages: Sequence[str | None],
        adapters: Sequence[str],
        vectors: np.ndarray,
    ) -> None:
        """Remember the vectors of ``texts`` (encoded by ``adapters``, one per text)."""
        rows = zip(texts, languages, adapters, np.asarray(vectors, dtype=np.float32), strict=True)
        for text, lang, adapter, vec in rows:
            self._vectors[text_key(text, lang, adapter)] = vec
            self._dirty = True

    def save(self) -> None:
        """Write the cache file (atomically) if anything was added."""
        if not self._dirty:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        keys = np.array(list(self._vectors), dtype="<U64")
        vectors = np.stack(list(self._vectors.values())).astype(np.float32)
        tmp = self.path.with_name(self.path.name + ".tmp.npz")
        np.savez(tmp, keys=keys, vectors=vectors)
        os.replace(tmp, self.path)
        self._dirty = False
