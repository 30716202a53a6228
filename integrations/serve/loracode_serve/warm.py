"""``WarmIndex``: one model, its adapters and one code index, held open for many requests.

The HTTP routes (:mod:`loracode_serve.http`), the MCP tools (:mod:`loracode_serve.mcp_tools`) and the
watcher (:mod:`loracode_serve.watch`) all go through one ``WarmIndex``. It is the only writer of its index:
it takes the embedded store's lock when it opens and keeps it until :meth:`WarmIndex.close`, so a
``loracode index`` on the same tree cannot write beside it (it asks the server to re-index instead).

Threads: requests run on worker threads. The model is thread-safe (``LoRACodeModel`` switches adapters
under its own lock). The store is wrapped so that each call to Qdrant Edge runs under one lock, so a
search can run while a re-index is embedding, and waits only for the store call in progress. Re-indexing
runs one at a time (:meth:`WarmIndex.refresh`).

Example:
    >>> import tempfile, pathlib
    >>> from loracode_qdrant.testing import FakeModel
    >>> root = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (root / "net.py").write_text("def fetch_with_retry(url):\\n    return retry(http_get, url)\\n")
    >>> warm = WarmIndex(root, model=FakeModel())
    >>> warm.refresh().added
    1
    >>> [hit.symbol for hit in warm.search("retry http get", k=1)]
    ['fetch_with_retry']
    >>> warm.search("retry", path_glob="../*")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    loracode_serve.limits.RequestError: path_glob must stay inside the indexed tree ('..' is not allowed)...
    >>> warm.close()
"""

from __future__ import annotations

import functools
import logging
import os
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path, PurePosixPath
from typing import Any

import numpy as np
from loracode_qdrant.defaults import SEARCH_MODES as _SEARCH_MODES
from loracode_qdrant.index import DEFAULT_INDEX_DIRNAME, CodeIndex, Hit, IndexSummary
from loracode_qdrant.server_link import find_server
from loracode_qdrant.store import EdgeStore, StoreLockedError

from loracode_serve.limits import (
    Limits,
    RequestError,
    check_choice,
    check_inputs,
    check_k,
    check_language,
    check_path_globs,
    check_text,
)

logger = logging.getLogger(__name__)

#: Prefix of the model names served by ``/v1/models`` and accepted by ``/v1/embeddings``.
MODEL_PREFIX = "loracode/"
#: The indexer's search modes (``auto``, ``per-language``, ``unified``, ``hybrid``, ``sparse``).
SEARCH_MODES: tuple[str, ...] = _SEARCH_MODES
SEARCH_TASKS = ("auto", "text2code", "code2code")
INPUT_TYPES = ("query", "document")


def _serialized(name: str) -> Callable[..., Any]:
    method = getattr(EdgeStore, name)

    @functools.wraps(method)
    def call(self: SerialEdgeStore, *args: Any, **kwargs: Any) -> Any:
        with self.call_lock:
            return method(self, *args, **kwargs)

    return call


class SerialEdgeStore(EdgeStore):
    """An :class:`EdgeStore` whose calls run one at a time, so request threads and a re-index can share it.

    ``scroll`` reads its records under the lock and returns them as a list iterator.
    """

    def __init__(self, path: str | os.PathLike[str], *, read_only: bool = False) -> None:
        super().__init__(path, read_only=read_only)
        self.call_lock = threading.RLock()

    def scroll(self, record: str, fields: Sequence[str] | None = None) -> Iterator[Any]:
        with self.call_lock:
            return iter(list(super().scroll(record, fields)))


for _name in (
    "acquire",
    "open",
    "exists",
    "read_meta",
    "write_meta",
    "upsert",
    "delete_ids",
    "delete_path_except",
    "delete_paths_not_in",
    "retrieve",
    "vectors_by_hash",
    "search",
    "search_many",
    "count",
    "flush",
    "optimize",
    "close",
):
    setattr(SerialEdgeStore, _name, _serialized(_name))


