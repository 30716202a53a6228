"""``CodeIndex``: index a source tree into a Qdrant store, and search it.

Indexing one tree (``CodeIndex.index``):

1. Open the store and check its metadata *before any write*: a store built with another model
   fingerprint, embedding size or chunker version is refused with a message that says why.
2. Walk the tree (:mod:`loracode_qdrant.walk`) and read the file records already stored.
3. For each file whose hash (of its bytes and language) matches its record: nothing to do. For the
   others: chunk it, derive point ids from content (:mod:`loracode_qdrant.ids`), take vectors from
   stored points with the same id (the unchanged functions of an edited file) or the same content
   hash and language (a renamed or copied file), embed only the rest, then per file, in this order:
   upsert its chunks, delete the file's other chunks, upsert its file record. The record is the
   "done" mark; a kill before it leaves the file to be redone next run, and a kill after it leaves
   nothing missing (Qdrant Edge's write-ahead log applies updates in order).
4. Delete every chunk and file record whose path was not indexed this run (deleted, renamed, newly
   ignored or newly skipped files), flush, and build the HNSW index.

Embedding spaces: a chunk of language ``L`` is stored with one named vector per distinct space among
the kinds the index stores (``CodeIndex(spaces=...)``, recorded in the metadata as ``space_kinds``):
``"language"``, ``model.route("text2code", L)``, always; ``"unified"``, ``model.route("text2code",
None)``; ``"code2code"``, ``model.route("code2code", L)`` (``None``, the base model, is the space
``"base"``). A new index stores the language space alone (one embedding per chunk); an index built
before the choice existed has all three and keeps them. With a bundle without adapters every kind is
the one space ``"base"``.

Searching (``CodeIndex.search``): the query type is detected (text2code or code2code) unless given.
With a language, the query is embedded for that language's space and searched there with a language
filter. Without one (``mode="per-language"``), the indexed languages are grouped by the space they
route to, each group is searched in its space with a filter on its languages, and the lists are fused
by reciprocal rank fusion (:mod:`loracode_qdrant.fusion`). ``mode="unified"`` searches the unified
space (``route(task, None)``) with no language filter instead. A space the index does not store is
replaced by the language's text2code space (a code2code query in an index without the code2code
space: the query code is embedded as code of that language); ``mode="unified"`` needs the unified
space stored for every language searched, and says so when it is not.

Example:
    >>> import tempfile, pathlib
    >>> from loracode_qdrant.testing import FakeModel
    >>> root = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (root / "net.py").write_text("def fetch_with_retry(url):\\n    return retry(http_get, url)\\n")
    >>> index = CodeIndex(root, model=FakeModel())
    >>> index.index().added
    1
    >>> index.search("retry http get", k=1)[0].symbol
    'fetch_with_retry'
    >>> index.close()
"""

from __future__ import annotations

import contextlib
import fnmatch
import hashlib
import logging
import os
import shutil
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from loracode_qdrant import hybrid
from loracode_qdrant.chunking import CHUNKER_VERSION, Chunk, Chunker
from loracode_qdrant.defaults import DEFAULT_BATCH_SIZE, DEFAULT_INDEX_DIRNAME, SEARCH_MODES
from loracode_qdrant.fusion import reciprocal_rank_fusion
from loracode_qdrant.heap import release_free_heap
from loracode_qdrant.hits import Hit
from loracode_qdrant.ids import chunk_ids_for_file, file_point_id
from loracode_qdrant.runlog import RunRecord, read_run_file, write_run_file
from loracode_qdrant.spaces import DEFAULT_SPACE_KINDS, SPACE_KINDS, check_space_kinds, stored_space_kinds
from loracode_qdrant.store import EdgeStore, Store, StoredHit, StoredPoint, StoreLockedError
from loracode_qdrant.walk import DEFAULT_MAX_FILE_BYTES, SkipFile, SourceFile, read_source, walk_tree

logger = logging.getLogger(__name__)

#: Version of the payload layout; part of the store metadata.
STORE_FORMAT = 1
TASKS = ("text2code", "code2code")
#: Chunks fetched per hit wanted, before parts of one definition are grouped into one hit.
GROUP_FETCH = 3
#: Batches of chunks per embedding call of an index run (512 chunks at the default batch size): a
#: longer call sorts more chunks by length (less padding; loracode_embed/batching.py) and folds each
#: adapter into the weights fewer times (merged_adapters.py); files are written after each call, so a
#: kill loses at most this much embedding work.
CALL_BATCHES = 16
_TOKEN_MARGIN = 0  # count_tokens already counts [CLS] and [SEP]


@dataclass
class IndexSummary:
    """What one ``index`` run did.

    Attributes:
        root: The indexed folder.
        store: Where the store lives.
        files: Files chosen by the walk.
        added: Files indexed for the first time.
        updated: Files whose content changed and were re-indexed.
        unchanged: Files skipped because their stored record matches (no embedding).
        deleted: Paths removed from the store (deleted, renamed, newly ignored or skipped files).
        skipped: Files and folders left out, by reason (``binary``, ``too-large``, ``symlink``...).
        skipped_files: Each file or folder left out: ``{"path": ..., "reason": ...}`` (a folder ends
            with ``/``).
        chunks_embedded: Chunks embedded by the model this run.
        chunks_reused: Chunks whose vectors were copied from the store (same id or content).
        chunks_total: Chunks in the store at the end.
        lossy_utf8: Files indexed with invalid UTF-8 replaced by U+FFFD.
        transcoded_utf16: UTF-16 files (with a byte-order mark) indexed after transcoding to UTF-8.
        seconds: Wall-clock time of the run.
    """

    root: str
    store: str
    files: int = 0
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    deleted: int = 0
    skipped: dict[str, int] = field(default_factory=dict)
    skipped_files: list[dict[str, str]] = field(default_factory=list)
    chunks_embedded: int = 0
    chunks_reused: int = 0
    chunks_total: int = 0
    lossy_utf8: int = 0
    transcoded_utf16: int = 0
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return asdict(self)


