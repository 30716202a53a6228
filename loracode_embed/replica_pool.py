"""Pools of model replicas, one per device, that run encode calls concurrently.

Two kinds, same interface (:class:`ThreadPool` and :class:`ProcessPool`):

* ``thread``: every replica lives in this process and is driven by its own thread. CUDA kernels,
  host-device copies and the fast tokenizer release the GIL, so the devices overlap; the Python work
  around them (padding, kernel launches) still takes turns on the GIL.
* ``process``: every replica lives in its own process (``spawn``), so nothing is shared, not even the
  GIL. Starting costs a few seconds per process, and the calling script needs an
  ``if __name__ == "__main__":`` guard, as with any ``spawn`` multiprocessing.

Both hand out work the same way: the caller gives a list of tasks (a method name and its keyword
arguments); replicas take the next task from one shared queue as soon as they are free, so a fast or
lightly loaded device simply takes more of them. Results come back in task order.

Example:
    >>> from loracode_embed import LoRACodeModel
    >>> pool = ThreadPool([LoRACodeModel.from_pretrained(device="cpu")] * 2)
    >>> [v.shape for v in pool.run([("encode_query", {"texts": ["a"]}), ("encode_query", {"texts": ["b"]})])]
    [(1, 384), (1, 384)]
"""

from __future__ import annotations

import logging
import os
import queue
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import nullcontext
from typing import Any

logger = logging.getLogger(__name__)

#: One unit of work: the name of a replica method and its keyword arguments.
Task = tuple[str, dict[str, Any]]
#: Called after each finished task with (task index, result), in the caller's thread (process pool) or
#: a worker thread (thread pool); used for progress bars.
OnDone = Callable[[int, Any], None]

_READY = -1


def _device_context(device: str) -> Any:
    import torch

    return torch.cuda.device(device) if device.startswith("cuda") else nullcontext()


class ThreadPool:
    """Replicas in this process, one worker thread each.

    Args:
        replicas: Loaded models with the same weights (one per device).
    """

    def __init__(self, replicas: Sequence[Any]) -> None:
        if not replicas:
            raise ValueError("replicas must not be empty")
        self.replicas = list(replicas)
        self.devices = [str(r.device) for r in self.replicas]
        self._executor: ThreadPoolExecutor | None = None
        self._lock = threading.Lock()

    def call(self, method: str, kwargs: dict[str, Any]) -> Any:
        """Run one task on the first replica, in the calling thread."""
        return getattr(self.replicas[0], method)(**kwargs)

    def run(self, tasks: Sequence[Task], on_done: OnDone | None = None) -> list[Any]:
        """Run ``tasks`` on all replicas at once; results in task order. The first error is raised."""
        results: list[Any] = [None] * len(tasks)
        pending: queue.SimpleQueue[int] = queue.SimpleQueue()
        for index in range(len(tasks)):
            pending.put(index)
        failed = threading.Event()

        def drain(replica: Any, device: str) -> None:
            with _device_context(device):
                while not failed.is_set():
                    try:
                        index = pending.get_nowait()
                    except queue.Empty:
                        return
                    method, kwargs = tasks[index]
                    try:
                        results[index] = getattr(replica, method)(**kwargs)
                    except BaseException:
                        failed.set()
                        raise
                    if on_done is not None:
                        on_done(index, results[index])

        with self._lock:
            if self._executor is None:
                self._executor = ThreadPoolExecutor(len(self.replicas), thread_name_prefix="loracode-replica")
            executor = self._executor
        futures = [executor.submit(drain, r, d) for r, d in zip(self.replicas, self.devices, strict=True)]
        errors = [f.exception() for f in futures]
        for error in errors:
            if error is not None:
                raise error
        return results

    def close(self) -> None:
        """Stop the worker threads (the replicas stay usable)."""
        with self._lock:
            if self._executor is not None:
                self._executor.shutdown(wait=True)
                self._executor = None


