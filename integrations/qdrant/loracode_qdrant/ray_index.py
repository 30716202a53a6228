"""Index many trees at once on Ray (``loracode index --ray``): chunking as Ray Data tasks, embedding in
a pool of model actors, writes from this process.

One run over several trees (each keeps its own index, as with ``CodeIndex.index``):

1. Here, per tree: open the store and check its metadata, walk, read and hash every file
   (:func:`~loracode_qdrant.index.read_file`); files whose stored record has the same hash are done.
2. Ray Data tasks chunk the new and changed files of every tree (tree-sitter and token counting, the
   CPU part before the model); their bytes travel with the tasks, so workers need no shared disk.
3. Here: vectors the store already holds (same chunk id, or same content and language) are reused,
   as in ``CodeIndex.index``; the rest, deduplicated over all trees, go to an actor pool
   (``map_batches`` with a callable class on an :class:`~ray.data.ActorPoolStrategy`): one actor per
   GPU, or per CPU slot, each loading the model once.
4. Here, as vectors come back: a file whose vectors are all known is written in the same order as
   ``CodeIndex.index`` (chunks, then the file's stale chunks go, then its "done" record), a few
   files per store call. Stale paths are deleted, the metadata and run record written, the store
   flushed and optimized.

Failures: an actor whose process dies is restarted and its batches run again, and a chunk task whose
process dies runs again (Ray Data's defaults: ``max_restarts=-1``, ``max_task_retries=-1`` for its
actors, ``max_retries=-1`` for its tasks; passing other values through ``map_batches`` is deprecated
since Ray 2.60). An exception raised by the model is not retried: it fails the run. A retried batch
gives each row once, and point ids come from content: nothing is lost or duplicated. Only this process
writes, and a file's record comes after its chunks, so a run that fails anywhere leaves every tree
consistent, and the next run redoes only the files it had not finished.

Stores: the embedded store (``.loracode/`` in each tree) is written by this process, so it works
with a local Ray instance or a cluster whose driver runs where the trees are; a Qdrant server
(``ServerStore``) works the same way. Workers never open a store.

Example (Ray starts a local instance if none is running)::

    import ray
    from loracode_qdrant.index import CodeIndex
    from loracode_qdrant.ray_index import ModelLoader, index_on_ray

    ray.init()
    loader = ModelLoader()                       # each actor loads the default bundle once
    model = loader(device="cpu")                 # this process: metadata, routing, tokenizer
    trees = [CodeIndex(root, model=model) for root in ("~/src/app", "~/src/lib")]
    summaries = index_on_ray(trees, loader)      # one IndexSummary per tree
"""

from __future__ import annotations

import contextlib
import logging
import os
import time
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from loracode_qdrant.chunking import Chunker
from loracode_qdrant.index import (
    CodeIndex,
    IndexSummary,
    PlannedFile,
    PreparedFile,
    TreePlan,
    Vectors,
    chunk_file,
    read_file,
)
from loracode_qdrant.runlog import RunRecord
from loracode_qdrant.walk import WalkResult, walk_tree

logger = logging.getLogger(__name__)

#: Files chunked per Ray task.
FILES_PER_TASK = 32
#: Why this module needs Ray, for the message when it is missing.
MISSING_RAY = (
    "--ray needs Ray, which is not installed. Install the extra: "
    'pip install "loracode-qdrant[ray]" (or: pip install "ray[data]>=2.51")'
)


def require_ray() -> Any:
    """The ``ray`` module, or an ``ImportError`` that names the extra to install.

    Example:
        >>> require_ray().__name__
        'ray'
    """
    try:
        import ray
        import ray.data  # noqa: F401  (the data extra: pyarrow, pandas)
    except ImportError as exc:
        raise ImportError(MISSING_RAY) from exc
    return ray


