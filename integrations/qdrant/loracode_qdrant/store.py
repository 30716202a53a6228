"""Where chunks live: a small :class:`Store` protocol and its two implementations.

* :class:`EdgeStore` (the default): Qdrant Edge (``qdrant-edge-py``), Qdrant's in-process engine,
  in one folder (default ``<indexed tree>/.loracode/``): an HNSW index per named vector, a write-ahead
  log (so a killed indexer loses nothing it was told was written), keyword payload indexes on
  ``record``, ``path``, ``language`` and ``content_hash``. A lock file keeps a second process out
  with a clear message.
* :class:`ServerStore`: ``qdrant-client`` against a Qdrant server or cluster (``--qdrant-url`` /
  ``QDRANT_URL``, ``QDRANT_API_KEY``); tests run it on ``QdrantClient(":memory:")``. The client's
  own local mode is not used as the embedded store (it is brute force and pickles its data).

A store holds three kinds of record, told apart by the ``record`` payload field:

* ``chunk``: one point per chunk, with one named vector per embedding space (``"base"`` or an adapter
  name) and the chunk's payload (path, language, symbol, kind, lines, bytes, content hash, text);
* ``file``: one vector-less point per indexed file (hash, size, chunk ids): the "file done" mark;
* ``meta``: one vector-less point with the model fingerprint, adapter set, spaces and chunker version.

Example:
    >>> import tempfile
    >>> store = EdgeStore(tempfile.mkdtemp())
    >>> store.open(["base"], 3)
    >>> store.upsert([StoredPoint("6f1b8d0e-0000-5000-8000-000000000001", {"base": [1.0, 0.0, 0.0]},
    ...                           {"record": "chunk", "path": "a.py", "language": "python"})])
    >>> [hit.payload["path"] for hit in store.search("base", [1.0, 0.0, 0.0], limit=5)]
    ['a.py']
    >>> store.close()
"""

from __future__ import annotations

import logging
import os
import shutil
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from loracode_qdrant.ids import META_POINT_ID
from loracode_qdrant.sparse import SparseVector

logger = logging.getLogger(__name__)

INDEXED_FIELDS = ("record", "path", "language", "content_hash")
_BATCH = 256


@dataclass
class StoredPoint:
    """A point to write: id, named vectors (may be empty for records), payload."""

    id: str
    vectors: dict[str, list[float]]
    payload: dict[str, Any] = field(default_factory=dict)
    #: The chunk's sparse (BM25) vector, stored in the store's sparse space if it has one.
    sparse: SparseVector | None = None


@dataclass
class StoredHit:
    """A search result or a retrieved record."""

    id: str
    score: float
    payload: dict[str, Any]
    vectors: dict[str, list[float]] | None = None


#: One search of :meth:`EdgeStore.search_many`: the space, the query vector, the languages (or ``None``).
SpaceSearch = tuple[str, Sequence[float], Sequence[str] | None]


def _scored_hits(points: Any, with_payload: bool) -> list[StoredHit]:
    """Scored points of either engine as hits (payload ``{}`` when it was not asked for)."""
    return [StoredHit(_uuid_str(p.id), float(p.score), dict(p.payload or {}) if with_payload else {})
            for p in points]  # fmt: skip


def _match_any(
    fields: dict[str, Sequence[str] | None], condition: Callable[[str, list[str]], Any]
) -> list[Any]:
    """One engine condition ``condition(key, values)`` per payload field that is restricted (not None)."""
    return [condition(key, list(values)) for key, values in fields.items() if values is not None]


def _with_sparse(point: StoredPoint, sparse_space: str | None, make: Callable[[SparseVector], Any]) -> Any:
    """The point's vectors for the engine, with its sparse vector when the store has a sparse space."""
    if sparse_space is None or not point.sparse:
        return point.vectors
    return {**point.vectors, sparse_space: make(point.sparse)}


def _edge_sparse(vector: SparseVector) -> Any:
    import qdrant_edge as qe

    return qe.SparseVector(vector.indices, vector.values)


