"""Latency of embedding one search query in several adapters' spaces (a search with no --language).

Compares one ``encode_query`` call per adapter with one ``encode_query_in_spaces`` call (a single
mixed-adapter forward pass), on one torch thread as ``CodeIndex`` embeds queries, with the default
bundle on CPU. Checks that both give the same vectors.

    python benchmarks/query_spaces_latency.py [--rounds 30]
"""

from __future__ import annotations

import argparse
import json
import os
import time

import numpy as np
import torch

from loracode_embed import LoRACodeModel

SPACES = ["text2code-python", "text2code-go", "text2code-java", "text2code-javascript", "text2code-ruby"]


def percentiles(fn, rounds: int) -> dict[str, float]:
    for _ in range(3):
        fn()
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return {
        "p50_ms": round(float(np.percentile(times, 50)), 1),
        "p95_ms": round(float(np.percentile(times, 95)), 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--query", default="retry an http request with backoff")
    args = parser.parse_args()
    torch.set_num_threads(1)
    model = LoRACodeModel.from_pretrained(device="cpu")
    query = args.query
    separate = np.stack([model.encode_query([query], adapter=a)[0] for a in SPACES])
    mixed = model.encode_query_in_spaces(query, SPACES)
    result = {
        "spaces": SPACES,
        "max_abs_diff": float(np.abs(separate - mixed).max()),
        "one_pass_per_adapter": percentiles(
            lambda: [model.encode_query([query], adapter=a) for a in SPACES], args.rounds
        ),
        "one_mixed_pass": percentiles(lambda: model.encode_query_in_spaces(query, SPACES), args.rounds),
        "one_adapter_only": percentiles(lambda: model.encode_query([query], adapter=SPACES[0]), args.rounds),
        "load_average": os.getloadavg(),
        "machine": "2-core CPU dev machine",
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