@dataclass(frozen=True)
class ModelLoader:
    """A picklable recipe for the model, run once in each embedding actor (and once here).

    Args:
        model_dir: Model bundle folder (``None``: the packaged default bundle).
        dtype: As ``LoRACodeModel.from_pretrained(dtype=...)``.

    Example:
        >>> ModelLoader(dtype="float32")
        ModelLoader(model_dir=None, dtype='float32')
    """

    model_dir: str | None = None
    dtype: str | None = "auto"

    def __call__(self, device: str | None = None) -> Any:
        """Load the model on ``device`` (default: the GPU Ray gave this actor, else the CPU)."""
        from loracode_embed import LoRACodeModel

        if device is None:
            import ray

            gpus = ray.get_runtime_context().get_accelerator_ids().get("GPU", [])
            device = "cuda" if gpus else "cpu"  # Ray limits CUDA_VISIBLE_DEVICES to the actor's GPU
        return LoRACodeModel.from_pretrained(self.model_dir, device=device, dtype=self.dtype)


class TokenCounter:
    """``count_tokens`` from the model's tokenizer alone, so chunk tasks need not load the weights.

    Counts as ``LoRACodeModel.count_tokens`` does: special tokens included, no truncation.
    """

    def __init__(self, tokenizer: Any) -> None:
        self.tokenizer = tokenizer

    def __call__(self, texts: Sequence[str]) -> list[int]:
        if not texts:
            return []
        encoded = self.tokenizer(list(texts), add_special_tokens=True, truncation=False, verbose=False)
        return [len(ids) for ids in encoded["input_ids"]]


def picklable_chunker(chunker: Chunker, model: Any) -> Chunker:
    """``chunker`` with a token counter that travels to Ray tasks without the model's weights."""
    tokenizer = getattr(model, "tokenizer", None)
    count = TokenCounter(tokenizer) if tokenizer is not None else chunker.count_tokens
    return Chunker(count, chunker.max_tokens, window_lines=chunker.window_lines,
                   window_overlap=chunker.window_overlap)  # fmt: skip


def chunk_batch(batch: dict[str, np.ndarray], chunker: Chunker) -> dict[str, np.ndarray]:
    """Ray Data task: chunk a batch of read files (columns ``tree``, ``file``, ``prepared``, ``data``)."""
    pairs = zip(batch["prepared"], batch["data"], strict=True)
    done = [chunk_file(prepared, bytes(data), chunker) for prepared, data in pairs]
    return {"tree": batch["tree"], "file": batch["file"], "prepared": _objects(done)}


class Embedder:
    """Ray Data actor: loads the model once, then embeds batches of rows.

    A batch's rows (columns ``row``, ``task``, ``adapter``, ``language``, ``text``) are grouped by the
    adapter, task and language, as ``CodeIndex`` groups its calls to ``encode_code``.
    """

    def __init__(self, model_factory: Callable[[], Any], batch_size: int) -> None:
        self.model = model_factory()
        self.batch_size = batch_size

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        groups: dict[tuple[str, str, str], list[int]] = defaultdict(list)
        for i, key in enumerate(zip(batch["task"], batch["adapter"], batch["language"], strict=True)):
            groups[(str(key[0]), str(key[1]), str(key[2]))].append(i)
        out = np.empty((len(batch["row"]), int(self.model.embedding_dim)), dtype=np.float32)
        for (task, adapter, language), rows in groups.items():
            texts = [str(batch["text"][i]) for i in rows]
            vectors = self.model.encode_code(
                texts, languages=language, task=task, adapter=adapter, batch_size=self.batch_size
            )
            out[rows] = np.asarray(vectors, dtype=np.float32)
        return {"row": batch["row"], "vector": out}


@dataclass
class _Tree:
    """One tree's state during a run."""

    index: CodeIndex
    meta: dict[str, Any]
    run: RunRecord
    summary: IndexSummary
    walk: WalkResult
    existing: dict[str, dict[str, Any]]
    started: float
    prepared: list[PreparedFile | None] = field(default_factory=list)
    plan: TreePlan | None = None
    vectors: Vectors = field(default_factory=dict)
    missing: list[int] = field(default_factory=list)  # per planned file: vectors still to come
    ready: list[int] = field(default_factory=list)  # planned files with every vector, not written yet
    ready_chunks: int = 0


