"""Encoding throughput: plain sentence-transformers vs LoRACodeModel, one adapter vs many in one call.

Runs on CPU or GPU with random-weight models of two shapes (no weights can be downloaded):

* ``unixcoder``: RoBERTa, 12 layers, hidden 768, 12 heads, vocab 51,416 (about 125M parameters);
* ``minilm``: BERT, 6 layers, hidden 384, 12 heads, vocab 30,522 (all-MiniLM-L6-v2's shape).

Inputs are random token ids decoded to text and cut to exactly ``--chunk-tokens`` (code chunks) and
``--query-tokens`` (queries) tokens, so every path sees the same token counts. Seven LoRA adapters
(r=16 on query/value, random, non-zero) are attached for the LoRACodeModel paths.

Model FLOPs per token = 2 x (non-embedding parameters) + 4 x layers x seq x hidden (attention scores
and weighted sum), counted for the forward pass only.

    python benchmarks/encode_throughput.py --device cuda --shapes unixcoder minilm --out results.json
    python benchmarks/encode_throughput.py --device cpu --shapes minilm --n-chunks 256   # a quick look

With ``--devices cuda:0,cuda:1`` it measures multi-device scaling instead: the same chunks encoded by
one LoRACodeModel on the first device, then by a MultiDeviceModel over all the listed devices (thread
backend, then process backend), each in the default dtype; every row carries ``scaling`` = N-device
items/s over 1-device items/s, and the largest difference from the one-device vectors:

    python benchmarks/encode_throughput.py --devices cuda:0,cuda:1 --out scaling.json
    python benchmarks/encode_throughput.py --devices cpu,cpu --shapes minilm --n-chunks 64 --repeats 1  # smoke
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

SHAPES = {
    "unixcoder": dict(kind="roberta", layers=12, hidden=768, heads=12, ffn=3072, vocab=51416, positions=1026),
    "minilm": dict(kind="bert", layers=6, hidden=384, heads=12, ffn=1536, vocab=30522, positions=512),
}
N_ADAPTERS = 7


def build_base(shape: str, out: Path) -> Path:
    """A random-weight encoder of the given shape, saved with a tokenizer, as a local model directory."""
    from transformers import BertConfig, BertModel, BertTokenizerFast, RobertaConfig, RobertaModel

    spec = SHAPES[shape]
    torch.manual_seed(0)
    common = dict(
        vocab_size=spec["vocab"],
        hidden_size=spec["hidden"],
        num_hidden_layers=spec["layers"],
        num_attention_heads=spec["heads"],
        intermediate_size=spec["ffn"],
        max_position_embeddings=spec["positions"],
    )
    if spec["kind"] == "roberta":
        model = RobertaModel(
            RobertaConfig(**common, type_vocab_size=10, pad_token_id=1), add_pooling_layer=False
        )
    else:
        model = BertModel(BertConfig(**common), add_pooling_layer=False)
    model.save_pretrained(str(out), safe_serialization=True)
    # A WordPiece vocabulary of the right size: token "t<i>" for every id, so random ids decode to words.
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + [f"t{i}" for i in range(spec["vocab"] - 5)]
    (out / "vocab.txt").write_text("\n".join(vocab) + "\n")
    BertTokenizerFast(vocab_file=str(out / "vocab.txt"), model_max_length=512).save_pretrained(str(out))
    return out


def build_adapters(base_dir: Path, out: Path) -> dict[str, Path]:
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModel

    adapters = {}
    names = ["text2code", "code2code"] + [
        f"text2code-{lang}" for lang in ("python", "go", "java", "javascript", "php")
    ]
    for seed, name in enumerate(names[:N_ADAPTERS]):
        torch.manual_seed(100 + seed)
        peft_model = get_peft_model(
            AutoModel.from_pretrained(str(base_dir)),
            LoraConfig(r=16, lora_alpha=32, target_modules=["query", "value"], init_lora_weights=False),
        )
        peft_model.save_pretrained(str(out / name), safe_serialization=True)
        adapters[name] = out / name
    return adapters


def make_texts(n: int, tokens: int, vocab: int, seed: int) -> list[str]:
    rng = np.random.default_rng(seed)
    # "[CLS] ... [SEP]" add 2 tokens: ask for tokens-2 words so the encoded length is exactly `tokens`.
    return [" ".join(f"t{i}" for i in rng.integers(0, vocab - 5, tokens - 2)) for _ in range(n)]


def flops_per_token(shape: str, seq: int) -> float:
    s = SHAPES[shape]
    h, layers, ffn = s["hidden"], s["layers"], s["ffn"]
    dense = layers * (4 * h * h + 2 * h * ffn)  # q, k, v, o + two FFN matrices
    return 2 * dense + 4 * layers * seq * h


def dense_matmul_tflops(device: str, n: int = 8192, repeats: int = 20) -> float:
    """Measured dense bf16 matrix-product throughput of the device: the yardstick for model FLOPs."""
    a = torch.randn(n, n, device=device, dtype=torch.bfloat16)
    b = torch.randn(n, n, device=device, dtype=torch.bfloat16)
    seconds = timed(lambda: [a @ b for _ in range(repeats)], 3, device)
    return round(2 * n**3 * repeats / seconds / 1e12, 1)


def timed(fn, repeats: int, device: str) -> float:
    fn()  # warm-up: kernels, allocator, tokenizer caches
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        if device.startswith("cuda"):
            torch.cuda.synchronize()
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def run_shape(shape: str, args: argparse.Namespace, work: Path) -> list[dict]:
    from sentence_transformers import SentenceTransformer

    import loracode_embed.model as model_module
    from loracode_embed import LoRACodeModel
    from loracode_embed.batching import WindowTokenizer, iter_batches

    base_dir = build_base(shape, work / shape)
    adapters = build_adapters(base_dir, work / f"{shape}-adapters")
    chunks = make_texts(args.n_chunks, args.chunk_tokens, SHAPES[shape]["vocab"], 1)
    queries = make_texts(args.n_chunks, args.query_tokens, SHAPES[shape]["vocab"], 2)
    rows = []
    peak_gb = None

    def record(path: str, texts: list[str], seq: int, seconds: float, extra: dict | None = None) -> None:
        per_s = len(texts) / seconds
        row = {
            "shape": shape,
            "path": path,
            "seq_tokens": seq,
            "items_per_s": round(per_s, 1),
            "tflops": round(per_s * seq * flops_per_token(shape, seq) / 1e12, 2),
            **(extra or {}),
        }
        rows.append(row)
        print(json.dumps(row), flush=True)
        if args.out:  # after every row: a run cut short still leaves its figures
            args.out.write_text(
                json.dumps({"info": args.info, "rows": args.rows_done + rows}, indent=2) + "\n"
            )

    st_dtypes = ["float32", "float16"] if args.device.startswith("cuda") else ["float32"]
    for dtype_name in [] if args.skip_sentence_transformers else st_dtypes:
        st = SentenceTransformer(str(base_dir), device=args.device)
        st.max_seq_length = args.chunk_tokens
        st.to(getattr(torch, dtype_name))
        for label, texts, seq in (
            ("chunks", chunks, args.chunk_tokens),
            ("queries", queries, args.query_tokens),
        ):
            seconds = timed(
                lambda t=texts, m=st: m.encode(t, batch_size=args.batch_size), args.repeats, args.device
            )
            record(f"sentence-transformers {dtype_name} {label}", texts, seq, seconds)

    if args.device.startswith("cuda"):
        torch.cuda.reset_peak_memory_stats()
    model = LoRACodeModel.from_base(base_dir, adapters=adapters, device=args.device)
    model._st.max_seq_length = args.chunk_tokens
    names = sorted(adapters)
    one = lambda: model.encode_code(chunks, adapter="text2code-python", batch_size=args.batch_size)  # noqa: E731
    record(
        "LoRACodeModel default dtype, 1 adapter, chunks",
        chunks,
        args.chunk_tokens,
        timed(one, args.repeats, args.device),
    )
    record(
        "LoRACodeModel default dtype, 1 adapter, queries",
        queries,
        args.query_tokens,
        timed(
            lambda: model.encode_query(queries, adapter="text2code-python", batch_size=args.batch_size),
            args.repeats,
            args.device,
        ),
    )
    # Where the time goes: the host side alone (tokenize + pad, as encode does it) and the model alone
    # on batches padded beforehand (what the GPU sustains when the host keeps up).
    workers = model_module._tokenizer_workers(args.device.startswith("cuda"))
    windows = WindowTokenizer(model.tokenizer, args.chunk_tokens)
    groups = {"text2code-python": list(range(len(chunks)))}
    produce = lambda: list(iter_batches(windows, chunks, groups, args.batch_size, workers=workers))  # noqa: E731
    record(f"host only: tokenize + pad chunks, {workers} tokenizer thread(s)", chunks, args.chunk_tokens,
           timed(produce, args.repeats, "cpu"), {"tokenizer_threads": workers, "tflops": None})  # fmt: skip
    batches = [{k: v.to(args.device) for k, v in b.inputs.items()} for b in produce()]

    def model_only():
        with model._lock:
            model._use_adapter("text2code-python")
            return [model._forward(inputs) for inputs in batches]

    record("model only (batches padded beforehand), 1 adapter, chunks", chunks, args.chunk_tokens,
           timed(model_only, args.repeats, args.device))  # fmt: skip

    seven = [names[i % len(names)] for i in range(len(chunks))]

    def mixed():
        # One batch of inputs for seven adapters (text2code x 6 and code2code): the model's own grouping.
        return model._encode(chunks, seven, args.batch_size, False, False, "texts")

    # The check the issue asks for: the mixed call against one separate call per adapter.
    separate = np.empty((len(chunks), model.embedding_dim), dtype=np.float32)
    for name in names:
        rows_of = [i for i, n in enumerate(seven) if n == name]
        separate[rows_of] = model.encode_code(
            [chunks[i] for i in rows_of], adapter=name, batch_size=args.batch_size
        )
    record(
        "LoRACodeModel default dtype, 7 adapters mixed in one call, chunks",
        chunks,
        args.chunk_tokens,
        timed(mixed, args.repeats, args.device),
        {"max_abs_diff_vs_separate_calls": float(np.abs(mixed() - separate).max())},
    )
    if args.device.startswith("cuda"):
        peak_gb = torch.cuda.max_memory_allocated() / 2**30
    merged_dir = model.export("text2code-python", work / f"{shape}-merged", merge=True)
    merged = SentenceTransformer(str(merged_dir), device=args.device)
    merged.max_seq_length = args.chunk_tokens
    merged.to(model.dtype)
    record(
        "merged single adapter (sentence-transformers, same dtype), chunks",
        chunks,
        args.chunk_tokens,
        timed(lambda: merged.encode(chunks, batch_size=args.batch_size), args.repeats, args.device),
    )
    if peak_gb is not None:
        rows[-1]["lora_model_peak_allocated_gib"] = round(peak_gb, 3)
    # The same merged weights through LoRACodeModel's own pipeline: the fair yardstick for the 7-adapter row.
    plain = LoRACodeModel.from_base(merged_dir, adapters={}, device=args.device)
    plain._st.max_seq_length = args.chunk_tokens
    encode_plain = lambda: plain.encode_code(chunks, adapter="base", batch_size=args.batch_size)  # noqa: E731
    record(
        "merged single adapter (LoRACodeModel, same pipeline), chunks",
        chunks,
        args.chunk_tokens,
        timed(encode_plain, args.repeats, args.device),
        {"max_abs_diff_vs_lora_1_adapter": float(np.abs(encode_plain() - one()).max())},
    )
    if args.compile:
        try:  # an experiment, not a product path: compile the encoder's forward, fixed shapes
            plain._st[0].model.forward = torch.compile(plain._st[0].model.forward)
            plain_batches = [{k: v.to(args.device) for k, v in b.inputs.items()} for b in produce()]

            def compiled_model_only():
                return [plain._forward(inputs) for inputs in plain_batches]

            record("torch.compile, model only (batches padded beforehand), merged, chunks", chunks,
                   args.chunk_tokens, timed(compiled_model_only, args.repeats, args.device))  # fmt: skip
            record("torch.compile, merged, LoRACodeModel pipeline, chunks", chunks, args.chunk_tokens,
                   timed(encode_plain, args.repeats, args.device))  # fmt: skip
        except Exception as exc:  # noqa: BLE001 - record why, keep the other rows
            rows.append({"shape": shape, "path": "torch.compile", "error": repr(exc)[:500]})
    return rows


def run_scaling(shape: str, args: argparse.Namespace, work: Path) -> list[dict]:
    """1 device vs ``args.devices`` on the same chunks: one adapter per call, and mixed languages."""
    from loracode_embed import LoRACodeModel
    from loracode_embed.multi_device import MultiDeviceModel

    devices = args.devices
    base_dir = build_base(shape, work / shape)
    adapters = build_adapters(base_dir, work / f"{shape}-adapters")
    chunks = make_texts(args.n_chunks, args.chunk_tokens, SHAPES[shape]["vocab"], 1)
    # text2code with these languages routes to six adapters in one call (None: the task adapter).
    mixed_langs = [("python", "go", "java", "javascript", "php", None)[i % 6] for i in range(len(chunks))]
    calls = {
        "1 adapter": lambda m: m.encode_code(chunks, adapter="text2code-python", batch_size=args.batch_size),
        "6 adapters mixed in one call": lambda m: m.encode_code(
            chunks, languages=mixed_langs, batch_size=args.batch_size
        ),
    }
    single = LoRACodeModel.from_base(base_dir, adapters=adapters, device=devices[0])
    baseline = {}
    for name, call in calls.items():
        seconds = timed(lambda c=call, m=single: c(m), args.repeats, devices[0])
        baseline[name] = (len(chunks) / seconds, call(single))
    del single
    rows = []
    for backend in args.backends:
        with MultiDeviceModel.from_base(
            base_dir, adapters=adapters, devices=devices, backend=backend
        ) as multi:
            for name, call in calls.items():
                seconds = timed(lambda c=call, m=multi: c(m), args.repeats, devices[0])
                per_s = len(chunks) / seconds
                one_per_s, expected = baseline[name]
                row = {
                    "shape": shape,
                    "path": f"chunks, {name}, {backend} backend",
                    "devices": ",".join(devices),
                    "seq_tokens": args.chunk_tokens,
                    "one_device_items_per_s": round(one_per_s, 1),
                    "items_per_s": round(per_s, 1),
                    "scaling": round(per_s / one_per_s, 3),
                    "max_abs_diff_vs_one_device": float(np.abs(call(multi) - expected).max()),
                }
                rows.append(row)
                print(json.dumps(row), flush=True)
                if args.out:
                    result = {"info": args.info, "rows": args.rows_done + rows}
                    args.out.write_text(json.dumps(result, indent=2) + "\n")
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--shapes", nargs="+", default=["unixcoder", "minilm"], choices=sorted(SHAPES))
    parser.add_argument("--n-chunks", type=int, default=8192)
    parser.add_argument("--chunk-tokens", type=int, default=256)
    parser.add_argument("--query-tokens", type=int, default=32)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", type=Path)
    parser.add_argument("--skip-sentence-transformers", action="store_true", help="no plain ST rows")
    parser.add_argument("--compile", action="store_true", help="also time torch.compile on the merged model")
    parser.add_argument(
        "--devices",
        help="measure multi-device scaling on these devices, e.g. cuda:0,cuda:1 (instead of the usual rows)",
    )
    parser.add_argument("--backends", nargs="+", default=["thread", "process"], choices=["thread", "process"])
    args = parser.parse_args()
    if args.devices:
        from loracode_embed.multi_device import parse_devices

        args.devices = parse_devices(args.devices, "--devices")
        args.device = args.devices[0]
    info = {
        "device": args.device,
        "torch": torch.__version__,
        "python": platform.python_version(),
        "gpu": torch.cuda.get_device_name() if args.device.startswith("cuda") else platform.processor(),
        "devices": [
            torch.cuda.get_device_name(d) if d.startswith("cuda") else platform.processor()
            for d in args.devices or [args.device]
        ],
        "cpu_count": os.cpu_count(),
        "TOKENIZERS_PARALLELISM": os.environ.get("TOKENIZERS_PARALLELISM"),
        "args": {k: str(v) for k, v in vars(args).items()},
    }
    if args.device.startswith("cuda"):
        info["dense_bf16_matmul_tflops"] = dense_matmul_tflops(args.device)
    args.info, args.rows_done = info, []
    with tempfile.TemporaryDirectory() as tmp:
        run = run_scaling if args.devices else run_shape
        rows = []
        for shape in args.shapes:
            rows += run(shape, args, Path(tmp))
            args.rows_done = list(rows)
    result = {"info": info, "rows": rows}
    if args.out:
        args.out.write_text(json.dumps(result, indent=2) + "\n")
    if args.devices:
        print(f"{'shape':<10} {'path':<55} {'1 device/s':>11} {'N devices/s':>12} {'scaling':>8}")
        for row in rows:
            print(f"{row['shape']:<10} {row['path']:<55} {row['one_device_items_per_s']:>11} "
                  f"{row['items_per_s']:>12} {row['scaling']:>8}")  # fmt: skip
        return
    print(f"{'shape':<10} {'path':<70} {'items/s':>10} {'TFLOP/s':>8}")
    for row in rows:
        if "error" in row:
            print(f"{row['shape']:<10} {row['path']:<70} {row['error']}")
            continue
        print(f"{row['shape']:<10} {row['path']:<70} {row['items_per_s']:>10} {str(row['tflops']):>8}")


if __name__ == "__main__":
    main()