def _edge_sparse_config(sparse_space: str | None) -> Any:
    import qdrant_edge as qe

    if sparse_space is None:
        return None
    return {sparse_space: qe.EdgeSparseVectorParams(modifier=qe.Modifier.Idf)}


@dataclass
class HybridPlan:
    """One fused search: dense legs (one per space), an optional sparse leg, and how to fuse them.

    Attributes:
        dense: ``(space, query vector, languages or None)`` per dense leg.
        sparse_space: The store's sparse vector name.
        sparse: The sparse query (an empty one adds no leg).
        sparse_languages: Language filter of the sparse leg (``None``: all).
        paths: Path filter on every leg (``None``: all).
        prefetch_limit: Candidates per leg.
        fusion: ``"rrf"`` or ``"dbsf"``.
        rrf_k: RRF's ``k``.
        sparse_weight: RRF weight of the sparse leg (each dense leg weighs 1).
    """

    dense: list[tuple[str, list[float], list[str] | None]]
    sparse_space: str
    sparse: SparseVector | None
    sparse_languages: list[str] | None = None
    paths: list[str] | None = None
    prefetch_limit: int = 50
    fusion: str = "rrf"
    rrf_k: int = 60
    sparse_weight: float = 1.0

    @property
    def weights(self) -> list[float] | None:
        """RRF weight per leg (dense legs first), or ``None`` when all weigh 1."""
        if not self.sparse or self.sparse_weight == 1.0:
            return None
        return [1.0] * len(self.dense) + [float(self.sparse_weight)]

    def legs(
        self, condition: Callable[[str, list[str]], Any], make_sparse: Callable[[SparseVector], Any]
    ) -> list[tuple[str, Any, list[Any]]]:
        """``(using, engine query, must conditions)`` per leg, in the engine's types."""
        out = [(space, vector, _match_any({"language": langs, "path": self.paths}, condition))
               for space, vector, langs in self.dense]  # fmt: skip
        if self.sparse:
            must = _match_any({"language": self.sparse_languages, "path": self.paths}, condition)
            out.append((self.sparse_space, make_sparse(self.sparse), must))
        return out


@runtime_checkable
class Store(Protocol):
    """What :class:`~loracode_qdrant.index.CodeIndex` needs from a vector store.

    A store may also offer ``search_many(searches, limit, paths=None, *, with_payload=True)``, several
    searches in one call with the results of one :meth:`search` per item (both stores here do);
    ``CodeIndex.search`` uses it when present for its fused searches, else calls ``search`` per space.
    """

    location: str

    def open(self, spaces: Sequence[str], dim: int) -> None:
        """Create the collection with these named vectors (if new) and the payload indexes."""

    def exists(self) -> bool:
        """Whether the collection already exists (without creating it)."""

    def read_meta(self) -> dict[str, Any] | None:
        """The store's metadata record, or ``None`` if there is none yet."""

    def write_meta(self, meta: dict[str, Any]) -> None:
        """Write the metadata record."""

    def upsert(self, points: Sequence[StoredPoint]) -> None:
        """Insert or replace points by id."""

    def delete_ids(self, ids: Sequence[str]) -> None:
        """Delete points by id."""

    def delete_path_except(self, path: str, keep_ids: Sequence[str]) -> None:
        """Delete the chunks of ``path`` whose id is not in ``keep_ids``."""

    def delete_paths_not_in(self, keep_paths: Sequence[str]) -> None:
        """Delete every chunk and file record whose path is not in ``keep_paths``."""

    def retrieve(self, ids: Sequence[str], with_vectors: bool = False) -> list[StoredHit]:
        """Points by id (missing ids are left out)."""

    def scroll(self, record: str, fields: Sequence[str] | None = None) -> Iterator[StoredHit]:
        """Every point of one record kind (``chunk`` / ``file``), with the given payload fields."""

    def vectors_by_hash(self, hashes: Sequence[str]) -> list[StoredHit]:
        """Chunks whose content hash is in ``hashes``, with vectors and payload."""

    def search(
        self,
        space: str,
        vector: Sequence[float],
        limit: int,
        languages: Sequence[str] | None = None,
        paths: Sequence[str] | None = None,
        *,
        with_payload: bool = True,
    ) -> list[StoredHit]:
        """Nearest chunks in one named space, optionally restricted to languages and paths.

        ``with_payload=False`` returns ids and scores only (payload ``{}``): a caller that fuses several
        searches fetches the payloads of the hits it keeps with one :meth:`retrieve` instead.
        """

    def count(self, record: str | None = None) -> int:
        """Number of points, optionally of one record kind."""

    def flush(self) -> None:
        """Make every write so far durable."""

    def optimize(self) -> None:
        """Build indexes (HNSW) now rather than at first search."""

    def close(self) -> None:
        """Release files and locks."""