def index_on_ray(
    indexes: Sequence[CodeIndex],
    model_factory: Callable[[], Any],
    *,
    workers: int | None = None,
    use_gpus: bool | None = None,
    rebuild: bool = False,
) -> list[IndexSummary]:
    """Index (or incrementally re-index) several trees on the current Ray instance.

    Args:
        indexes: One ``CodeIndex`` per tree, each with its ``root`` and store; their ``model`` (loaded
            here) gives the metadata, the routing and the tokenizer, and must be the model that
            ``model_factory`` loads.
        model_factory: A picklable callable returning the model; each embedding actor calls it once
            (e.g. :class:`ModelLoader`, or ``FakeModel`` in tests).
        workers: Embedding actors (default: one per GPU of the cluster, else one per CPU).
        use_gpus: One GPU per actor (default: when the cluster has GPUs).
        rebuild: Drop each existing index first.

    Returns:
        One summary per tree, in order.

    Raises:
        ValueError: a tree given twice, or more workers than the cluster has slots for.
        ImportError: Ray is not installed.
    """
    ray = require_ray()
    roots = [index.root for index in indexes]
    if any(root is None for root in roots):
        raise ValueError("every CodeIndex needs its root (the tree to index)")
    dupes = sorted({str(r) for r in roots if roots.count(r) > 1})
    if dupes:
        raise ValueError(f"a tree is listed twice: {', '.join(dupes)}")
    if not ray.is_initialized():
        os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
        ray.init()
    ray.data.DataContext.get_current().enable_progress_bars = False  # our bar counts chunks
    actors, resources = _embedding_slots(ray, workers, use_gpus)
    trees: list[_Tree] = []
    progress = None
    try:
        for index in indexes:
            trees.append(_start(index, rebuild))
        _chunk_on_ray(ray, trees)
        rows, waiters = _plan_embedding(trees)
        total = sum(t.run.chunks_total for t in trees)
        progress = indexes[0]._progress(total) if total else None
        for tree in trees:
            _write_ready(tree, progress, force=True)  # files whose vectors are all stored already
        if rows:
            batch_rows = indexes[0].batch_size * 4  # as CodeIndex.index groups its encode calls
            dataset = ray.data.from_items(_batch_order(rows, batch_rows)).map_batches(
                Embedder,
                batch_size=batch_rows,
                compute=ray.data.ActorPoolStrategy(size=actors),
                fn_constructor_kwargs={"model_factory": model_factory, "batch_size": indexes[0].batch_size},
                **resources,
            )
            for batch in dataset.iter_batches(batch_format="numpy", batch_size=None):
                for row, vector in zip(batch["row"], batch["vector"], strict=True):
                    values = vector.tolist()
                    for t, fi, ci, space in waiters.pop(int(row), ()):  # a retried batch comes once
                        tree = trees[t]
                        tree.vectors.setdefault((fi, ci), {})[space] = values
                        tree.missing[fi] -= 1
                        if tree.missing[fi] == 0:
                            tree.ready.append(fi)
                            tree.ready_chunks += len(tree.plan.files[fi][2])  # type: ignore[union-attr]
                for tree in trees:
                    _write_ready(tree, progress)
            if waiters:  # cannot happen unless Ray drops rows: say so rather than finish an index short
                raise RuntimeError(f"{len(waiters)} embeddings did not come back from the Ray workers")
        for tree in trees:
            _write_ready(tree, progress, force=True)
        if progress:
            progress.close()
            progress = None
        return [_finish(tree) for tree in trees]
    except BaseException as exc:
        for tree in trees:
            if tree.run.state == "running":
                tree.run.state, tree.run.finished = "failed", time.time()
                tree.run.error = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
                with contextlib.suppress(Exception):
                    tree.index._save_run(tree.run, tree.meta)
        raise
    finally:
        if progress:
            progress.close()


def _embedding_slots(ray: Any, workers: int | None, use_gpus: bool | None) -> tuple[int, dict[str, float]]:
    """How many embedding actors, and the resources of each: one GPU each, or one CPU each."""
    cluster = ray.cluster_resources()
    gpus, cpus = int(cluster.get("GPU", 0)), int(cluster.get("CPU", 0))
    if use_gpus is None:
        use_gpus = gpus > 0
    if use_gpus and gpus == 0:
        raise ValueError("use_gpus=True, but the Ray cluster has no GPU")
    slots, kind = (gpus, "GPU") if use_gpus else (max(cpus, 1), "CPU")
    if workers is None:
        workers = slots
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise ValueError(f"workers must be a positive int, got {workers!r}")
    if workers > slots:
        raise ValueError(
            f"workers={workers}, but the Ray cluster has {slots} {kind} slot(s) (one embedding actor each)"
        )
    return workers, ({"num_gpus": 1} if use_gpus else {"num_cpus": 1})


