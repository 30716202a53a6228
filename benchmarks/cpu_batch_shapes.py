"""Benchmark: CPU batch shapes, round robin: batches of ``batch_size`` rows against token-budget batches
(``loracode_embed.batching.CPU_TOKEN_BATCHES``) and widths padded to multiples (``PAD_MULTIPLE``).

Real chunks (the project's chunker) of the files under ``TREE`` are shuffled (seed 0); each round takes
the next ``N`` of them and embeds them once per setting, in one ``encode_code`` call each
(``language="python"``, bfloat16, batch size 32), settings in alternating order; printed after each
round: per setting, the median over the rounds so far of (time of the first setting / its time), so
above 1 is faster. Meant for a shared machine: settings alternate every few seconds, so the load hits
them alike. Run from the repository root::

    PYTHONPATH=.:integrations/qdrant python benchmarks/cpu_batch_shapes.py TREE N SETTINGS SECONDS

``SETTINGS``: a comma list of ``tokens:pad`` (``tokens`` 0 or 1 for ``CPU_TOKEN_BATCHES``), the first
the reference, e.g. ``0:1,0:16,1:1,1:16``.
"""

from __future__ import annotations

import os
import random
import sys
import time
from pathlib import Path
from statistics import median

from loracode_qdrant.chunking import Chunker
from loracode_qdrant.walk import read_source, walk_tree

from loracode_embed import LoRACodeModel, batching


def main() -> None:
    tree, n, settings_arg, seconds = Path(sys.argv[1]), int(sys.argv[2]), sys.argv[3], float(sys.argv[4])
    model = LoRACodeModel.from_pretrained(device="cpu", dtype="bfloat16")
    chunker = Chunker(model.count_tokens, model.max_seq_length)
    texts = [c.text for f in walk_tree(tree).files for c in chunker.chunk(read_source(f).data, f.language)]
    random.Random(0).shuffle(texts)
    settings = [tuple(map(int, s.split(":"))) for s in settings_arg.split(",")]
    model.encode_code(texts[:64], language="python", batch_size=32)  # warm-up
    times: dict[tuple[int, ...], list[float]] = {s: [] for s in settings}
    end, round_no = time.time() + seconds, 0
    while time.time() < end:
        sample = texts[(round_no * n) % len(texts) :][:n]
        for tokens, pad in settings if round_no % 2 == 0 else settings[::-1]:
            batching.CPU_TOKEN_BATCHES, batching.PAD_MULTIPLE = bool(tokens), pad
            t0 = time.perf_counter()
            model.encode_code(sample, language="python", batch_size=32)
            times[(tokens, pad)].append(time.perf_counter() - t0)
        ref = times[settings[0]]
        speed = {
            f"{t}:{p}": round(median(r / x for r, x in zip(ref, times[(t, p)], strict=True)), 3)
            for t, p in settings
        }
        print(round_no, speed, "load", round(os.getloadavg()[0], 1), flush=True)
        round_no += 1


if __name__ == "__main__":
    main()