class StoreLockedError(RuntimeError):
    """Another process holds the embedded store."""


def _uuid_str(value: Any) -> str:
    return str(value)


# ============================================================================ Qdrant Edge
class EdgeStore:
    """The embedded store, on Qdrant Edge, in one folder (the shard, its WAL, a lock file).

    Args:
        path: The index folder (created if missing), e.g. ``~/src/myrepo/.loracode``.
        read_only: Open for searching only (still takes the lock: Qdrant Edge allows one process).
    """

    def __init__(self, path: str | os.PathLike[str], *, read_only: bool = False) -> None:
        import qdrant_edge  # noqa: F401  (fail early with a clear ImportError)

        self.root = Path(path).expanduser().absolute()
        self.location = str(self.root)
        self.read_only = read_only
        self._shard: Any = None
        self._lock_fh: Any = None

    @property
    def _shard_dir(self) -> Path:
        return self.root / "shard"

    def exists(self) -> bool:
        return (self._shard_dir / "edge_config.json").exists()

    def acquire(self) -> None:
        """Take the store's lock now (``open`` does too); fails at once if another process holds it."""
        if self._lock_fh is None:
            self._lock()

    def _lock(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        lock_path = self.root / "lock"
        fh = open(lock_path, "a+")
        try:
            import fcntl

            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except ImportError:  # pragma: no cover - no fcntl (Windows): Qdrant Edge's WAL lock still applies
            pass
        except OSError as exc:
            fh.seek(0)
            holder = fh.read().strip() or "unknown"
            fh.close()
            raise StoreLockedError(
                f"The index at {self.location} is in use by another loracode process ({holder}). "
                "Only one process can open an embedded index at a time: wait for it to finish, "
                "or use a Qdrant server (--qdrant-url) for concurrent access."
            ) from exc
        fh.seek(0)
        fh.truncate()
        fh.write(f"pid {os.getpid()}\n")
        fh.flush()
        self._lock_fh = fh

    def open(self, spaces: Sequence[str], dim: int, *, sparse_space: str | None = None) -> None:
        import qdrant_edge as qe

        if self._shard is not None:
            return
        self.sparse_space = sparse_space
        self.acquire()
        try:
            if self.exists():
                if not self.read_only:
                    self._remove_leftover_builds()
                self._shard = qe.EdgeShard.load(str(self._shard_dir))
            else:
                if self.read_only:
                    raise FileNotFoundError(f"No index at {self.location}: run `loracode index` first")
                config = qe.EdgeConfig(
                    vectors={
                        name: qe.EdgeVectorParams(size=dim, distance=qe.Distance.Cosine) for name in spaces
                    },
                    sparse_vectors=_edge_sparse_config(sparse_space),
                )
                self._shard = qe.EdgeShard.create(str(self._shard_dir), config)
                for name in INDEXED_FIELDS:
                    self._shard.update(
                        qe.UpdateOperation.create_field_index(name, qe.PayloadSchemaType.Keyword)
                    )
        except Exception:
            self.close()
            raise

    def has_sparse(self, name: str) -> bool:
        """Whether the shard declares the sparse vector ``name`` (read from its config file)."""
        import json

        try:
            config = json.loads((self._shard_dir / "edge_config.json").read_text())
        except (OSError, ValueError):
            return False
        return name in (config.get("sparse_vectors") or {})

    def add_sparse_space(self, name: str) -> None:
        """Declare the sparse vector ``name`` (IDF modifier) on an existing shard; no-op if present."""
        import qdrant_edge as qe

        if not self.has_sparse(name):
            self._require().update(qe.UpdateOperation.create_sparse_vector(name, modifier=qe.Modifier.Idf))
            self._require().flush()

    def set_sparse(self, vectors: dict[str, SparseVector], name: str) -> None:
        """Replace the sparse vector ``name`` of existing points (their other vectors stay)."""
        import qdrant_edge as qe

        items = list(vectors.items())
        for i in range(0, len(items), _BATCH):
            batch = [qe.PointVectors(pid, {name: qe.SparseVector(v.indices, v.values)})
                     for pid, v in items[i : i + _BATCH]]  # fmt: skip
            self._require().update(qe.UpdateOperation.update_vectors(batch))

    def _remove_leftover_builds(self) -> None:
        """Delete segment builds a killed process left in ``shard/temp_segments``.

        Qdrant Edge builds an optimized (HNSW) segment there and swaps it in only when it is complete;
        a process killed during the build leaves the half-built copy behind (as large as the data it
        was merging), and loading the shard does not remove it. We hold the store's lock, so no build
        is running: what is there is garbage.
        """
        temp = self._shard_dir / "temp_segments"
        if not temp.is_dir():
            return
        for entry in temp.iterdir():
            logger.warning("Removing %s, left by an index run that was stopped during an HNSW build", entry)
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry)
            else:
                entry.unlink()

    def _require(self) -> Any:
        if self._shard is None:
            raise RuntimeError("Store is not open: call open() first")
        return self._shard

    def read_meta(self) -> dict[str, Any] | None:
        records = self._require().retrieve([META_POINT_ID], with_payload=True, with_vector=False)
        return dict(records[0].payload) if records else None

    def write_meta(self, meta: dict[str, Any]) -> None:
        self.upsert([StoredPoint(META_POINT_ID, {}, {**meta, "record": "meta"})])

    def upsert(self, points: Sequence[StoredPoint]) -> None:
        import qdrant_edge as qe

        shard = self._require()
        sparse = getattr(self, "sparse_space", None)
        for i in range(0, len(points), _BATCH):
            batch = [qe.Point(p.id, _with_sparse(p, sparse, _edge_sparse), p.payload)
                     for p in points[i : i + _BATCH]]  # fmt: skip
            shard.update(qe.UpdateOperation.upsert_points(batch))

    def delete_ids(self, ids: Sequence[str]) -> None:
        import qdrant_edge as qe

        if ids:
            self._require().update(qe.UpdateOperation.delete_points(list(ids)))

    def delete_path_except(self, path: str, keep_ids: Sequence[str]) -> None:
        import qdrant_edge as qe

        must_not: list[Any] = [qe.HasIdCondition(set(keep_ids))] if keep_ids else []
        flt = qe.Filter(
            must=[qe.FieldCondition("record", match=qe.MatchValue("chunk")),
                  qe.FieldCondition("path", match=qe.MatchValue(path))],
            must_not=must_not or None,
        )  # fmt: skip
        self._require().update(qe.UpdateOperation.delete_points_by_filter(flt))

    def delete_paths_not_in(self, keep_paths: Sequence[str]) -> None:
        import qdrant_edge as qe

        must = [qe.FieldCondition("record", match=qe.MatchAny(["chunk", "file"]))]
        must_not = [qe.FieldCondition("path", match=qe.MatchAny(list(keep_paths)))] if keep_paths else None
        self._require().update(
            qe.UpdateOperation.delete_points_by_filter(qe.Filter(must=must, must_not=must_not))
        )

    def retrieve(self, ids: Sequence[str], with_vectors: bool = False) -> list[StoredHit]:
        if not ids:
            return []
        records = self._require().retrieve(list(ids), with_payload=True, with_vector=with_vectors)
        return [StoredHit(_uuid_str(r.id), 1.0, dict(r.payload or {}), r.vector if with_vectors else None)
                for r in records]  # fmt: skip

    def scroll(self, record: str, fields: Sequence[str] | None = None) -> Iterator[StoredHit]:
        import qdrant_edge as qe

        flt = qe.Filter(must=[qe.FieldCondition("record", match=qe.MatchValue(record))])
        offset = None
        while True:
            records, offset = self._require().scroll(
                qe.ScrollRequest(offset=offset, limit=1024, filter=flt,
                                 with_payload=list(fields) if fields is not None else True)
            )  # fmt: skip
            for r in records:
                yield StoredHit(_uuid_str(r.id), 1.0, dict(r.payload or {}))
            if offset is None:
                break

    def vectors_by_hash(self, hashes: Sequence[str]) -> list[StoredHit]:
        import qdrant_edge as qe

        if not hashes:
            return []
        flt = qe.Filter(
            must=[
                qe.FieldCondition("record", match=qe.MatchValue("chunk")),
                qe.FieldCondition("content_hash", match=qe.MatchAny(list(hashes))),
            ]
        )
        out: list[StoredHit] = []
        offset = None
        while True:
            records, offset = self._require().scroll(
                qe.ScrollRequest(offset=offset, limit=512, filter=flt,
                                 with_payload=["content_hash", "language"], with_vector=True)
            )  # fmt: skip
            out.extend(StoredHit(_uuid_str(r.id), 1.0, dict(r.payload or {}), r.vector) for r in records)
            if offset is None:
                return out

    def search(
        self,
        space: str,
        vector: Sequence[float],
        limit: int,
        languages: Sequence[str] | None = None,
        paths: Sequence[str] | None = None,
        *,
        with_payload: bool = True,
    ) -> list[StoredHit]:
        hits = self._require().query(self._request(space, vector, limit, languages, paths, with_payload))
        return _scored_hits(hits, with_payload)

    @staticmethod
    def _request(
        space: str,
        vector: Sequence[float],
        limit: int,
        languages: Sequence[str] | None,
        paths: Sequence[str] | None,
        with_payload: bool,
    ) -> Any:
        import qdrant_edge as qe

        # No `record == "chunk"` condition: file and meta records are stored without vectors, and a
        # search in a named space only scores points that have that vector (test_vector_search_returns_
        # only_chunks). The condition made every search a filtered one: about 1 ms per space at 100k
        # chunks on the 2-core dev machine (docs/benchmarks.md, "Search latency").
        must = _match_any(
            {"language": languages, "path": paths},
            lambda key, values: qe.FieldCondition(key, match=qe.MatchAny(values)),
        )
        return qe.QueryRequest(
            limit=limit,
            query=qe.Query.Nearest([float(x) for x in vector], using=space),
            filter=qe.Filter(must=must) if must else None,
            with_payload=with_payload,
        )

    def search_many(
        self,
        searches: Sequence[SpaceSearch],
        limit: int,
        paths: Sequence[str] | None = None,
        *,
        with_payload: bool = True,
    ) -> list[list[StoredHit]]:
        """Several searches in one call (Qdrant Edge's ``query_batch``): the hits of each, in order.

        Same results as one :meth:`search` per item, in one call instead of one per space (little
        difference in-process on the 2-core dev machine, docs/benchmarks.md; a round trip per space
        less against a server).
        """
        import qdrant_edge as qe

        requests = [self._request(space, vector, limit, languages, paths, with_payload)
                    for space, vector, languages in searches]  # fmt: skip
        if not requests:
            return []
        results = self._require().query_batch(qe.QueryBatchRequest(requests))
        return [_scored_hits(hits, with_payload) for hits in results]

    def hybrid_search(self, plan: HybridPlan, limit: int) -> list[StoredHit]:
        """Dense and sparse searches fused in the engine: prefetches and Qdrant Edge's RRF (or DBSF).

        Returns ids and fused scores only (payload ``{}``), best first.
        """
        import qdrant_edge as qe

        prefetches = [
            qe.Prefetch(limit=plan.prefetch_limit, query=qe.Query.Nearest(query, using=space),
                        filter=qe.Filter(must=must) if must else None)
            for space, query, must in plan.legs(
                lambda key, values: qe.FieldCondition(key, match=qe.MatchAny(values)),
                _edge_sparse,
            )
        ]  # fmt: skip
        if len(prefetches) == 1:  # one leg (sparse only): its own scores, no fusion
            leg = prefetches[0]
            request = qe.QueryRequest(limit=limit, query=leg.query, filter=leg.filter, with_payload=False)
        else:
            fusion = (
                qe.Fusion.Dbsf()
                if plan.fusion == "dbsf"
                else qe.Fusion.Rrf(k=plan.rrf_k, weights=plan.weights)
            )
            request = qe.QueryRequest(limit=limit, query=fusion, prefetches=prefetches, with_payload=False)
        return _scored_hits(self._require().query(request), False)

    def count(self, record: str | None = None) -> int:
        import qdrant_edge as qe

        flt = qe.Filter(must=[qe.FieldCondition("record", match=qe.MatchValue(record))]) if record else None
        return int(self._require().count(qe.CountRequest(filter=flt, exact=True)))

    def flush(self) -> None:
        self._require().flush()

    def optimize(self) -> None:
        self._require().optimize()

    def close(self) -> None:
        if self._shard is not None:
            try:
                if not self.read_only:
                    self._shard.flush()
                self._shard.close()
            finally:
                self._shard = None
        if self._lock_fh is not None:
            self._lock_fh.close()
            self._lock_fh = None