def _start(index: CodeIndex, rebuild: bool) -> _Tree:
    """Open one tree's store (checking its metadata), walk the tree, read and hash its files."""
    started = time.perf_counter()
    if rebuild:
        index._drop()
    meta = index._open(for_write=True)
    store = index.store
    walk = walk_tree(index.root, max_file_bytes=index.max_file_bytes)  # type: ignore[arg-type]
    summary = IndexSummary(root=str(index.root), store=store.location, files=len(walk.files))
    run = RunRecord.start(files_total=len(walk.files))
    index._save_run(run, meta)
    existing = {hit.payload["path"]: hit.payload for hit in store.scroll("file", ["path", "file_hash"])}
    return _Tree(index, meta, run, summary, walk, existing, started)


def _chunk_on_ray(ray: Any, trees: list[_Tree]) -> None:
    """Read and hash every file here; chunk the new and changed ones in Ray tasks; plan each tree."""
    rows: list[dict[str, Any]] = []
    for t, tree in enumerate(trees):
        tree.prepared = [None] * len(tree.walk.files)
        for f, file in enumerate(tree.walk.files):
            prepared, data = read_file(file, tree.existing.get(file.path), tree.index.max_file_bytes)
            if data is None:
                tree.prepared[f] = prepared
            else:
                rows.append({"tree": t, "file": f, "prepared": prepared, "data": data})
    if rows:
        chunker = picklable_chunker(trees[0].index._chunker(), trees[0].index.model)
        dataset = ray.data.from_items(rows).map_batches(
            chunk_batch,
            batch_size=FILES_PER_TASK,
            fn_kwargs={"chunker": chunker},
            num_cpus=1,
        )
        for batch in dataset.iter_batches(batch_format="numpy", batch_size=None):
            for t, f, prepared in zip(batch["tree"], batch["file"], batch["prepared"], strict=True):
                trees[int(t)].prepared[int(f)] = prepared
    for tree in trees:
        plan = TreePlan(tree.summary, tree.walk.skipped.copy(), list(tree.walk.skipped_paths))
        for prepared in tree.prepared:
            if prepared is None:
                raise RuntimeError(f"a file of {tree.index.root} did not come back from the chunk tasks")
            plan.add(prepared)
        tree.plan, tree.prepared = plan, []
        tree.run.files_done = len(tree.walk.files) - len(plan.files)
        tree.run.chunks_total = sum(len(chunks) for _, _, chunks, _ in plan.files)
        tree.index._save_run(tree.run, tree.meta)
        # Searches of a run stopped half-way must see this run's languages (else they search nothing).
        tree.meta = {**tree.meta, "languages": sorted(set(tree.meta.get("languages", [])) | plan.languages),
                     "root": str(tree.index.root)}  # fmt: skip
        tree.index.store.write_meta(tree.meta)


#: Where a row's vector goes: ``(tree, file, chunk, space)`` for every chunk with the row's text.
Waiters = dict[int, list[tuple[int, int, int, str]]]


def _plan_embedding(trees: list[_Tree]) -> tuple[list[dict[str, Any]], Waiters]:
    """Reuse stored vectors; the rest become rows to embed, one per distinct (task, adapter, language,
    text) over all trees, with the ``(tree, file, chunk, space)`` places each row's vector fills."""
    rows: list[dict[str, Any]] = []
    row_of: dict[tuple[str, str, str, str], int] = {}
    waiters: Waiters = defaultdict(list)
    for t, tree in enumerate(trees):
        files = tree.plan.files  # type: ignore[union-attr]
        tree.vectors, todo = tree.index._stored_vectors(files, tree.summary)
        tree.missing = [0] * len(files)
        for (space, task, adapter, language), items in todo.items():
            for fi, ci, text in items:
                key = (task, adapter or "base", language, text)
                row = row_of.get(key)
                if row is None:
                    row = row_of[key] = len(rows)
                    rows.append({"row": row, "task": task, "adapter": key[1], "language": language,
                                 "text": text})  # fmt: skip
                waiters[row].append((t, fi, ci, space))
                tree.missing[fi] += 1
        tree.ready = [fi for fi, n in enumerate(tree.missing) if n == 0]
        tree.ready_chunks = sum(len(files[fi][2]) for fi in tree.ready)
    return rows, waiters


