"""MultiDeviceModel: one LoRACodeModel replica per device, each encode call spread over all of them.

A call's inputs are grouped the way a single model would group them (by the task and language that
pick the adapter), ordered longest first within a group, and cut into chunks of whole batches. The
replicas take chunks from one shared queue as soon as they are free (work stealing: no device waits
for a slower one), and the vectors are put back in input order. Routing, validation and error
messages are those of :class:`~loracode_embed.model.LoRACodeModel`; only the batch composition
differs, so vectors agree with a single device's to float rounding (about 1e-7 in float32).

Small calls (no more than one batch) run on the first replica alone: a search query gains nothing
from a second device.

Example:
    >>> model = MultiDeviceModel.from_pretrained(devices=["cuda:0", "cuda:1"])  # doctest: +SKIP
    >>> model.encode_code(chunks, languages="python", batch_size=256).shape  # doctest: +SKIP
    (100000, 384)
"""

from __future__ import annotations

import math
import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from loracode_embed.inputs import check_texts, item_languages, language_alias
from loracode_embed.languages import canonical_language
from loracode_embed.manifest import Manifest
from loracode_embed.replica_pool import ProcessPool, Task, ThreadPool, describe_replica
from loracode_embed.routing import QUERY_TASKS, check_task
from loracode_embed.routing import route as route_adapters

#: How replicas run: ``thread`` (one thread per replica in this process) or ``process`` (one process each).
BACKENDS: tuple[str, ...] = ("thread", "process")
#: Aim for at least this many chunks per replica, so work stealing can even out uneven chunks.
CHUNKS_PER_REPLICA = 4


def parse_devices(devices: str | Sequence[str], argument: str = "devices") -> list[str]:
    """Check a device list; a string is split on commas (``"cuda:0,cuda:1"``, as on the command line).

    Every item must be a torch device string. A device may appear once, except ``cpu``: several CPU
    replicas share the cores, which is only useful for tests and smoke checks.

    Raises:
        TypeError: ``devices`` is not a string or a list of strings.
        ValueError: empty, an item that is not a device, or a device listed twice; the message names
            ``argument`` and the item.

    Example:
        >>> parse_devices("cuda:0, cuda:1")
        ['cuda:0', 'cuda:1']
        >>> parse_devices(["cuda:0", "cuda:0"])
        Traceback (most recent call last):
        ...
        ValueError: devices[1]: 'cuda:0' is listed twice (each device holds one replica)
    """
    import torch

    if isinstance(devices, str):
        items: list[Any] = [d.strip() for d in devices.split(",")]
    elif isinstance(devices, Sequence):
        items = list(devices)
    else:
        raise TypeError(f"{argument} must be a list of device strings, got {type(devices).__name__}")
    if not items or items == [""]:
        raise ValueError(f"{argument} must name at least one device, e.g. ['cuda:0', 'cuda:1']")
    seen: dict[tuple[str, int], int] = {}
    out = []
    for i, item in enumerate(items):
        if not isinstance(item, str):
            raise TypeError(f"{argument}[{i}] must be a device string, got {type(item).__name__}: {item!r}")
        try:
            device = torch.device(item.strip())
        except (RuntimeError, ValueError):
            raise ValueError(
                f"{argument}[{i}]: {item!r} is not a torch device (expected e.g. 'cuda:0', 'cuda:1', 'cpu')"
            ) from None
        if device.type != "cpu":
            key = (device.type, device.index or 0)
            if key in seen:
                raise ValueError(f"{argument}[{i}]: {item!r} is listed twice (each device holds one replica)")
            seen[key] = i
        out.append(str(device))
    return out


def _check_available(devices: list[str]) -> None:
    import torch

    for i, device in enumerate(devices):
        if device.startswith("cuda"):
            if not torch.cuda.is_available():
                raise ValueError(f"devices[{i}]: {device!r} but CUDA is not available on this machine")
            index = torch.device(device).index or 0
            if index >= torch.cuda.device_count():
                raise ValueError(
                    f"devices[{i}]: {device!r} but this machine has {torch.cuda.device_count()} CUDA device(s)"
                )


def _check_backend(backend: object) -> str:
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {', '.join(BACKENDS)}, got {backend!r}")
    return str(backend)


def _load_pretrained(device: str, **kwargs: Any) -> Any:
    from loracode_embed.model import LoRACodeModel

    return LoRACodeModel.from_pretrained(device=device, **kwargs)


def _load_from_base(device: str, **kwargs: Any) -> Any:
    from loracode_embed.model import LoRACodeModel

    return LoRACodeModel.from_base(device=device, **kwargs)