class ProcessPool:
    """One ``spawn`` process per device, each loading its own replica with ``load(device)``.

    Args:
        loader: A picklable, module-level function ``loader(device, **load_kwargs) -> model``.
        load_kwargs: Picklable keyword arguments for ``loader``.
        devices: One process per device.
        start_timeout: Seconds to wait for every replica to load.

    Attributes:
        info: What the first replica reported once loaded (``describe_replica(model)``).
    """

    def __init__(
        self,
        loader: Callable[..., Any],
        load_kwargs: dict[str, Any],
        devices: Sequence[str],
        start_timeout: float = 600.0,
    ) -> None:
        import torch.multiprocessing as mp

        self.devices = list(devices)
        context = mp.get_context("spawn")
        self._tasks: Any = context.Queue()
        self._results: Any = context.Queue()
        cpu_share = max(1, (os.cpu_count() or 1) // len(self.devices))
        self._processes = [
            context.Process(
                target=_process_main,
                args=(loader, load_kwargs, device, cpu_share, self._tasks, self._results),
                name=f"loracode-replica-{device}",
                daemon=True,
            )
            for device in self.devices
        ]
        self._lock = threading.Lock()
        self._call_id = 0
        self._closed = False
        for process in self._processes:
            process.start()
        try:
            infos = self._collect(_READY, len(self.devices), start_timeout, None)
        except BaseException:
            self.close()
            raise
        self.info: dict[str, Any] = infos[0]

    def call(self, method: str, kwargs: dict[str, Any]) -> Any:
        """Run one task on whichever replica is free."""
        return self.run([(method, kwargs)])[0]

    def run(self, tasks: Sequence[Task], on_done: OnDone | None = None) -> list[Any]:
        """Run ``tasks`` on all replicas at once; results in task order. The first error is raised."""
        if self._closed:
            raise RuntimeError("this multi-device model was closed")
        with self._lock:  # one call at a time: results of concurrent calls would share the queue
            self._call_id += 1
            for index, (method, kwargs) in enumerate(tasks):
                self._tasks.put((self._call_id, index, method, kwargs))
            return self._collect(self._call_id, len(tasks), None, on_done)

    def _collect(self, call_id: int, count: int, timeout: float | None, on_done: OnDone | None) -> list[Any]:
        import time

        results: list[Any] = [None] * count
        received = 0
        error: BaseException | None = None
        deadline = None if timeout is None else time.monotonic() + timeout
        while received < count:
            try:
                got_call, index, ok, value = self._results.get(timeout=1.0)
            except queue.Empty:
                dead = [p.name for p in self._processes if not p.is_alive()]
                if dead:
                    raise RuntimeError(
                        f"replica process(es) {', '.join(dead)} died (out of memory?)"
                    ) from None
                if deadline is not None and time.monotonic() > deadline:
                    raise RuntimeError(f"replicas did not load within {timeout:.0f}s") from None
                continue
            if got_call != call_id:
                continue  # left over from a call that was interrupted
            received += 1
            if not ok:
                error = error or value
                if call_id == _READY:
                    raise error
                continue
            results[index] = value
            if on_done is not None:
                on_done(index, value)
        if error is not None:
            raise error
        return results

    def close(self) -> None:
        """Stop the replica processes."""
        if self._closed:
            return
        self._closed = True
        for _ in self._processes:
            self._tasks.put(None)
        for process in self._processes:
            process.join(timeout=30)
            if process.is_alive():
                process.terminate()


def describe_replica(model: Any) -> dict[str, Any]:
    """What the parent process needs to know about a replica without holding one (all picklable)."""
    return {
        "manifest": model.manifest,
        "base_path": model.base_path,
        "max_seq_length": model.max_seq_length,
        "dtype": model.dtype,
    }


def _portable(exc: BaseException) -> BaseException:
    """The exception itself if it survives pickling, else a RuntimeError with its text."""
    import pickle

    try:
        pickle.loads(pickle.dumps(exc))
        return exc
    except Exception:
        return RuntimeError(f"{type(exc).__name__}: {exc}")


def _process_main(
    loader: Callable[..., Any],
    load_kwargs: dict[str, Any],
    device: str,
    cpu_threads: int,
    tasks: Any,
    results: Any,
) -> None:
    """A replica process: load, report, then serve tasks until it receives ``None``."""
    import torch

    if device.startswith("cuda"):
        torch.cuda.set_device(device)
    else:
        torch.set_num_threads(cpu_threads)  # CPU replicas share the cores instead of oversubscribing them
    try:
        model = loader(device, **load_kwargs)
        results.put((_READY, 0, True, describe_replica(model)))
    except BaseException as exc:
        results.put((_READY, 0, False, _portable(exc)))
        return
    while True:
        item = tasks.get()
        if item is None:
            return
        call_id, index, method, kwargs = item
        try:
            results.put((call_id, index, True, getattr(model, method)(**kwargs)))
        except BaseException as exc:
            results.put((call_id, index, False, _portable(exc)))