def _batch_order(rows: list[dict[str, Any]], batch_rows: int) -> list[dict[str, Any]]:
    """Rows in file order, sorted within each batch by encode call (task, adapter, language) then
    length: batches hold few calls and little padding, and files still finish, and are written, early."""
    out: list[dict[str, Any]] = []
    for start in range(0, len(rows), batch_rows):
        window = rows[start : start + batch_rows]
        out.extend(sorted(window, key=lambda r: (r["task"], r["adapter"], r["language"], -len(r["text"]))))
    return out


def _write_ready(tree: _Tree, progress: Any, force: bool = False) -> None:
    """Write the tree's files whose vectors are all known, once enough chunks wait (or ``force``)."""
    if not tree.ready or (not force and tree.ready_chunks < tree.index.batch_size * 4):
        return
    files = tree.plan.files  # type: ignore[union-attr]
    pending: list[PlannedFile] = [files[fi] for fi in tree.ready]
    vectors = {(k, ci): tree.vectors.pop((fi, ci))
               for k, fi in enumerate(tree.ready) for ci in range(len(files[fi][2]))}  # fmt: skip
    tree.index._write_points(pending, vectors)
    tree.index._advance(tree.run, tree.meta, pending, tree.ready_chunks, progress)
    tree.ready, tree.ready_chunks = [], 0


def _finish(tree: _Tree) -> IndexSummary:
    """Delete what left the tree, record languages, flush and optimize; the run is complete."""
    index, store, plan, summary = tree.index, tree.index.store, tree.plan, tree.summary
    assert plan is not None
    kept = set(plan.kept)
    summary.deleted = sum(1 for p in tree.existing if p not in kept)
    store.delete_paths_not_in(plan.kept)
    store.write_meta({**tree.meta, "languages": sorted(plan.languages), "root": str(index.root)})
    index._meta = tree.meta = store.read_meta() or tree.meta
    store.flush()
    if summary.added or summary.updated or summary.deleted:
        store.optimize()
    index._paths_cache = None
    summary.skipped = dict(sorted(plan.skipped.items()))
    summary.skipped_files = [{"path": p, "reason": r} for p, r in sorted(plan.skipped_files)]
    summary.chunks_total = store.count("chunk")
    summary.seconds = round(time.perf_counter() - tree.started, 3)
    tree.run.state, tree.run.finished = "complete", time.time()
    tree.run.updated = tree.run.finished
    index._save_run(tree.run, tree.meta)
    logger.info("Indexed %s on Ray: %s", index.root, summary)
    return summary


def _objects(items: Sequence[Any]) -> np.ndarray:
    """A numpy object column (Ray Data keeps Python objects in it as they are)."""
    out = np.empty(len(items), dtype=object)
    out[:] = list(items)
    return out


@contextlib.contextmanager
def ray_session(address: str | None, **init_kwargs: Any) -> Iterator[Any]:
    """Connect to (or start) Ray for the block; a local instance started here is shut down after it.

    ``address``: ``None`` (``RAY_ADDRESS`` if set, else a new local instance), ``"auto"`` (a cluster
    started on this machine with ``ray start``), ``"local"`` or ``"HOST:PORT"`` / ``"ray://HOST:PORT"``.
    Usage statistics are off unless ``RAY_USAGE_STATS_ENABLED`` says otherwise.
    """
    ray = require_ray()
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    if ray.is_initialized():  # a caller (a test, a notebook) already connected: use its instance
        yield ray
        return
    ray.init(address=address, **init_kwargs)
    try:
        yield ray
    finally:
        ray.shutdown()