class MultiDeviceModel:
    """A :class:`~loracode_embed.model.LoRACodeModel` spread over several devices.

    It offers the same encoding API (``encode_query``, ``encode_code``, ``route``, ``count_tokens``,
    ``adapters``, ``embedding_dim``, ``max_seq_length``, ``fingerprint``), so it can stand in for a
    single model anywhere, e.g. ``CodeIndex(model=MultiDeviceModel.from_pretrained(devices=...))``.
    Build one with :meth:`from_pretrained`, :meth:`from_base` or :meth:`from_models`; call
    :meth:`close` (or use it as a context manager) to stop its workers.

    Example:
        >>> with MultiDeviceModel.from_pretrained(devices=["cuda:0", "cuda:1"]) as model:  # doctest: +SKIP
        ...     vectors = model.encode_code(chunks, paths=chunk_paths, batch_size=256)
    """

    def __init__(self, pool: ThreadPool | ProcessPool, info: dict[str, Any]) -> None:
        # Private: use from_pretrained / from_base / from_models.
        self._pool = pool
        self.manifest: Manifest = info["manifest"]
        self.base_path: Path = info["base_path"]
        self._max_seq_length = int(info["max_seq_length"])
        self._dtype = info["dtype"]
        self._progress_lock = threading.Lock()

    # ------------------------------------------------------------------ construction

    @classmethod
    def from_pretrained(
        cls,
        path: str | os.PathLike[str] | None = None,
        *,
        devices: str | Sequence[str],
        base: str | os.PathLike[str] | None = None,
        dtype: Any = None,
        trust_remote_code: bool = False,
        backend: str = "thread",
    ) -> MultiDeviceModel:
        """Load a bundle once per device (``path=None``: the default bundle).

        Args:
            path, base, dtype, trust_remote_code: As for ``LoRACodeModel.from_pretrained``.
            devices: ``["cuda:0", "cuda:1"]`` or ``"cuda:0,cuda:1"``.
            backend: ``"thread"`` (default) or ``"process"`` (one process per device; needs an
                ``if __name__ == "__main__":`` guard in the calling script).

        Example:
            >>> MultiDeviceModel.from_pretrained(devices=["cpu", "cpu"]).devices
            ['cpu', 'cpu']
        """
        kwargs = {"path": path, "base": base, "dtype": dtype, "trust_remote_code": trust_remote_code}
        return cls._load(_load_pretrained, kwargs, devices, backend)

    @classmethod
    def from_base(
        cls,
        base: str | os.PathLike[str] | None = None,
        adapters: dict[str, Any] | None = None,
        *,
        devices: str | Sequence[str],
        dtype: Any = None,
        trust_remote_code: bool = False,
        backend: str = "thread",
    ) -> MultiDeviceModel:
        """Assemble a model from an encoder and adapter directories, once per device.

        Arguments as for ``LoRACodeModel.from_base``, plus ``devices`` and ``backend`` as in
        :meth:`from_pretrained`.

        Example:
            >>> MultiDeviceModel.from_base(devices="cpu,cpu").adapters
            []
        """
        kwargs = {"base": base, "adapters": adapters, "dtype": dtype, "trust_remote_code": trust_remote_code}
        return cls._load(_load_from_base, kwargs, devices, backend)

    @classmethod
    def from_models(cls, models: Sequence[Any]) -> MultiDeviceModel:
        """Spread calls over models already loaded (thread backend); they must hold the same weights.

        Example:
            >>> from loracode_embed import LoRACodeModel
            >>> a, b = (LoRACodeModel.from_pretrained(device="cpu") for _ in range(2))
            >>> MultiDeviceModel.from_models([a, b]).embedding_dim
            384
        """
        models = list(models)
        if not models:
            raise ValueError("models must not be empty")
        first = models[0].fingerprint
        for i, model in enumerate(models[1:], start=1):
            if model.fingerprint != first:
                raise ValueError(f"models[{i}] has other weights than models[0] (fingerprints differ)")
        parse_devices([str(m.device) for m in models], "models' devices")
        return cls(ThreadPool(models), describe_replica(models[0]))

    @classmethod
    def _load(cls, loader: Any, kwargs: dict[str, Any], devices: Any, backend: str) -> MultiDeviceModel:
        device_list = parse_devices(devices)
        _check_available(device_list)
        if _check_backend(backend) == "process" and len(device_list) > 1:
            pool = ProcessPool(loader, kwargs, device_list)
            return cls(pool, pool.info)
        replicas = [loader(device, **kwargs) for device in device_list]
        return cls(ThreadPool(replicas), describe_replica(replicas[0]))

    def close(self) -> None:
        """Stop the worker threads or processes."""
        self._pool.close()

    def __enter__(self) -> MultiDeviceModel:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ properties

    @property
    def devices(self) -> list[str]:
        """The device of each replica."""
        return list(self._pool.devices)

    @property
    def backend(self) -> str:
        return "process" if isinstance(self._pool, ProcessPool) else "thread"

    @property
    def replicas(self) -> list[Any]:
        """The replicas (thread backend only; the process backend's live in other processes)."""
        return list(self._pool.replicas) if isinstance(self._pool, ThreadPool) else []

    @property
    def adapters(self) -> list[str]:
        """Names of the adapters in this bundle, sorted."""
        return sorted(self.manifest.adapters)

    @property
    def embedding_dim(self) -> int:
        return self.manifest.embedding_dim

    @property
    def max_seq_length(self) -> int:
        """Inputs longer than this many tokens are truncated."""
        return self._max_seq_length

    @property
    def dtype(self) -> Any:
        return self._dtype

    @property
    def fingerprint(self) -> str:
        """A stable hash of base and adapter weights: equal fingerprints give equal vectors."""
        return self.manifest.fingerprint()

    def __repr__(self) -> str:
        return (
            f"MultiDeviceModel(base={self.manifest.base.name!r}, adapters={self.adapters}, "
            f"devices={self.devices}, backend={self.backend!r}, dtype={self.dtype})"
        )

    # ------------------------------------------------------------------ routing and tokens

    def route(self, task: str = "text2code", language: str | None = None) -> str | None:
        """The adapter that ``task`` and ``language`` route to, or ``None`` for the base model.

        Example:
            >>> MultiDeviceModel.from_pretrained(devices="cpu,cpu").route("text2code", "kotlin") in (None, "text2code")
            True
        """
        return route_adapters(self.manifest.adapters, task, language).adapter

    def classify_query(self, text: str) -> str:
        """``"code2code"`` if ``text`` looks like code, else ``"text2code"`` (as LoRACodeModel)."""
        from loracode_embed.query_type import classify_query

        return classify_query(text)

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        """Number of tokens of each text, special tokens included, before truncation.

        Example:
            >>> MultiDeviceModel.from_pretrained(devices="cpu,cpu").count_tokens(["hello world"])
            [4]
        """
        texts = check_texts(texts, "texts")
        return list(self._pool.call("count_tokens", {"texts": texts})) if texts else []

    # ------------------------------------------------------------------ encoding

    def encode_query_in_spaces(
        self, query: str, adapters: Sequence[str], *, strict: bool = False
    ) -> np.ndarray:
        """One query in several adapters' spaces, on the first device (one small mixed-adapter pass).

        Example:
            >>> model = MultiDeviceModel.from_pretrained(devices="cpu,cpu")
            >>> model.encode_query_in_spaces("read a yaml file", ["base", "base"]).shape
            (2, 384)
        """
        return self._pool.call(
            "encode_query_in_spaces", {"query": query, "adapters": list(adapters), "strict": strict}
        )

    def encode_query(
        self,
        texts: Sequence[str],
        language: str | None = None,
        task: str = "auto",
        *,
        adapter: str = "auto",
        batch_size: int = 32,
        strict: bool = False,
        show_progress: bool = False,
    ) -> np.ndarray:
        """Embed search queries on all devices; arguments and result as ``LoRACodeModel.encode_query``.

        Example:
            >>> model = MultiDeviceModel.from_pretrained(devices="cpu,cpu")
            >>> model.encode_query(["read a yaml file", "def f(): pass"] * 40, batch_size=16).shape
            (80, 384)
        """
        texts = check_texts(texts, "texts")
        check_task(task, QUERY_TASKS)
        if language is not None:
            canonical_language(language)
        self._check_common(adapter, batch_size)
        common = {"language": language, "adapter": adapter, "batch_size": batch_size, "strict": strict}
        if len(texts) <= batch_size or len(self.devices) == 1:
            return self._pool.call("encode_query", {"texts": texts, "task": task, **common})
        if strict:
            self._check_lengths(texts)
        # Decide each query's task here, so that a chunk is one task (one adapter) and no replica
        # classifies again; an explicit task gives the same routing as "auto" would have.
        tasks = [self.classify_query(t) for t in texts] if task == "auto" and adapter == "auto" else None
        keys = tasks if tasks is not None else [task] * len(texts)
        return self._spread(
            texts,
            keys,
            lambda key, chunk: ("encode_query", {"texts": chunk, "task": key, **common}),
            batch_size,
            show_progress,
        )

    def encode_code(
        self,
        texts: Sequence[str],
        languages: str | Sequence[str | None] | None = None,
        paths: Sequence[str | os.PathLike[str]] | None = None,
        task: str = "text2code",
        *,
        language: str | None = None,
        adapter: str = "auto",
        batch_size: int = 32,
        strict: bool = False,
        show_progress: bool = False,
    ) -> np.ndarray:
        """Embed code on all devices; arguments and result as ``LoRACodeModel.encode_code``.

        Example:
            >>> model = MultiDeviceModel.from_pretrained(devices="cpu,cpu")
            >>> model.encode_code(["package main", "puts 1"] * 40, paths=["a.go", "b.rb"] * 40).shape
            (80, 384)
        """
        texts = check_texts(texts, "texts")
        check_task(task)
        languages = language_alias(language, languages)
        langs = item_languages(len(texts), languages, paths)
        self._check_common(adapter, batch_size)
        common = {"task": task, "adapter": adapter, "batch_size": batch_size, "strict": strict}
        if len(texts) <= batch_size or len(self.devices) == 1:
            return self._pool.call(
                "encode_code", {"texts": texts, "languages": languages, "paths": paths, **common}
            )
        if strict:
            self._check_lengths(texts)
        return self._spread(
            texts,
            langs,
            lambda key, chunk: ("encode_code", {"texts": chunk, "languages": key, **common}),
            batch_size,
            show_progress,
        )

    def _check_common(self, adapter: object, batch_size: object) -> None:
        if not isinstance(adapter, str):
            raise TypeError(f"adapter must be a string ('auto', 'base' or an adapter name), got {adapter!r}")
        if adapter not in ("auto", "base") and adapter not in self.manifest.adapters:
            raise ValueError(
                f"Unknown adapter {adapter!r}. Available: {', '.join(self.adapters) or '(none)'}"
            )
        if not isinstance(batch_size, int) or isinstance(batch_size, bool) or batch_size < 1:
            raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")

    def _check_lengths(self, texts: list[str]) -> None:
        """``strict=True`` over the whole call, so the error names the index in the caller's list."""
        counts = self.count_tokens(texts)
        too_long = [i for i, n in enumerate(counts) if n > self.max_seq_length]
        if too_long:
            raise ValueError(
                f"texts[{too_long[0]}] is longer than the model's limit of {self.max_seq_length} tokens "
                f"({len(too_long)} input(s) too long); shorten them or pass strict=False to truncate"
            )

    def _spread(
        self,
        texts: list[str],
        keys: list[Any],
        make_task: Any,
        batch_size: int,
        show_progress: bool,
    ) -> np.ndarray:
        plan = plan_chunks(texts, keys, batch_size, len(self.devices))
        tasks: list[Task] = [make_task(key, [texts[i] for i in indices]) for key, indices in plan]
        progress = None
        if show_progress:
            from tqdm.auto import tqdm

            progress = tqdm(total=len(texts), desc="Encoding", unit="text")

        def done(index: int, _: Any) -> None:
            if progress is not None:
                with self._progress_lock:
                    progress.update(len(plan[index][1]))

        try:
            results = self._pool.run(tasks, done)
        finally:
            if progress is not None:
                progress.close()
        out = np.empty((len(texts), self.embedding_dim), dtype=np.float32)
        for (_, indices), vectors in zip(plan, results, strict=True):
            out[indices] = vectors
        return out