@dataclass
class IndexStatus:
    """What an index holds and how its last run went (``loracode status``); reading it loads no model.

    Attributes:
        store: Where the store lives.
        root: The indexed tree (from the metadata), or ``None``.
        readable: Whether the contents could be read (not while an index run holds the embedded store).
        unreadable_reason: Why not, when ``readable`` is false.
        files: Indexed files (their "done" records).
        chunks: Stored chunks.
        languages: Languages of the indexed files.
        spaces: Embedding spaces (named vectors) the store declares.
        space_kinds: Which of them a chunk is stored in (:mod:`loracode_qdrant.spaces`).
        model_fingerprint: The model the vectors came from.
        adapters: Its adapters.
        store_bytes: Disk space the embedded store uses (``None`` for a server).
        last_run: The last index run's record (``None``: not recorded).
        in_progress: An index run is going on now.
        incomplete: The last run stopped (killed or failed) before it finished.
    """

    store: str
    root: str | None = None
    readable: bool = True
    unreadable_reason: str | None = None
    files: int = 0
    chunks: int = 0
    languages: list[str] = field(default_factory=list)
    spaces: list[str] = field(default_factory=list)
    space_kinds: list[str] = field(default_factory=list)
    model_fingerprint: str | None = None
    adapters: list[str] = field(default_factory=list)
    store_bytes: int | None = None
    last_run: RunRecord | None = None
    in_progress: bool = False
    incomplete: bool = False

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (``last_run`` as a dict, with its ``duration``)."""
        data = asdict(self)
        if self.last_run is not None:
            data["last_run"] = {**self.last_run.to_dict(), "duration": self.last_run.duration}
        return data


def space_name(adapter: str | None) -> str:
    """The named vector for an adapter (``None``, the base model, is ``"base"``)."""
    return adapter if adapter is not None else "base"


def code_spaces(
    model: Any, language: str | None, kinds: Sequence[str] = SPACE_KINDS
) -> dict[str, tuple[str, str | None]]:
    """The spaces a chunk of ``language`` is stored in: ``{space: (task, adapter)}``, deduplicated.

    ``kinds``: which of :data:`SPACE_KINDS` the index stores (default: all three).

    Example:
        >>> from loracode_qdrant.testing import FakeModel
        >>> sorted(code_spaces(FakeModel(), "python"))
        ['base']
        >>> model = FakeModel(adapters=("text2code-python", "text2code", "code2code"))
        >>> sorted(code_spaces(model, "python"))
        ['code2code', 'text2code', 'text2code-python']
        >>> sorted(code_spaces(model, "python", ["language"]))
        ['text2code-python']
    """
    routes = {"language": ("text2code", language), "unified": ("text2code", None),
              "code2code": ("code2code", language)}  # fmt: skip
    spaces: dict[str, tuple[str, str | None]] = {}
    for kind in SPACE_KINDS:
        if kind in kinds:
            task, lang = routes[kind]
            adapter = model.route(task, lang)
            spaces.setdefault(space_name(adapter), (task, adapter))
    return spaces


def _holders(model: Any, space: str, indexed: list[str], kinds: Sequence[str]) -> set[str]:
    """The indexed languages whose chunks have a vector in ``space`` (e.g. ``{"go"}`` for text2code-go)."""
    return {lang for lang in indexed if space in code_spaces(model, lang, kinds)}


def search_adapter(
    model: Any, task: str, language: str | None, kinds: Sequence[str], indexed: Sequence[str]
) -> str | None:
    """The adapter (and so the space) a ``task`` query for ``language`` is searched with.

    Its own route (``model.route(task, language)``) where the index stores that space, else the
    language's text2code space (``language=None``, the unified search: the unified text2code space);
    ``language=None`` needs the space stored for every language in ``indexed``.

    Raises:
        ValueError: ``language=None`` and no candidate space is stored for every indexed language.

    Example:
        >>> from loracode_qdrant.testing import FakeModel
        >>> model = FakeModel(adapters=("text2code-python", "text2code", "code2code"))
        >>> search_adapter(model, "code2code", "python", ["language"], ["python"])
        'text2code-python'
        >>> search_adapter(model, "code2code", "python", ["language", "code2code"], ["python"])
        'code2code'
    """
    for candidate_task in dict.fromkeys((task, "text2code")):
        adapter = model.route(candidate_task, language)
        space = space_name(adapter)
        if language is not None:
            if space in code_spaces(model, language, kinds):
                return adapter
        elif _holders(model, space, list(indexed), kinds) >= set(indexed):
            return adapter
    raise ValueError(
        f"This index does not store the unified space {space_name(model.route(task, None))!r} for every "
        f"language (it stores: {', '.join(kinds)}), so mode='unified' cannot search it. Search with "
        "another mode (the default hybrid, or per-language), or rebuild the index with `loracode index "
        "--spaces all --rebuild` (CodeIndex(spaces='all')) to store it."
    )


#: A file to (re-)index: the file, its hash, its chunks and their point ids.
PlannedFile = tuple[SourceFile, str, list[Chunk], list[str]]
#: Vectors by (file, chunk) position, then space.
Vectors = dict[tuple[int, int], dict[str, list[float]]]
#: Chunks to embed: ``(space, task, adapter, language) -> [(file, chunk, text), ...]``.
EmbedTodo = dict[tuple[str, str, str | None, str], list[tuple[int, int, str]]]


@dataclass
class PreparedFile:
    """A walked file after reading, hashing and chunking (:func:`prepare_file`).

    Attributes:
        file: The walked file.
        state: ``"added"``, ``"updated"``, ``"unchanged"`` (its stored record matches) or ``"skipped"``.
        reason: Why it was skipped (``binary``, ``chunker-error``...).
        file_hash: Hash of its language and bytes (``""``: not read).
        chunks: Its chunks (added or updated files).
        ids: Their point ids.
        lossy: Indexed with invalid UTF-8 replaced.
        transcoded: Indexed after transcoding from UTF-16.
    """

    file: SourceFile
    state: str
    reason: str = ""
    file_hash: str = ""
    chunks: list[Chunk] = field(default_factory=list)
    ids: list[str] = field(default_factory=list)
    lossy: bool = False
    transcoded: bool = False


def prepare_file(
    file: SourceFile, record: dict[str, Any] | None, chunker: Chunker, max_file_bytes: int
) -> PreparedFile:
    """Read, hash and (unless its stored ``record`` has the same hash) chunk one file; no model work.

    Example:
        >>> import tempfile, pathlib
        >>> from loracode_qdrant.testing import FakeModel
        >>> p = pathlib.Path(tempfile.mkdtemp()) / "a.py"
        >>> _ = p.write_text("def f():\\n    return 1\\n")
        >>> chunker = Chunker(FakeModel().count_tokens, 128)
        >>> prepared = prepare_file(SourceFile("a.py", p, "python", 0, 0), None, chunker, 10**6)
        >>> prepared.state, len(prepared.chunks)
        ('added', 1)
        >>> record = {"file_hash": prepared.file_hash}
        >>> prepare_file(SourceFile("a.py", p, "python", 0, 0), record, chunker, 10**6).state
        'unchanged'
    """
    prepared, data = read_file(file, record, max_file_bytes)
    return chunk_file(prepared, data, chunker) if data is not None else prepared


def read_file(
    file: SourceFile, record: dict[str, Any] | None, max_file_bytes: int
) -> tuple[PreparedFile, bytes | None]:
    """The first half of :func:`prepare_file`: read and hash; the bytes come back when they need chunking."""
    try:
        content = read_source(file, max_file_bytes)
    except SkipFile as skip:
        return PreparedFile(file, "skipped", skip.reason), None
    file_hash = hashlib.sha256(file.language.encode() + b"\0" + content.data).hexdigest()
    state = "added" if record is None else "updated"
    if record is not None and record.get("file_hash") == file_hash:
        state = "unchanged"
    flags = {"lossy": content.lossy, "transcoded": content.transcoded}
    prepared = PreparedFile(file, state, file_hash=file_hash, **flags)
    return prepared, (content.data if state != "unchanged" else None)


def chunk_file(prepared: PreparedFile, data: bytes, chunker: Chunker) -> PreparedFile:
    """The second half of :func:`prepare_file`: the chunks and their ids (or a ``chunker-error`` skip)."""
    file = prepared.file
    try:
        chunks = chunker.chunk(data, file.language)
    except Exception as exc:  # one odd file must not stop the run: count it and go on
        logger.warning("Cannot chunk %s (%s): skipped", file.path, exc)
        return replace(prepared, state="skipped", reason="chunker-error")
    ids = chunk_ids_for_file(file.path, [c.content_hash for c in chunks])
    return replace(prepared, chunks=chunks, ids=ids)


@dataclass
class TreePlan:
    """What one run does to one tree, gathered from each file's :class:`PreparedFile` in walk order.

    Attributes:
        summary: The run's summary (file counts updated by :meth:`add`).
        skipped: Skipped entries by reason.
        skipped_files: ``(path, reason)`` of each skipped entry.
        kept: Paths that stay in the index.
        languages: Languages of the files read.
        files: Files to (re-)index.
    """

    summary: IndexSummary
    skipped: Counter[str]
    skipped_files: list[tuple[str, str]]
    kept: list[str] = field(default_factory=list)
    languages: set[str] = field(default_factory=set)
    files: list[PlannedFile] = field(default_factory=list)

    def add(self, prepared: PreparedFile) -> None:
        """Count one prepared file (call in walk order)."""
        file = prepared.file
        if prepared.file_hash:  # read (a chunker error is counted after the read)
            self.summary.lossy_utf8 += prepared.lossy
            self.summary.transcoded_utf16 += prepared.transcoded
            self.languages.add(file.language)
        if prepared.state == "skipped":
            self.skipped[prepared.reason] += 1
            self.skipped_files.append((file.path, prepared.reason))
            return
        self.kept.append(file.path)
        if prepared.state == "unchanged":
            self.summary.unchanged += 1
            return
        if prepared.state == "added":
            self.summary.added += 1
        else:
            self.summary.updated += 1
        self.files.append((file, prepared.file_hash, prepared.chunks, prepared.ids))


def all_spaces(model: Any) -> list[str]:
    """Every named vector a store for ``model`` declares: ``base`` and one per adapter."""
    return ["base", *sorted(set(model.adapters) - {"base"})]


class CodeIndex:
    """A code search index over one source tree.

    Args:
        root: The tree to index and search (default: set by the first ``index(path)``).
        model: A ``LoRACodeModel`` (default: ``LoRACodeModel.from_pretrained(dtype="auto")``, loaded on
            first use: bfloat16 on a CPU with hardware bfloat16, float16 on CUDA, else float32).
        store: A :class:`~loracode_qdrant.store.Store`; default an :class:`EdgeStore` in ``index_dir``.
        index_dir: Folder of the embedded store (default ``<root>/.loracode``).
        max_file_bytes: Larger files are skipped.
        batch_size: Chunks per embedding batch.
        show_progress: Show a progress bar on stderr (default: only when stderr is a terminal).
        query_threads: torch intra-op threads while embedding a query (restored afterwards); ``None``
            leaves torch's setting. One thread is the default: a single short query gains nothing from
            more, and on a busy machine extra threads only wait for each other (see docs/benchmarks.md).
        spaces: The embedding spaces a chunk is stored in (see the module docstring): ``"all"`` or a
            list of ``"language"`` (required), ``"unified"``, ``"code2code"``. ``None`` (default): an
            existing index keeps the spaces it was built with, a new one stores ``["language"]`` (one
            embedding per chunk). A value that differs from an existing index's is refused when
            indexing (pass ``rebuild=True`` to rebuild it with the new spaces).

    Example:
        >>> from loracode_qdrant.testing import FakeModel
        >>> CodeIndex(model=FakeModel()).root is None
        True
    """

    def __init__(
        self,
        root: str | os.PathLike[str] | None = None,
        *,
        model: Any = None,
        store: Store | None = None,
        index_dir: str | os.PathLike[str] | None = None,
        max_file_bytes: int = DEFAULT_MAX_FILE_BYTES,
        batch_size: int = DEFAULT_BATCH_SIZE,
        show_progress: bool | None = None,
        query_threads: int | None = 1,
        spaces: str | Sequence[str] | None = None,
    ) -> None:
        self.root = Path(root).expanduser().resolve() if root is not None else None
        self._model = model
        self._store = store
        self._own_store = store is None
        self.index_dir = Path(index_dir).expanduser() if index_dir is not None else None
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError(f"batch_size must be a positive int, got {batch_size!r}")
        self.max_file_bytes = max_file_bytes
        self.batch_size = batch_size
        self.show_progress = show_progress
        self.query_threads = query_threads
        self.spaces = check_space_kinds(spaces) if spaces is not None else None
        self._meta: dict[str, Any] | None = None
        self._opened_for: str | None = None
        self._paths_cache: list[tuple[str, str]] | None = None

    # ------------------------------------------------------------------ model and store
    @property
    def model(self) -> Any:
        """The embedding model (loaded on first use)."""
        if self._model is None:
            from loracode_embed import LoRACodeModel

            # "auto": bfloat16 on a CPU with hardware bfloat16 (2-3x faster indexing, a default search
            # under 50 ms p95, retrieval MRR within 0.3 %: docs/benchmarks.md), float32 elsewhere
            self._model = LoRACodeModel.from_pretrained(dtype="auto")
        return self._model

    @property
    def store(self) -> Store:
        """The store (an :class:`EdgeStore` under ``index_dir`` unless one was given)."""
        if self._store is None:
            if self.index_dir is None and self.root is None:
                raise ValueError(
                    "No index location: pass root=, index_dir= or store=, or call index(path) first"
                )
            self._store = EdgeStore(self.index_dir or self.root / DEFAULT_INDEX_DIRNAME)  # type: ignore[operator]
        return self._store

    def _expected_meta(self) -> dict[str, Any]:
        model = self.model
        return {
            "format": STORE_FORMAT,
            "model_fingerprint": model.fingerprint,
            "adapters": sorted(model.adapters),
            "dim": int(model.embedding_dim),
            "chunker_version": CHUNKER_VERSION,
            "spaces": all_spaces(model),
        }

    def _open(self, for_write: bool) -> dict[str, Any]:
        """Open the store and check its metadata against the model; nothing is written on a mismatch."""
        mode = "write" if for_write else "read"
        if self._meta is not None and self._opened_for in ("write", mode):
            return self._meta
        store = self.store
        if isinstance(store, EdgeStore):
            if not for_write and not store.exists():
                raise FileNotFoundError(
                    f"No index at {store.location}. Create one with `loracode index <path>` first."
                )
            if self._opened_for == "read" and for_write:
                store.close()
            store.read_only = not for_write
            store.acquire()  # before loading the model: a second process fails at once
        expected = self._expected_meta()
        existed = store.exists()
        if not existed and not for_write:
            raise FileNotFoundError(f"No index at {store.location}. Create one with `loracode index` first.")
        store.open(expected["spaces"], expected["dim"], sparse_space=hybrid.SPARSE_SPACE)
        meta = store.read_meta() if existed else None
        if meta is None:
            if existed and store.count() > 0:
                raise ValueError(
                    f"{store.location} holds data that loracode did not write (no metadata record); "
                    "refusing to change it. Use another index folder or collection."
                )
            if for_write:
                store.write_meta({**expected, "languages": [], "root": str(self.root),
                                  "sparse": hybrid.SPARSE_VERSION,
                                  "space_kinds": self._new_space_kinds()})  # fmt: skip
                meta = store.read_meta()
        else:
            self._check_meta(meta, expected, store.location)
            if for_write and self.spaces is not None and self.spaces != stored_space_kinds(meta):
                raise ValueError(
                    f"The index at {store.location} stores the spaces {list(stored_space_kinds(meta))}; "
                    f"spaces={list(self.spaces)} would change its layout. Rebuild it with "
                    f"`loracode index --rebuild --spaces {','.join(self.spaces)}`, or leave --spaces out "
                    "to keep its spaces."
                )
            if not hybrid.store_has_sparse(meta):  # built before hybrid search: no sparse vectors yet
                store.sparse_space = None  # type: ignore[attr-defined]
            if not hybrid.sparse_is_current(meta):  # none yet, or an older version: recomputed, not embedded
                if for_write:
                    hybrid.backfill_sparse(store)
                    store.write_meta({**meta, "sparse": hybrid.SPARSE_VERSION})
                    meta = store.read_meta()
        self._meta = meta or {**expected, "languages": [], "space_kinds": self._new_space_kinds()}
        self._opened_for = mode
        return self._meta

    def _new_space_kinds(self) -> list[str]:
        return list(self.spaces or DEFAULT_SPACE_KINDS)

    @property
    def space_kinds(self) -> tuple[str, ...]:
        """The kinds of space the open index stores (see :func:`stored_space_kinds`)."""
        return stored_space_kinds(self._meta or {})

    @staticmethod
    def _check_meta(meta: dict[str, Any], expected: dict[str, Any], location: str) -> None:
        problems = []
        labels = {
            "format": "store format",
            "model_fingerprint": "model fingerprint",
            "adapters": "adapter set",
            "dim": "embedding size",
            "chunker_version": "chunker version",
        }
        for key, label in labels.items():
            if meta.get(key) != expected[key]:
                problems.append(f"{label}: index has {meta.get(key)!r}, current is {expected[key]!r}")
        if problems:
            raise ValueError(
                f"The index at {location} was built with a different setup, so its vectors cannot be "
                f"searched or extended with this one ({'; '.join(problems)}). Rebuild it with "
                "`loracode index --rebuild`, or point --index-dir / --collection somewhere else."
            )

    def close(self) -> None:
        """Close the store (releases the embedded store's lock)."""
        if self._store is not None and self._own_store:
            self._store.close()
        self._meta = None
        self._opened_for = None

    def __enter__(self) -> CodeIndex:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ indexing
    def index(self, path: str | os.PathLike[str] | None = None, *, rebuild: bool = False) -> IndexSummary:
        """Index (or incrementally re-index) a tree and return what changed.

        Args:
            path: The tree (default: ``root``). Paths in the store are relative to it.
            rebuild: Drop the existing store first (needed after changing model or chunker).

        Raises:
            ValueError: the store was built with another model, adapter set or chunker version.
            StoreLockedError: another process holds the embedded store.
        """
        started = time.perf_counter()
        if path is not None:
            new_root = Path(path).expanduser().resolve()
            if self.root is not None and new_root != self.root and self._own_store and self.index_dir is None:
                self.close()
                self._store = None
            self.root = new_root
        if self.root is None:
            raise ValueError("index() needs a path (or CodeIndex(root=...))")
        if rebuild:
            self._drop()
        meta = self._open(for_write=True)
        store = self.store
        walk = walk_tree(self.root, max_file_bytes=self.max_file_bytes)
        summary = IndexSummary(root=str(self.root), store=store.location, files=len(walk.files))
        skipped: Counter[str] = Counter(walk.skipped)
        skipped_files = list(walk.skipped_paths)
        run = RunRecord.start(files_total=len(walk.files))
        self._save_run(run, meta)
        progress = None
        try:
            # 1. Read, hash and chunk every new or changed file (no model work): the chunk count
            #    gives the progress bar its total.
            records = store.scroll("file", ["path", "file_hash"])
            existing = {hit.payload["path"]: hit.payload for hit in records}
            chunker = self._chunker()
            tree = TreePlan(summary, skipped, skipped_files)
            for file in walk.files:
                tree.add(prepare_file(file, existing.get(file.path), chunker, self.max_file_bytes))
            kept, languages, plan = tree.kept, tree.languages, tree.files
            for path, reason in skipped_files:
                logger.debug("Skipped %s (%s)", path, reason)  # -v lists them in the summary
            run.files_done = len(walk.files) - len(plan)
            run.chunks_total = sum(len(chunks) for _, _, chunks, _ in plan)
            self._save_run(run, meta)
            # Searches of a run stopped half-way must see this run's languages (else they search nothing).
            meta = {**meta, "languages": sorted(set(meta.get("languages", [])) | languages),
                    "root": str(self.root)}  # fmt: skip
            store.write_meta(meta)
            # 2. Embed and write, a few batches at a time; progress counts chunks.
            progress = self._progress(run.chunks_total)
            pending: list[PlannedFile] = []
            pending_chunks = 0
            for item in plan:
                pending.append(item)
                pending_chunks += len(item[2])
                if pending_chunks >= self.batch_size * CALL_BATCHES:
                    self._write_files(pending, summary)
                    self._advance(run, meta, pending, pending_chunks, progress)
                    pending, pending_chunks = [], 0
            self._write_files(pending, summary)
            self._advance(run, meta, pending, pending_chunks, progress)
            if progress:
                progress.close()
                progress = None
            gone = [p for p in existing if p not in set(kept)]
            summary.deleted = len(gone)
            store.delete_paths_not_in(kept)
            store.write_meta({**meta, "languages": sorted(languages), "root": str(self.root)})
            self._meta = meta = store.read_meta() or meta
            store.flush()
            if summary.added or summary.updated or summary.deleted:
                store.optimize()
        except BaseException as exc:
            run.state, run.finished = "failed", time.time()
            run.error = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
            with contextlib.suppress(Exception):
                self._save_run(run, meta)
            raise
        finally:
            if progress:
                progress.close()
        self._paths_cache = None
        summary.skipped = dict(sorted(skipped.items()))
        summary.skipped_files = [{"path": p, "reason": r} for p, r in sorted(skipped_files)]
        summary.chunks_total = store.count("chunk")
        summary.seconds = round(time.perf_counter() - started, 3)
        run.state, run.finished = "complete", time.time()
        run.updated = run.finished
        self._save_run(run, meta)
        logger.info("Indexed %s: %s", self.root, summary)
        return summary

    def _advance(
        self,
        run: RunRecord,
        meta: dict[str, Any],
        written: list[PlannedFile],
        chunks: int,
        progress: Any,
    ) -> None:
        """After a batch of files is written: move the progress bar and record the run's progress."""
        if not written:
            return
        run.files_done += len(written)
        run.chunks_done += chunks
        run.updated = time.time()
        self._save_run(run, meta)
        if progress:
            progress.update(chunks)

    def _save_run(self, run: RunRecord, meta: dict[str, Any]) -> None:
        """Record ``run``: beside an embedded store (readable without its lock), else in the metadata."""
        store = self.store
        if isinstance(store, EdgeStore):
            write_run_file(store.root, run)
        else:
            store.write_meta({**meta, "last_run": run.to_dict()})
            meta["last_run"] = run.to_dict()

    def last_run(self) -> RunRecord | None:
        """The record of the last ``index`` run on this index (``None``: none recorded).

        Needs no model, and for the embedded store not even its lock: it can be read during a run.

        Example:
            >>> import tempfile
            >>> from loracode_qdrant.testing import FakeModel
            >>> index = CodeIndex(index_dir=tempfile.mkdtemp(), model=FakeModel())
            >>> index.last_run() is None
            True
        """
        store = self.store
        if isinstance(store, EdgeStore):
            return read_run_file(store.root)
        meta = self._meta if self._meta is not None else _read_meta_quietly(store)
        return RunRecord.from_dict((meta or {}).get("last_run"))

    def _drop(self) -> None:
        store = self.store
        store.close()
        if isinstance(store, EdgeStore):
            shard = store.root / "shard"
            if shard.exists():
                store.acquire()  # refuse to drop a store another process is using
                try:
                    shutil.rmtree(shard)
                finally:
                    store.close()
        else:
            client = getattr(store, "client", None)
            if client is not None and store.exists():
                client.delete_collection(store.collection)  # type: ignore[attr-defined]
        self._meta = None
        self._opened_for = None

    def _chunker(self) -> Chunker:
        model = self.model
        count = getattr(model, "count_tokens", None)
        if count is None:
            raise TypeError("The model must offer count_tokens(texts) -> list[int] (LoRACodeModel does)")
        return Chunker(count, max(8, int(model.max_seq_length) - _TOKEN_MARGIN))

    def _progress(self, total: int) -> Any:
        show = self.show_progress if self.show_progress is not None else sys.stderr.isatty()
        if not show:
            return None
        from tqdm import tqdm

        # Counted in chunks (the embedding work), with tqdm's rate and time left.
        return tqdm(total=total, unit="chunk", desc="Embedding", file=sys.stderr, dynamic_ncols=True)

    def _write_files(self, pending: list[PlannedFile], summary: IndexSummary) -> None:
        """Embed what no stored point can give, then write each file: chunks, stale deletions, record."""
        if not pending:
            return
        vectors, todo = self._stored_vectors(pending, summary)
        model = self.model
        for (space, task, adapter, language), items in todo.items():
            row_of: dict[str, int] = {}  # identical chunks (copied files, vendored code): embedded once
            for _, _, text in items:
                row_of.setdefault(text, len(row_of))
            embedded = np.asarray(
                model.encode_code(list(row_of), languages=language, task=task, adapter=adapter or "base",
                                  batch_size=self.batch_size),
                dtype=np.float32,
            )  # fmt: skip
            for fi, ci, text in items:
                vectors.setdefault((fi, ci), {})[space] = embedded[row_of[text]].tolist()
        if todo:
            release_free_heap()  # the batches' freed activations, else resident for the whole run
        self._write_points(pending, vectors)

    def _stored_vectors(self, pending: list[PlannedFile], summary: IndexSummary) -> tuple[Vectors, EmbedTodo]:
        """The vectors stored points can give, by ``(file, chunk)``, and what is left to embed, grouped by
        ``(space, task, adapter, language)`` as ``(file, chunk, text)`` items (positions in ``pending``)."""
        store = self.store
        model = self.model
        # 1. Vectors already stored: same id (unchanged chunk of an edited file), else same content+language.
        all_ids = [i for _, _, _, ids in pending for i in ids]
        by_id: dict[str, dict[str, list[float]]] = {}
        for start in range(0, len(all_ids), 1024):
            for hit in store.retrieve(all_ids[start : start + 1024], with_vectors=True):
                if hit.vectors:
                    by_id[hit.id] = hit.vectors
        wanted = {
            c.content_hash
            for _, _, chunks, ids in pending
            for c, i in zip(chunks, ids, strict=True)
            if i not in by_id
        }
        by_hash: dict[tuple[str, str], dict[str, list[float]]] = {}
        wanted_list = sorted(wanted)
        for start in range(0, len(wanted_list), 512):
            for hit in store.vectors_by_hash(wanted_list[start : start + 512]):
                if hit.vectors:
                    by_hash.setdefault((hit.payload["content_hash"], hit.payload["language"]), hit.vectors)
        # 2. The rest is to embed, grouped by (space, task, adapter, language). A chunk whose content
        #    comes earlier in this call counts as reused: its text is embedded once (by _write_files,
        #    or across trees by the Ray path).
        vectors: Vectors = {}
        todo: EmbedTodo = defaultdict(list)
        kinds = self.space_kinds
        first: set[tuple[str, str]] = set()  # (content hash, language) of the chunks to embed so far
        for fi, (file, _, chunks, ids) in enumerate(pending):
            spaces = code_spaces(model, file.language, kinds)
            for ci, (chunk, cid) in enumerate(zip(chunks, ids, strict=True)):
                found = by_id.get(cid) or by_hash.get((chunk.content_hash, file.language))
                if found is not None and all(s in found for s in spaces):
                    vectors[(fi, ci)] = {s: found[s] for s in spaces}
                    summary.chunks_reused += 1
                    continue
                key = (chunk.content_hash, file.language)
                if key in first:
                    summary.chunks_reused += 1
                else:
                    first.add(key)
                    summary.chunks_embedded += 1
                for space, (task, adapter) in spaces.items():
                    todo[(space, task, adapter, file.language)].append((fi, ci, chunk.text))
        return vectors, todo

    def _write_points(self, pending: list[PlannedFile], vectors: Vectors) -> None:
        """Write files whose vectors are all known, in the order that keeps a killed run consistent:
        their chunks, then each file's stale chunks go, then their "done" records."""
        store = self.store
        points = [
            StoredPoint(cid, vectors[(fi, ci)], _chunk_payload(file, chunk),
                        sparse=hybrid.sparse_document(file.path, chunk.text, chunk.symbol))
            for fi, (file, _, chunks, ids) in enumerate(pending)
            for ci, (chunk, cid) in enumerate(zip(chunks, ids, strict=True))
        ]  # fmt: skip
        store.upsert(points)
        for file, _, _, ids in pending:
            store.delete_path_except(file.path, ids)
        records = [
            StoredPoint(file_point_id(file.path), {}, _file_record(file, file_hash, ids))
            for file, file_hash, _, ids in pending
        ]
        store.upsert(records)

    @property
    def store_is_embedded(self) -> bool:
        """Whether the store is the embedded one (a file lock tells whether an index run holds it)."""
        return isinstance(self.store, EdgeStore)

    def status(self) -> IndexStatus:
        """What the index holds and how its last run went, without loading the model.

        Raises:
            FileNotFoundError: there is no index (and no run has started one).

        Example:
            >>> import tempfile, pathlib
            >>> from loracode_qdrant.testing import FakeModel
            >>> root = pathlib.Path(tempfile.mkdtemp())
            >>> _ = (root / "a.py").write_text("def f():\\n    return 1\\n")
            >>> with CodeIndex(root, model=FakeModel()) as index:
            ...     _ = index.index()
            >>> with CodeIndex(root) as index:
            ...     status = index.status()
            >>> status.files, status.chunks, status.last_run.state
            (1, 1, 'complete')
        """
        store = self.store
        run = self.last_run()
        status = IndexStatus(store=store.location, last_run=run)
        embedded = isinstance(store, EdgeStore)
        if embedded:
            status.store_bytes = _folder_bytes(store.root)
        if not store.exists():
            if run is None:
                raise FileNotFoundError(
                    f"No index at {store.location}. Create one with `loracode index` first."
                )
            status.readable, status.unreadable_reason = False, "no data written yet"
            status.in_progress = run.in_progress()
            status.incomplete = run.interrupted()
            return status
        lock_free: bool | None = None
        try:
            if embedded:
                store.read_only = True  # type: ignore[union-attr]
                store.open([], 0)
                lock_free = True
            meta = store.read_meta() or {}
            status.files, status.chunks = store.count("file"), store.count("chunk")
        except StoreLockedError:
            status.readable, status.unreadable_reason = False, "an index run holds the store"
            lock_free = False
            meta = {}
        status.root = meta.get("root") or (str(self.root) if self.root else None)
        status.languages = list(meta.get("languages", []))
        status.spaces = list(meta.get("spaces", []))
        status.space_kinds = list(stored_space_kinds(meta)) if meta else []
        status.model_fingerprint = meta.get("model_fingerprint")
        status.adapters = list(meta.get("adapters", []))
        if run is not None:
            status.in_progress = run.in_progress(lock_free)
            status.incomplete = run.interrupted(lock_free)
        return status

    # ------------------------------------------------------------------ searching
    def search(
        self,
        query: str,
        language: str | None = None,
        k: int = 10,
        path_glob: str | Sequence[str] | None = None,
        *,
        languages: Sequence[str] | None = None,
        task: str = "auto",
        mode: str = "auto",
        group: bool = True,
    ) -> list[Hit]:
        """Search the index.

        Args:
            query: Natural-language text or a piece of code.
            language: Search this language only, in its adapter's space.
            k: Number of hits (definitions, see ``group``).
            path_glob: Keep files matching this glob (or any of these globs), e.g. ``"src/**/*.py"``.
            languages: Restrict to these languages (each searched in its own space, then fused).
            task: ``"auto"`` (detect), ``"text2code"`` or ``"code2code"``.
            mode: ``"auto"`` (default): ``"hybrid"`` if the index has sparse vectors, else
                ``"per-language"`` (an index built before hybrid search, until re-indexed);
                ``"per-language"`` (per-space search with language filters, fused),
                ``"unified"`` (one search in the unified space, no language filter), ``"hybrid"``
                (the per-language dense searches and an identifier-aware BM25 search, fused by the
                store: :mod:`loracode_qdrant.hybrid`) or ``"sparse"`` (the BM25 search alone).
                Hybrid and sparse hits have ``space`` ``"hybrid"`` / ``"bm25-code"`` and ``score``
                equal to the fused (or BM25) score.
            group: One hit per definition (default): the parts of a long function or class are one
                hit, the best part, and ``k`` counts definitions. ``False``: every chunk on its own.

        Raises:
            FileNotFoundError: there is no index yet.
            ValueError: bad arguments, or an index built with another model or chunker.
        """
        if not isinstance(query, str):
            raise TypeError(f"query must be a string, got {type(query).__name__}")
        if not query.strip():
            raise ValueError("query must not be empty")
        if isinstance(k, bool) or not isinstance(k, int) or k < 1:
            raise ValueError(f"k must be a positive int, got {k!r}")
        if mode not in SEARCH_MODES:
            raise ValueError(f"mode must be one of {', '.join(map(repr, SEARCH_MODES))}, got {mode!r}")
        if task not in ("auto", *TASKS):
            raise ValueError(f"task must be 'auto', 'text2code' or 'code2code', got {task!r}")
        from loracode_embed.languages import canonical_language

        wanted: list[str] | None = None
        if language is not None:
            wanted = [canonical_language(language)]
        if languages is not None:
            if isinstance(languages, str):
                raise TypeError("languages must be a list of language names, not a string")
            wanted = sorted({canonical_language(x) for x in languages} | set(wanted or []))
        meta = self._open(for_write=False) if self._meta is None else self._meta
        if mode == "auto":
            mode = "hybrid" if hybrid.store_has_sparse(meta) else "per-language"
        model = self.model
        if task == "auto":
            classify = getattr(model, "classify_query", None)
            task = classify(query) if classify is not None else _classify_fallback(query)
        paths = self._paths_for_glob(path_glob) if path_glob is not None else None
        if paths is not None and not paths:
            return []
        indexed = list(meta.get("languages", []))
        kinds = stored_space_kinds(meta)
        groups: dict[str, tuple[str | None, list[str] | None]] = {}
        if mode == "unified":
            adapter = search_adapter(model, task, None, kinds, wanted if wanted is not None else indexed)
            groups[space_name(adapter)] = (adapter, wanted)
        else:
            for lang in wanted if wanted is not None else indexed:
                adapter = search_adapter(model, task, lang, kinds, indexed)
                groups.setdefault(space_name(adapter), (adapter, []))[1].append(lang)  # type: ignore[union-attr]
        if not groups:  # nothing indexed (or no indexed file in the wanted languages)
            return []
        if mode in hybrid.SPARSE_MODES:

            def fetch(limit: int) -> tuple[list[Hit], bool]:
                hits = self._sparse_search(query, task, mode, groups, wanted, paths, limit)
                return hits, len(hits) < limit

            return _grouped_search(fetch, k, group)
        with _torch_threads(self.query_threads):
            vectors = _query_vectors(model, query, task, [adapter for adapter, _ in groups.values()])
        searches: list[tuple[str, list[float], list[str] | None]] = []
        for (space, (_adapter, langs)), vec in zip(groups.items(), vectors, strict=True):
            if langs is not None and _holders(model, space, indexed, kinds) <= set(langs):
                langs = None  # every chunk in this space is of a wanted language: the filter only costs
            searches.append((space, vec.tolist(), langs))
        return _grouped_search(lambda limit: self._search_once(searches, limit, paths), k, group)

    def _search_once(
        self, searches: list[tuple[str, list[float], list[str] | None]], limit: int, paths: list[str] | None
    ) -> tuple[list[Hit], bool]:
        """Up to ``limit`` chunk hits, best first (fused over the spaces); ``True`` if no space had more."""
        lists: list[list[tuple[str, float]]] = []
        found: dict[str, tuple[StoredHit, str]] = {}
        # Several spaces: search for ids and scores only, fuse, then fetch the payloads (with the chunk
        # text) of the hits kept, in one retrieve: payloads live on disk, and reading them per space
        # cost 1.5 ms more over six spaces at 100k (docs/benchmarks.md). One space: its hits are kept.
        fused = len(searches) > 1
        search_many = getattr(self.store, "search_many", None)  # optional: one call for all spaces
        if fused and search_many is not None:
            results = search_many(searches, limit, paths=paths, with_payload=False)
        else:
            results = [
                self.store.search(space, vec, limit, languages=langs, paths=paths, with_payload=not fused)
                for space, vec, langs in searches
            ]
        for (space, _, _), hits in zip(searches, results, strict=True):
            lists.append([(h.id, h.score) for h in hits])
            for h in hits:
                found.setdefault(h.id, (h, space))
        exhausted = all(len(hits) < limit for hits in results)
        ranked = (reciprocal_rank_fusion(lists) if fused else lists[0])[:limit]
        payloads = (
            {r.id: r.payload for r in self.store.retrieve([pid for pid, _ in ranked])}
            if fused
            else {pid: found[pid][0].payload for pid, _ in ranked}
        )
        out = []
        for pid, rank_score in ranked:
            hit, space = found[pid]
            p = payloads.get(pid)
            if p is None:  # deleted between the search and the retrieve (a server store has other writers)
                continue
            out.append(Hit(path=p["path"], start_line=int(p["start_line"]), end_line=int(p["end_line"]),
                           symbol=p.get("symbol"), kind=p.get("kind", ""), language=p.get("language", ""),
                           score=round(hit.score, 6), text=p.get("text", ""), space=space,
                           rank_score=round(float(rank_score), 6)))  # fmt: skip
        return out, exhausted

    def _sparse_search(
        self,
        query: str,
        task: str,
        mode: str,
        groups: dict[str, tuple[str | None, list[str] | None]],
        wanted: list[str] | None,
        paths: list[str] | None,
        k: int,
    ) -> list[Hit]:
        """``mode="hybrid"`` / ``"sparse"``: see :mod:`loracode_qdrant.hybrid`."""
        if not hybrid.store_has_sparse(self._meta):
            raise ValueError(
                f"The index at {self.store.location} has no sparse vectors (it was built before hybrid "
                f"search), so mode={mode!r} cannot be used. Run `loracode index` once to add them "
                "(nothing is embedded again), or search with --mode per-language."
            )
        model, indexed = self.model, list((self._meta or {}).get("languages", []))
        kinds = stored_space_kinds(self._meta or {})
        dense: list[tuple[str, list[float], list[str] | None]] = []
        if mode == "hybrid":
            with _torch_threads(self.query_threads):
                vectors = _query_vectors(model, query, task, [adapter for adapter, _ in groups.values()])
            for (space, (_adapter, langs)), vec in zip(groups.items(), vectors, strict=True):
                if langs is not None and _holders(model, space, indexed, kinds) <= set(langs):
                    langs = None
                dense.append((space, vec.tolist(), langs))
        ranked = hybrid.fused_search(self.store, query, dense, wanted, paths, k)
        payloads = {r.id: r.payload for r in self.store.retrieve([h.id for h in ranked])}
        space = "hybrid" if mode == "hybrid" else hybrid.SPARSE_SPACE
        out = []
        for h in ranked:
            p = payloads.get(h.id)
            if p is None:  # deleted between the search and the retrieve
                continue
            out.append(Hit(path=p["path"], start_line=int(p["start_line"]), end_line=int(p["end_line"]),
                           symbol=p.get("symbol"), kind=p.get("kind", ""), language=p.get("language", ""),
                           score=round(h.score, 6), text=p.get("text", ""), space=space,
                           rank_score=round(h.score, 6)))  # fmt: skip
        return hybrid.definitions_first(query, out)

    def _paths_for_glob(self, path_glob: str | Sequence[str]) -> list[str]:
        """Indexed paths matching the glob(s) (``*`` stays within a folder, ``**`` crosses folders)."""
        globs = [path_glob] if isinstance(path_glob, str) else list(path_glob)
        for g in globs:
            if not isinstance(g, str) or not g:
                raise ValueError(f"path_glob must be a non-empty glob string, got {g!r}")
        if self._paths_cache is None:
            self._paths_cache = [(h.payload["path"], h.payload.get("language", ""))
                                 for h in self.store.scroll("file", ["path", "language"])]  # fmt: skip
        import pathspec

        spec = pathspec.GitIgnoreSpec.from_lines(globs)
        return [
            p
            for p, _ in self._paths_cache
            if spec.match_file(p) or any(fnmatch.fnmatchcase(p, g) for g in globs)
        ]


def _grouped_search(fetch: Callable[[int], tuple[list[Hit], bool]], k: int, group: bool) -> list[Hit]:
    """``k`` hits from ``fetch(limit) -> (chunk hits best first, no more to fetch)``, one per definition.

    Parts of one long definition are grouped into one hit, so ``k`` counts definitions: fetch more
    chunks than ``k``, and more again in the rare case that parts crowd out ``k`` definitions.
    """
    if not group:
        return fetch(k)[0]
    limit = k * GROUP_FETCH
    while True:
        hits, exhausted = fetch(limit)
        grouped = group_hits(hits)
        if len(grouped) >= k or exhausted or limit >= k * GROUP_FETCH * 16:
            return grouped[:k]
        limit *= 4


def definition_key(hit: Hit) -> tuple[str, ...]:
    """What makes two hits parts of one definition: both ``-part`` chunks of one file, symbol and kind.

    Every other chunk is its own definition: two whole definitions may share a name in one file (a
    property's getter and setter), and chunks without a symbol are module-level code or windows.

    Example:
        >>> a = Hit("a.py", 10, 40, "Client.send", "function-part", "python", 0.8, "", "base", 0.8)
        >>> b = Hit("a.py", 41, 70, "Client.send", "function-part", "python", 0.7, "", "base", 0.7)
        >>> definition_key(a) == definition_key(b)
        True
    """
    if hit.symbol and hit.kind.endswith("-part"):
        return (hit.path, hit.symbol, hit.kind)
    return (hit.path, str(hit.start_line), hit.kind)


def group_hits(hits: Sequence[Hit]) -> list[Hit]:
    """One hit per definition, in the order of each definition's best part (``hits`` are best first).

    The kept hit is the best part (its lines, score and text); ``parts`` counts the parts found.

    Example:
        >>> a = Hit("a.py", 10, 40, "send", "function-part", "python", 0.8, "", "base", 0.8)
        >>> b = Hit("a.py", 1, 5, "open", "function", "python", 0.75, "", "base", 0.75)
        >>> c = Hit("a.py", 41, 70, "send", "function-part", "python", 0.7, "", "base", 0.7)
        >>> [(h.symbol, h.start_line, h.parts) for h in group_hits([a, b, c])]
        [('send', 10, 2), ('open', 1, 1)]
    """
    best: dict[tuple[str, ...], Hit] = {}
    for hit in hits:
        key = definition_key(hit)
        if key in best:
            best[key].parts += 1
        else:
            best[key] = replace(hit, parts=1)
    return list(best.values())


def _query_vectors(model: Any, query: str, task: str, adapters: list[str | None]) -> np.ndarray:
    """The query in each adapter's space (``None``: the base), one row per adapter.

    Models with ``encode_query_in_spaces`` embed all of them in one mixed-adapter pass (about 3x
    faster than one pass per adapter for five languages on CPU); others get one call per adapter.
    """
    names = [adapter or "base" for adapter in adapters]
    in_spaces = getattr(model, "encode_query_in_spaces", None)
    if in_spaces is not None and len(names) > 1:
        return np.asarray(in_spaces(query, names))
    return np.stack([np.asarray(model.encode_query([query], task=task, adapter=name))[0] for name in names])


@contextlib.contextmanager
def _torch_threads(n: int | None) -> Iterator[None]:
    """Run the block with ``n`` torch intra-op threads (if torch is loaded), then restore the setting."""
    torch = sys.modules.get("torch")
    if n is None or torch is None or torch.get_num_threads() == n:
        yield
        return
    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def _folder_bytes(folder: Path) -> int:
    """Disk space used under ``folder`` (allocated blocks: Qdrant Edge preallocates sparse files whose
    apparent size is 100x what they hold)."""
    total = 0
    for dirpath, _, filenames in os.walk(folder):
        for name in filenames:
            with contextlib.suppress(OSError):
                st = os.lstat(os.path.join(dirpath, name))
                total += getattr(st, "st_blocks", 0) * 512 or st.st_size
    return total


def _read_meta_quietly(store: Store) -> dict[str, Any] | None:
    """A server store's metadata record without creating anything (``None`` if there is no collection)."""
    try:
        if not store.exists():
            return None
        return store.read_meta()
    except Exception:  # not opened yet, or the server is gone: no record to show
        return None


def _chunk_payload(file: SourceFile, chunk: Chunk) -> dict[str, Any]:
    return {
        "record": "chunk",
        "path": file.path,
        "language": file.language,
        "symbol": chunk.symbol,
        "kind": chunk.kind,
        "start_line": chunk.start_line,
        "end_line": chunk.end_line,
        "start_byte": chunk.start_byte,
        "end_byte": chunk.end_byte,
        "content_hash": chunk.content_hash,
        "text": chunk.text,
    }


def _file_record(file: SourceFile, file_hash: str, ids: list[str]) -> dict[str, Any]:
    return {"record": "file", "path": file.path, "language": file.language, "file_hash": file_hash,
            "size": file.size, "chunk_count": len(ids), "chunk_ids": ids}  # fmt: skip


def _classify_fallback(text: str) -> str:
    try:
        from loracode_embed.query_type import classify_query

        return classify_query(text)
    except ImportError:  # pragma: no cover - older core
        return "text2code"
