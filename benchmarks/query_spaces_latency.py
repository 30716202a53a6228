"""Latency of embedding one search query in several adapters' spaces (a search with no --language).

Compares one ``encode_query`` call per adapter with one ``encode_query_in_spaces`` call (a single
mixed-adapter forward pass: batched LoRA products, and PEFT's own per-adapter loop), on one torch
thread as ``CodeIndex`` embeds queries, with the default bundle on CPU. The variants take turns in
every round, so a change in machine load hits them alike. Checks that all give the same vectors.

    python benchmarks/query_spaces_latency.py [--rounds 30] [--dtype bfloat16]
"""

from __future__ import annotations

import argparse
import json
import os
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

import loracode_embed.adapters as adapters_module
from loracode_embed import LoRACodeModel

SPACES = [f"text2code-{lang}" for lang in ("python", "go", "java", "javascript", "php", "ruby")]


def interleaved(variants: dict[str, Callable[[], object]], rounds: int) -> dict[str, dict[str, float]]:
    """p50/p95 milliseconds of each variant, the variants taking turns in every round."""
    for fn in variants.values():
        fn()
    times: dict[str, list[float]] = {name: [] for name in variants}
    for _ in range(rounds):
        for name, fn in variants.items():
            start = time.perf_counter()
            fn()
            times[name].append((time.perf_counter() - start) * 1000)
    return {
        name: {
            "p50_ms": round(float(np.percentile(t, 50)), 1),
            "p95_ms": round(float(np.percentile(t, 95)), 1),
        }
        for name, t in times.items()
    }


def peft_loop(fn: Callable[[], object]) -> Callable[[], object]:
    """``fn`` with mixed batches computed by PEFT's per-adapter loop instead of batched products."""

    def run() -> object:
        adapters_module.BATCHED_LORA = False
        try:
            return fn()
        finally:
            adapters_module.BATCHED_LORA = True

    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--query", default="retry an http request with backoff")
    parser.add_argument("--out", type=Path, help="write the JSON here too")
    parser.add_argument("--dtype", default=None, help="float32 (default) or bfloat16 (the CPU fast path)")
    args = parser.parse_args()
    torch.set_num_threads(1)
    model = LoRACodeModel.from_pretrained(device="cpu", dtype=args.dtype)
    query = args.query
    separate = np.stack([model.encode_query([query], adapter=a)[0] for a in SPACES])
    mixed = lambda: model.encode_query_in_spaces(query, SPACES)  # noqa: E731
    result = {
        "spaces": SPACES,
        "dtype": str(model.dtype),
        "max_abs_diff": float(np.abs(separate - mixed()).max()),
        "max_abs_diff_peft_loop": float(np.abs(separate - peft_loop(mixed)()).max()),
        **interleaved(
            {
                "one_pass_per_adapter": lambda: [model.encode_query([query], adapter=a) for a in SPACES],
                "one_mixed_pass": mixed,
                "one_mixed_pass_peft_loop": peft_loop(mixed),
                "one_adapter_only": lambda: model.encode_query([query], adapter=SPACES[0]),
            },
            args.rounds,
        ),
        "load_average": os.getloadavg(),
        "machine": "2-core CPU dev machine",
    }
    print(json.dumps(result, indent=2))
    if args.out:
        args.out.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