class WarmIndex:
    """A model and the index of one tree, open for searching, embedding and re-indexing.

    Args:
        root: The tree served. Results only name files inside it.
        model: A ``LoRACodeModel`` (default: the packaged default bundle, ``dtype="auto"``).
        index_dir: The embedded index folder (default ``<root>/.loracode``).
        limits: Request limits (:class:`~loracode_serve.limits.Limits`).
        first_index_timeout: Seconds a search waits for the first :meth:`refresh` after start
            (results then reflect the tree as it is now, not as the last run left it).
        max_file_bytes: Larger files are not indexed.
        batch_size: Chunks per embedding batch while indexing.

    Raises:
        StoreLockedError: another process (a ``loracode index`` run, another server) holds the index.
        ValueError: the index was built with another model or chunker (rebuild it with
            ``loracode index --rebuild``).
    """

    def __init__(
        self,
        root: str | os.PathLike[str],
        *,
        model: Any = None,
        index_dir: str | os.PathLike[str] | None = None,
        limits: Limits | None = None,
        first_index_timeout: float = 600.0,
        max_file_bytes: int = 1_000_000,
        batch_size: int = 64,
    ) -> None:
        self.root = Path(root).expanduser().resolve()
        if not self.root.is_dir():
            raise FileNotFoundError(f"root: no such folder to serve: {str(root)!r}")
        self.index_dir = (
            Path(index_dir).expanduser().resolve()
            if index_dir is not None
            else self.root / DEFAULT_INDEX_DIRNAME
        )
        self.limits = limits or Limits()
        self.first_index_timeout = first_index_timeout
        self.watching = False
        self.state = "starting"
        self.last_summary: IndexSummary | None = None
        self.last_error: str | None = None
        self.refreshes = 0
        self.started = time.time()
        self._refresh_lock = threading.Lock()
        self._first_index = threading.Event()
        self.store = SerialEdgeStore(self.index_dir)
        try:
            self.store.acquire()  # before loading the model: a held index fails at once
        except StoreLockedError as exc:
            server = find_server(self.index_dir)
            if server is not None:
                raise StoreLockedError(
                    f"The index at {self.index_dir} is already served by pid {server.pid} at {server.url}; "
                    "use that server, or stop it first."
                ) from exc
            raise
        if model is None:
            from loracode_embed import LoRACodeModel

            model = LoRACodeModel.from_pretrained(dtype="auto")
        self.model = model
        self.code_index = CodeIndex(
            self.root,
            model=model,
            store=self.store,
            index_dir=self.index_dir,
            max_file_bytes=max_file_bytes,
            batch_size=batch_size,
            show_progress=False,
            query_threads=None,
        )
        try:
            self.code_index._open(for_write=True)  # checks the stored model/chunker before any request
        except Exception:
            self.store.close()
            raise

    # ------------------------------------------------------------------ writing
    def refresh(self) -> IndexSummary:
        """Re-index the tree incrementally (only changed files are re-embedded); one run at a time.

        Deleted, renamed and newly ignored files leave the index. A failed run leaves the index as the
        store's write order guarantees (see ``loracode_qdrant.index``) and is reported by :meth:`status`.
        """
        with self._refresh_lock:
            self.state = "indexing"
            try:
                summary = self.code_index.index()
            except Exception as exc:
                self.state = "error"
                self.last_error = f"{type(exc).__name__}: {exc}"
                logger.exception("Re-indexing %s failed", self.root)
                raise
            finally:
                self._first_index.set()
            self.last_summary = summary
            self.last_error = None
            self.refreshes += 1
            self.state = "ready"
            return summary

    # ------------------------------------------------------------------ reading
    def _wait_first_index(self) -> None:
        if not self._first_index.wait(self.first_index_timeout):
            raise RequestError(
                None,
                f"The index of {self.root} is still being built; retry shortly",
                status=503,
                code="index_not_ready",
            )

    def search(
        self,
        query: Any,
        *,
        k: Any = None,
        language: Any = None,
        path_glob: Any = None,
        mode: Any = "auto",
        task: Any = "auto",
        field: str = "query",
    ) -> list[Hit]:
        """Search the tree; every argument is checked first (:class:`RequestError` names the bad one).

        Args:
            query: Natural-language text or code (its type is detected unless ``task`` says).
            k: Hits wanted (1 to ``limits.max_k``; default 10, or ``max_k`` if lower).
            language: Only this language, searched in its adapter's space.
            path_glob: A glob or list of globs relative to the tree (``src/**/*.py``).
            mode: ``"auto"`` (hybrid where the index has sparse vectors, else per-language), or another
                of the indexer's :data:`SEARCH_MODES`.
            task: ``"auto"``, ``"text2code"`` or ``"code2code"``.
            field: The name the query has in the caller's API (for error messages).

        Returns:
            Hits whose file still resolves inside the tree (a file replaced by a symlink out of the tree,
            or deleted since it was indexed, is left out).
        """
        query = check_text(query, field, self.limits)
        k = check_k(min(10, self.limits.max_k) if k is None else k, self.limits)
        language = check_language(language)
        globs = check_path_globs(path_glob, self.limits)
        mode = check_choice(mode, "mode", SEARCH_MODES)
        task = check_choice(task, "task", SEARCH_TASKS)
        self._wait_first_index()
        hits = self.code_index.search(query, language=language, k=k, path_glob=globs, task=task, mode=mode)
        return [hit for hit in hits if self.inside_tree(hit.path)]

    def find_similar(self, code: Any, *, language: Any = None, k: Any = None) -> list[Hit]:
        """Code like ``code`` (a code-to-code search)."""
        return self.search(code, k=k, language=language, task="code2code", field="code")

    def inside_tree(self, path: str) -> bool:
        """Whether ``path`` (relative to the root) names a file that resolves inside the tree.

        Example:
            >>> import tempfile
            >>> from loracode_qdrant.testing import FakeModel
            >>> warm = WarmIndex(tempfile.mkdtemp(), model=FakeModel())
            >>> warm.inside_tree("../etc/passwd"), warm.inside_tree("missing.py")
            (False, False)
            >>> warm.close()
        """
        rel = PurePosixPath(path)
        if rel.is_absolute() or ".." in rel.parts:
            return False
        try:
            real = (self.root / rel).resolve(strict=True)
        except (OSError, RuntimeError):
            return False
        return real.is_file() and real.is_relative_to(self.root)

    # ------------------------------------------------------------------ embedding
    def model_names(self) -> list[str]:
        """Names for ``/v1/models``: ``loracode/auto`` (routed), ``loracode/base`` and one per adapter."""
        return [
            f"{MODEL_PREFIX}auto",
            f"{MODEL_PREFIX}base",
            *(MODEL_PREFIX + a for a in self.model.adapters),
        ]

    def _adapter_for(self, name: Any) -> str:
        if not isinstance(name, str) or not name:
            raise RequestError("model", f"model must be a model name such as 'loracode/auto', got {name!r}")
        bare = name[len(MODEL_PREFIX) :] if name.startswith(MODEL_PREFIX) else name
        if bare in ("auto", "base") or bare in self.model.adapters:
            return bare
        raise RequestError(
            "model",
            f"Unknown model {name!r}. Available: {', '.join(self.model_names())}",
            status=404,
            code="model_not_found",
        )

    def _adapter_task(self, adapter: str) -> str | None:
        entry = getattr(self.model, "manifest", None)
        entry = entry.adapters.get(adapter) if entry is not None else None
        return getattr(entry, "task", None)

    def embed(
        self,
        texts: Any,
        *,
        model: Any = "loracode/auto",
        input_type: Any = "document",
        language: Any = None,
        task: Any = None,
    ) -> np.ndarray:
        """Embed texts as the in-process API does: one row per text, float32, L2-normalised.

        Args:
            texts: A string or a list of strings (``limits.max_inputs`` at most).
            model: ``loracode/auto`` routes by ``input_type``, ``task`` and ``language``;
                ``loracode/base`` is the backbone alone; ``loracode/<adapter>`` forces that adapter.
            input_type: ``"query"`` (``encode_query``) or ``"document"`` (``encode_code``).
            language: The code's (or the searched code's) language, for routing and language adapters.
            task: ``"text2code"`` or ``"code2code"``; for ``query`` also ``"auto"`` (detect). With a named
                adapter it must be that adapter's task, or be left out.

        Example:
            >>> import tempfile
            >>> from loracode_qdrant.testing import FakeModel
            >>> warm = WarmIndex(tempfile.mkdtemp(), model=FakeModel(adapters=("text2code-python",)))
            >>> warm.embed(["def f(): pass"], model="loracode/text2code-python").shape
            (1, 64)
            >>> warm.close()
        """
        texts = check_inputs(texts, self.limits)
        adapter = self._adapter_for(model)
        input_type = check_choice(input_type, "input_type", INPUT_TYPES)
        language = check_language(language)
        if task is not None:
            choices = SEARCH_TASKS if input_type == "query" else SEARCH_TASKS[1:]
            task = check_choice(task, "task", choices)
        if adapter == "auto":
            if input_type == "query":
                return self.model.encode_query(texts, language=language, task=task or "auto")
            return self.model.encode_code(texts, languages=language, task=task or "text2code")
        own = self._adapter_task(adapter)
        if task is not None and own is not None and task != own:
            raise RequestError("task", f"task {task!r} conflicts with model {model!r}, whose task is {own!r}")
        fixed = own or (task if task in ("text2code", "code2code") else "text2code")
        if input_type == "query":
            return self.model.encode_query(texts, language=language, task=fixed, adapter=adapter)
        return self.model.encode_code(texts, languages=language, task=fixed, adapter=adapter)

    def count_tokens(self, texts: list[str]) -> int:
        """Tokens of ``texts`` (for the ``usage`` field); 0 for a model that cannot count."""
        count = getattr(self.model, "count_tokens", None)
        return int(sum(count(texts))) if count is not None else 0

    # ------------------------------------------------------------------ status
    def status(self) -> dict[str, Any]:
        """What is served and how current it is (JSON-ready)."""
        meta = self.code_index._meta or {}
        summary = self.last_summary.to_dict() if self.last_summary is not None else None
        return {
            "root": str(self.root),
            "index_dir": str(self.index_dir),
            "state": self.state,
            "watching": self.watching,
            "pid": os.getpid(),
            "languages": list(meta.get("languages", [])),
            "files": self.store.count("file"),
            "chunks": self.store.count("chunk"),
            "refreshes": self.refreshes,
            "last_index": summary,
            "last_error": self.last_error,
            "model": {
                "fingerprint": getattr(self.model, "fingerprint", None),
                "adapters": list(self.model.adapters),
                "embedding_dim": int(self.model.embedding_dim),
                "models": self.model_names(),
            },
            "limits": {
                "max_inputs": self.limits.max_inputs,
                "max_chars": self.limits.max_chars,
                "max_k": self.limits.max_k,
            },
            "uptime_s": round(time.time() - self.started, 1),
        }

    def close(self) -> None:
        """Release the index (its lock) and stop the model's workers, if it has any."""
        with self._refresh_lock:
            self.code_index.close()
            self.store.close()
        close = getattr(self.model, "close", None)
        if callable(close):
            close()

    def __enter__(self) -> WarmIndex:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