# ============================================================================ Qdrant server
class ServerStore:
    """A collection on a Qdrant server or cluster, through ``qdrant-client``.

    Args:
        client: A ``qdrant_client.QdrantClient`` (``QdrantClient(url=..., api_key=...)``, or
            ``QdrantClient(":memory:")`` in tests).
        collection: Collection name.
    """

    def __init__(self, client: Any, collection: str = "loracode") -> None:
        if not isinstance(collection, str) or not collection:
            raise ValueError(f"collection must be a non-empty string, got {collection!r}")
        self.client = client
        self.collection = collection
        self.location = f"qdrant collection {collection!r}"

    @classmethod
    def from_url(cls, url: str, api_key: str | None = None, collection: str = "loracode") -> ServerStore:
        """Connect to a server, e.g. ``ServerStore.from_url("http://localhost:6333")``."""
        from qdrant_client import QdrantClient

        return cls(QdrantClient(url=url, api_key=api_key), collection)

    def exists(self) -> bool:
        return bool(self.client.collection_exists(self.collection))

    def open(self, spaces: Sequence[str], dim: int, *, sparse_space: str | None = None) -> None:
        from qdrant_client import models

        self.sparse_space = sparse_space
        if not self.exists():
            self.client.create_collection(
                self.collection,
                vectors_config={
                    s: models.VectorParams(size=dim, distance=models.Distance.COSINE) for s in spaces
                },
                sparse_vectors_config={sparse_space: models.SparseVectorParams(modifier=models.Modifier.IDF)}
                if sparse_space
                else None,
            )
            for name in INDEXED_FIELDS:
                self.client.create_payload_index(self.collection, name, models.PayloadSchemaType.KEYWORD)

    def has_sparse(self, name: str) -> bool:
        """Whether the collection declares the sparse vector ``name``."""
        params = self.client.get_collection(self.collection).config.params
        return name in (params.sparse_vectors or {})

    def add_sparse_space(self, name: str) -> None:
        """Declare the sparse vector ``name`` (IDF modifier) on an existing collection; no-op if present."""
        from qdrant_client import models

        if not self.has_sparse(name):
            self.client.update_collection(
                self.collection,
                sparse_vectors_config={name: models.SparseVectorParams(modifier=models.Modifier.IDF)},
            )

    def set_sparse(self, vectors: dict[str, SparseVector], name: str) -> None:
        """Replace the sparse vector ``name`` of existing points (their other vectors stay)."""
        from qdrant_client import models

        items = list(vectors.items())
        for i in range(0, len(items), _BATCH):
            batch = [models.PointVectors(id=pid, vector={name: models.SparseVector(**v.to_dict())})
                     for pid, v in items[i : i + _BATCH]]  # fmt: skip
            self.client.update_vectors(self.collection, points=batch, wait=True)

    def read_meta(self) -> dict[str, Any] | None:
        records = self.client.retrieve(self.collection, [META_POINT_ID], with_payload=True)
        return dict(records[0].payload) if records else None

    def write_meta(self, meta: dict[str, Any]) -> None:
        self.upsert([StoredPoint(META_POINT_ID, {}, {**meta, "record": "meta"})])

    def upsert(self, points: Sequence[StoredPoint]) -> None:
        from qdrant_client import models

        sparse = getattr(self, "sparse_space", None)
        make = lambda v: models.SparseVector(indices=v.indices, values=v.values)  # noqa: E731
        for i in range(0, len(points), _BATCH):
            batch = [
                models.PointStruct(id=p.id, vector=_with_sparse(p, sparse, make), payload=p.payload)
                for p in points[i : i + _BATCH]
            ]
            self.client.upsert(self.collection, points=batch, wait=True)

    def delete_ids(self, ids: Sequence[str]) -> None:
        from qdrant_client import models

        if ids:
            self.client.delete(
                self.collection, points_selector=models.PointIdsList(points=list(ids)), wait=True
            )

    def _delete_filter(self, flt: Any) -> None:
        from qdrant_client import models

        self.client.delete(self.collection, points_selector=models.FilterSelector(filter=flt), wait=True)

    def delete_path_except(self, path: str, keep_ids: Sequence[str]) -> None:
        from qdrant_client import models as m

        self._delete_filter(
            m.Filter(
                must=[m.FieldCondition(key="record", match=m.MatchValue(value="chunk")),
                      m.FieldCondition(key="path", match=m.MatchValue(value=path))],
                must_not=[m.HasIdCondition(has_id=list(keep_ids))] if keep_ids else None,
            )
        )  # fmt: skip

    def delete_paths_not_in(self, keep_paths: Sequence[str]) -> None:
        from qdrant_client import models as m

        self._delete_filter(
            m.Filter(
                must=[m.FieldCondition(key="record", match=m.MatchAny(any=["chunk", "file"]))],
                must_not=[m.FieldCondition(key="path", match=m.MatchAny(any=list(keep_paths)))]
                if keep_paths
                else None,
            )
        )  # fmt: skip

    def retrieve(self, ids: Sequence[str], with_vectors: bool = False) -> list[StoredHit]:
        if not ids:
            return []
        records = self.client.retrieve(
            self.collection, list(ids), with_payload=True, with_vectors=with_vectors
        )
        return [StoredHit(_uuid_str(r.id), 1.0, dict(r.payload or {}), r.vector if with_vectors else None)
                for r in records]  # fmt: skip

    def _scroll(self, flt: Any, fields: Any, with_vectors: bool) -> Iterator[Any]:
        offset = None
        while True:
            records, offset = self.client.scroll(
                self.collection, scroll_filter=flt, limit=1024, offset=offset,
                with_payload=fields, with_vectors=with_vectors,
            )  # fmt: skip
            yield from records
            if offset is None:
                return

    def scroll(self, record: str, fields: Sequence[str] | None = None) -> Iterator[StoredHit]:
        from qdrant_client import models as m

        flt = m.Filter(must=[m.FieldCondition(key="record", match=m.MatchValue(value=record))])
        for r in self._scroll(flt, list(fields) if fields is not None else True, False):
            yield StoredHit(_uuid_str(r.id), 1.0, dict(r.payload or {}))

    def vectors_by_hash(self, hashes: Sequence[str]) -> list[StoredHit]:
        from qdrant_client import models as m

        if not hashes:
            return []
        flt = m.Filter(
            must=[
                m.FieldCondition(key="record", match=m.MatchValue(value="chunk")),
                m.FieldCondition(key="content_hash", match=m.MatchAny(any=list(hashes))),
            ]
        )
        return [StoredHit(_uuid_str(r.id), 1.0, dict(r.payload or {}), r.vector)
                for r in self._scroll(flt, ["content_hash", "language"], True)]  # fmt: skip

    def search(
        self,
        space: str,
        vector: Sequence[float],
        limit: int,
        languages: Sequence[str] | None = None,
        paths: Sequence[str] | None = None,
        *,
        with_payload: bool = True,
    ) -> list[StoredHit]:
        request = self._request(space, vector, limit, languages, paths, with_payload)
        response = self.client.query_points(
            self.collection, query=request.query, using=request.using, query_filter=request.filter,
            limit=request.limit, with_payload=request.with_payload,
        )  # fmt: skip
        return _scored_hits(response.points, with_payload)

    @staticmethod
    def _request(
        space: str,
        vector: Sequence[float],
        limit: int,
        languages: Sequence[str] | None,
        paths: Sequence[str] | None,
        with_payload: bool,
    ) -> Any:
        from qdrant_client import models as m

        # No `record` condition, as in EdgeStore._request: vector-less records are never scored.
        must = _match_any(
            {"language": languages, "path": paths},
            lambda key, values: m.FieldCondition(key=key, match=m.MatchAny(any=values)),
        )
        return m.QueryRequest(
            query=[float(x) for x in vector],
            using=space,
            limit=limit,
            filter=m.Filter(must=must) if must else None,
            with_payload=with_payload,
        )

    def search_many(
        self,
        searches: Sequence[SpaceSearch],
        limit: int,
        paths: Sequence[str] | None = None,
        *,
        with_payload: bool = True,
    ) -> list[list[StoredHit]]:
        """Several searches in one request (``query_batch_points``): the hits of each, in order."""
        requests = [self._request(space, vector, limit, languages, paths, with_payload)
                    for space, vector, languages in searches]  # fmt: skip
        if not requests:
            return []
        responses = self.client.query_batch_points(self.collection, requests=requests)
        return [_scored_hits(response.points, with_payload) for response in responses]

    def hybrid_search(self, plan: HybridPlan, limit: int) -> list[StoredHit]:
        """Dense and sparse searches fused on the server: Query API prefetches and RRF (or DBSF).

        Returns ids and fused scores only (payload ``{}``), best first.
        """
        from qdrant_client import models as m

        prefetches = [
            m.Prefetch(query=query, using=space, limit=plan.prefetch_limit,
                       filter=m.Filter(must=must) if must else None)
            for space, query, must in plan.legs(
                lambda key, values: m.FieldCondition(key=key, match=m.MatchAny(any=values)),
                lambda v: m.SparseVector(indices=v.indices, values=v.values),
            )
        ]  # fmt: skip
        if len(prefetches) == 1:  # one leg (sparse only): its own scores, no fusion
            leg = prefetches[0]
            response = self.client.query_points(
                self.collection, query=leg.query, using=leg.using, query_filter=leg.filter,
                limit=limit, with_payload=False,
            )  # fmt: skip
            return _scored_hits(response.points, False)
        query: Any = (
            m.FusionQuery(fusion=m.Fusion.DBSF)
            if plan.fusion == "dbsf"
            else m.RrfQuery(rrf=m.Rrf(k=plan.rrf_k, weights=plan.weights))
        )
        response = self.client.query_points(self.collection, prefetch=prefetches, query=query, limit=limit,
                                            with_payload=False)  # fmt: skip
        return _scored_hits(response.points, False)

    def count(self, record: str | None = None) -> int:
        from qdrant_client import models as m

        flt = (
            m.Filter(must=[m.FieldCondition(key="record", match=m.MatchValue(value=record))])
            if record
            else None
        )
        return int(self.client.count(self.collection, count_filter=flt, exact=True).count)

    def flush(self) -> None:
        """Writes use ``wait=True``: nothing to do."""

    def optimize(self) -> None:
        """The server builds its indexes in the background: nothing to do."""

    def close(self) -> None:
        """The client belongs to the caller: left open."""
