"""Cosine of the CPU default (bfloat16, token-budget batches in shape buckets) to float32, per adapter.

Every adapter of the default bundle embeds the same real code chunks (functions of CPython's standard
library, in the order ``os.walk`` gives, ``N`` of them, 256 tokens at most) in float32 and in the
bfloat16 fast path that ``loracode index`` uses on this CPU; the minimum and mean cosine per adapter
are written to ``benchmarks/results/<OUT>`` (default ``bf16_cosine_adapters.json``).

    N=64 PYTHONPATH=.:integrations/qdrant python benchmarks/bf16_cosine_adapters.py
"""

from __future__ import annotations

import ast
import json
import os
import sysconfig
from pathlib import Path

import numpy as np

from loracode_embed import LoRACodeModel

N = int(os.environ.get("N", "64"))
OUT = Path(__file__).resolve().parent / "results" / os.environ.get("OUT", "bf16_cosine_adapters.json")


def stdlib_functions(n: int) -> list[str]:
    texts: list[str] = []
    for folder, _, files in sorted(os.walk(sysconfig.get_paths()["stdlib"])):
        for name in sorted(files):
            if not name.endswith(".py") or "test" in folder:
                continue
            source = Path(folder, name).read_text(encoding="utf-8", errors="replace")
            try:
                tree = ast.parse(source)
            except SyntaxError:
                continue
            for node in tree.body:
                if isinstance(node, ast.FunctionDef):
                    texts.append(ast.get_source_segment(source, node) or "")
                    if len(texts) == n:
                        return texts
    return texts


def main() -> None:
    texts = stdlib_functions(N)
    reference = LoRACodeModel.from_pretrained(dtype="float32")
    fast = LoRACodeModel.from_pretrained(dtype="bfloat16")
    result = {}
    for adapter in ["base", *sorted(reference.adapters)]:
        a = reference.encode_code(texts, adapter=adapter)
        b = fast.encode_code(texts, adapter=adapter)
        cosines = (a * b).sum(axis=1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))
        result[adapter] = {"min": round(float(cosines.min()), 5), "mean": round(float(cosines.mean()), 5)}
        print(adapter, result[adapter], flush=True)
    OUT.write_text(json.dumps({"chunks": len(texts), "cosine_bf16_to_fp32": result}, indent=2) + "\n")


if __name__ == "__main__":
    main()
