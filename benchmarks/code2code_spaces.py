"""Benchmark: what the code2code space buys a code query, against the spaces an index has without it.

``loracode index`` stores one space per chunk by default, the chunk language's text2code space
(docs/indexing.md, "Spaces"); a code query (``task="code2code"``, ``find_similar_code``) is then
searched in each language's own space, the query embedded with that space's adapter. With
``--spaces code2code`` it is searched in the code2code space. This script measures both on real
cross-language clones: the CodeXGLUE Java <-> C# parallel methods (``shared/data/codexglue-java-cs``,
the ``valid`` split, 499 pairs: a dev set). Each Java method is the query; the 499 C# methods are the
candidates; the relevant one is its translation. C# has no language adapter, so its language space is
the unified ``text2code`` one: that is what the default index searches it in.

Run from the repository root::

    PYTHONPATH=.:integrations/qdrant python benchmarks/code2code_spaces.py

Knobs: ``DATA`` (the data folder), ``SPLIT`` (valid), ``DTYPE`` (bfloat16). Writes
``benchmarks/results/code2code_spaces.json``.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import numpy as np
from machine_info import machine_description

HERE = Path(__file__).resolve().parent
DATA = Path(os.environ.get("DATA", HERE.parents[1] / "shared" / "data" / "codexglue-java-cs"))
SPLIT = os.environ.get("SPLIT", "valid")
DTYPE = os.environ.get("DTYPE", "bfloat16")
OUT = HERE / "results" / "code2code_spaces.json"
K = 10


def mrr(queries: np.ndarray, candidates: np.ndarray) -> dict[str, float]:
    """MRR@10 and recall@1/@10 where query ``i``'s answer is candidate ``i``."""
    scores = queries @ candidates.T
    ranks = (scores > scores[np.arange(len(scores)), np.arange(len(scores))][:, None]).sum(axis=1) + 1
    return {
        "mrr@10": round(float(np.mean(np.where(ranks <= K, 1.0 / ranks, 0.0))), 4),
        "recall@1": round(float(np.mean(ranks == 1)), 4),
        "recall@10": round(float(np.mean(ranks <= K)), 4),
    }


def main() -> None:
    from loracode_embed import LoRACodeModel

    java = (DATA / f"{SPLIT}.java-cs.txt.java").read_text(encoding="utf-8").splitlines()
    csharp = (DATA / f"{SPLIT}.java-cs.txt.cs").read_text(encoding="utf-8").splitlines()
    if len(java) != len(csharp):
        raise SystemExit(f"{DATA}: {len(java)} Java lines but {len(csharp)} C# lines")
    model = LoRACodeModel.from_pretrained(device="cpu", dtype=DTYPE)
    # The spaces a Java query and the C# candidates meet in: (query adapter, candidate adapter).
    layouts = {
        "code2code space (--spaces code2code)": ("code2code", "code2code"),
        "language spaces (the default index)": (model.route("text2code", "csharp") or "base",) * 2,
        "base model": ("base", "base"),
    }
    results = {}
    for name, (query_adapter, code_adapter) in layouts.items():
        t0 = time.perf_counter()
        q = model.encode_code(java, language="java", adapter=query_adapter)
        c = model.encode_code(csharp, language="csharp", adapter=code_adapter)
        results[name] = {**mrr(q, c), "adapters": [query_adapter, code_adapter],
                         "seconds": round(time.perf_counter() - t0, 1)}  # fmt: skip
        print(name, results[name], flush=True)
    result = {
        "data": f"{DATA.name}/{SPLIT} ({len(java)} Java -> C# pairs)",
        "dtype": DTYPE,
        "results": results,
        "machine": machine_description(),
        "python": sys.version.split()[0],
        "load_average_at_end": os.getloadavg(),
    }
    OUT.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