def plan_chunks(
    texts: Sequence[str], keys: Sequence[Any], batch_size: int, replicas: int
) -> list[tuple[Any, list[int]]]:
    """Cut a call into ``(key, indices)`` chunks for ``replicas`` devices, biggest chunk first.

    Items are grouped by ``key`` (what picks the adapter), ordered longest text first within a group
    (batches of similar length waste little padding), and cut into chunks of whole batches, small
    enough that each replica gets about :data:`CHUNKS_PER_REPLICA` of them. Every index appears once.

    Example:
        >>> plan_chunks(["a", "bbb", "cc", "d"], ["py", "go", "py", "py"], batch_size=1, replicas=2)
        [('go', [1]), ('py', [2]), ('py', [0]), ('py', [3])]
    """
    batches = math.ceil(len(texts) / batch_size)
    size = batch_size * max(1, batches // (CHUNKS_PER_REPLICA * replicas))
    groups: dict[Any, list[int]] = {}
    for index, key in enumerate(keys):
        groups.setdefault(key, []).append(index)
    chunks: list[tuple[Any, list[int]]] = []
    for key, indices in groups.items():
        indices.sort(key=lambda i: -len(texts[i]))
        chunks.extend((key, indices[start : start + size]) for start in range(0, len(indices), size))
    # Longest-processing-time first: the chunks left for the end are the small ones.
    chunks.sort(key=lambda chunk: -sum(len(texts[i]) + 1 for i in chunk[1]))
    return chunks
