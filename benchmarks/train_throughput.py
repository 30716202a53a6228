"""Training throughput of LoRA contrastive training: pairs/s per GPU, model FLOP utilisation, peak memory.

Random-weight models of the real shapes (no weights can be downloaded; speed does not depend on them),
synthetic token ids of fixed lengths (no tokenizer), LoRA on query/value, in-batch-negative loss (MNRL:
cross-entropy over scaled cosine similarities), AdamW on the LoRA weights. One step = a forward and
backward pass over ``batch`` queries and ``batch`` code snippets per GPU, then an optimizer step.

    python benchmarks/train_throughput.py --shape unixcoder --steps 30           # one GPU
    python benchmarks/train_throughput.py --shape unixcoder --devices 2          # torchrun, 2 GPUs
    python benchmarks/train_throughput.py --tiny --steps 2 --device cpu          # CPU smoke test

Modes (``--mode``):

* ``baseline``: what a plain sentence-transformers bf16 run does: fp32 weights under bf16 autocast, an
  attention mask passed to every layer;
* ``fast``: the frozen base weights stored in bf16 (LoRA weights and optimizer state stay fp32), no
  attention mask (all lengths are equal, so SDPA can pick its flash kernel), fused AdamW, and PEFT's
  cast of each LoRA layer's input to the LoRA weights' fp32 turned off (autocast runs the LoRA
  matmuls in bf16 either way; the cast only adds an fp32 copy of every q/v input, forward and
  backward), and LayerNorms kept in bf16 under autocast (autocast would run them in fp32 and turn the
  whole residual stream fp32: ``loracode_embed/training/norms.py``; ``--fp32-norms`` measures the
  difference), and PEFT's LoRA layers given a fused forward/backward that adds the LoRA term inside
  the GEMMs (``loracode_embed/training/fused_lora.py``; ``--peft-lora`` keeps PEFT's forward); add
  ``--compile`` for torch.compile (one static graph per sequence length).

``--profile`` records 3 extra steps with torch.profiler and writes the kernels' CUDA time table next
to the JSON (``*.profile.txt``).

MFU counts model FLOPs, not hardware FLOPs (no recomputation), per text of L tokens:

    forward  = 2 * N * L + 4 * layers * L^2 * d            (N: encoder Linear weights, frozen)
    backward = 2 * N * L + 8 * layers * L^2 * d            (activation gradients only: frozen weights
                                                              get no weight gradient)
    LoRA     = 3 * 2 * L * layers * sum_modules r * (d_in + d_out)   (forward + both backward terms)

summed over the query (L=64) and code (L=256) of each pair, divided by the peak dense bf16 rate
(H100 SXM and H200: 989 TFLOP/s; ``--peak-tflops`` to change it). Embedding lookups are not counted.

Results go to ``$OUT/train_throughput-<shape>-<mode>-<devices>gpu.json`` when ``$OUT`` is set, else
``benchmarks/results/``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F

SHAPES = {
    # UniXcoder: RoBERTa, 125M parameters, 10 token types, 1026 positions
    "unixcoder": dict(
        model_type="roberta",
        vocab_size=51416,
        hidden_size=768,
        num_hidden_layers=12,
        num_attention_heads=12,
        intermediate_size=3072,
        max_position_embeddings=1026,
        type_vocab_size=10,
        pad_token_id=1,
    ),
    # all-MiniLM-L6-v2: BERT, 6 layers, 384 wide
    "minilm": dict(
        model_type="bert",
        vocab_size=30522,
        hidden_size=384,
        num_hidden_layers=6,
        num_attention_heads=12,
        intermediate_size=1536,
        max_position_embeddings=512,
        type_vocab_size=2,
        pad_token_id=0,
    ),
    # CPU smoke test
    "tiny": dict(
        model_type="roberta",
        vocab_size=600,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=4,
        intermediate_size=64,
        max_position_embeddings=130,
        type_vocab_size=10,
        pad_token_id=1,
    ),
}
PEAK_BF16_TFLOPS = 989.0  # H100 SXM / H200, dense bf16 tensor cores


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--shape", choices=sorted(SHAPES), default="unixcoder")
    p.add_argument("--tiny", action="store_true", help="tiny model and sizes, for a CPU smoke test")
    p.add_argument("--mode", choices=["baseline", "fast"], default="fast")
    p.add_argument("--batch", type=int, default=256, help="pairs per GPU per step")
    p.add_argument("--query-len", type=int, default=64)
    p.add_argument("--code-len", type=int, default=256)
    p.add_argument("--rank", type=int, default=64, help="LoRA rank (query and value)")
    p.add_argument("--steps", type=int, default=30, help="timed steps")
    p.add_argument("--warmup", type=int, default=5, help="untimed steps first (compilation, autotuning)")
    p.add_argument("--compile", action="store_true", help="torch.compile the encoder")
    p.add_argument("--compile-mode", default=None, help="torch.compile mode, e.g. max-autotune-no-cudagraphs")
    p.add_argument(
        "--peft-input-cast",
        action="store_true",
        help="with --peft-lora: keep PEFT's fp32 cast of LoRA inputs (the fused layers never cast)",
    )
    p.add_argument(
        "--fp32-norms", action="store_true", help="fast mode: let autocast run LayerNorms in fp32 (as before)"
    )
    p.add_argument(
        "--sdpa-backend",
        choices=["default", "flash", "efficient", "cudnn"],
        default="default",
        help="restrict scaled_dot_product_attention to one kernel family",
    )
    p.add_argument(
        "--compile-regions",
        nargs="?",
        const="blocks",
        choices=["blocks", "ffn"],
        default=None,
        help="torch.compile parts of each layer, leaving attention to SDPA's kernels: 'blocks' (the "
        "default) each output block (dense, dropout, residual add, LayerNorm) and the intermediate "
        "block; 'ffn' the attention output block and the whole feed-forward part as one graph",
    )
    p.add_argument(
        "--separate-qkv", action="store_true", help="fused LoRA without grouping query/key/value (ablation)"
    )
    p.add_argument("--peft-lora", action="store_true", help="fast mode: PEFT's own LoRA forward (not fused)")
    p.add_argument("--profile", action="store_true", help="write a torch.profiler kernel table")
    p.add_argument("--dropout", type=float, default=0.1, help="hidden/attention dropout of the base model")
    p.add_argument(
        "--lora-dropout", type=float, default=0.0, help="dropout on the LoRA input (PEFT's default)"
    )
    p.add_argument("--devices", type=int, default=1, help="GPUs: >1 re-launches itself under torchrun")
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    p.add_argument("--tag", default="", help="suffix of the result file name, e.g. -h200")
    p.add_argument("--peak-tflops", type=float, default=PEAK_BF16_TFLOPS)
    p.add_argument("--out", default=None, help="result directory (default $OUT or benchmarks/results)")
    args = p.parse_args(argv)
    if args.tiny:
        args.shape, args.batch, args.query_len, args.code_len, args.rank = "tiny", 8, 16, 32, 4
        args.warmup = min(args.warmup, 1)
    return args


# ---------------------------------------------------------------------------- model


def build_encoder(args: argparse.Namespace, device: torch.device) -> torch.nn.Module:
    from peft import LoraConfig, get_peft_model
    from transformers import BertConfig, BertModel, RobertaConfig, RobertaModel

    shape = dict(SHAPES[args.shape])
    model_type = shape.pop("model_type")
    config_cls, model_cls = (
        (RobertaConfig, RobertaModel) if model_type == "roberta" else (BertConfig, BertModel)
    )
    config = config_cls(
        **shape,
        hidden_dropout_prob=args.dropout,
        attention_probs_dropout_prob=args.dropout,
        attn_implementation="sdpa",
    )
    torch.manual_seed(0)
    model = model_cls(config, add_pooling_layer=False)
    if args.mode == "fast" and device.type == "cuda":
        model = model.to(torch.bfloat16)  # frozen weights in bf16; PEFT keeps the adapter in fp32
    model = get_peft_model(
        model,
        LoraConfig(
            r=args.rank,
            lora_alpha=2 * args.rank,
            lora_dropout=args.lora_dropout,
            target_modules=["query", "value"],
        ),
    )
    if args.mode == "fast":
        sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
        from loracode_embed.training.fused_lora import use_fused_lora
        from loracode_embed.training.norms import keep_layer_norms_in_weight_dtype

        if device.type == "cuda" and not args.fp32_norms:
            keep_layer_norms_in_weight_dtype(model)
        if not args.peft_lora:
            use_fused_lora(model, group_projections=not args.separate_qkv)
    if args.mode == "fast" and not args.peft_input_cast:
        # PEFT casts each LoRA input to the adapter's fp32 dtype; under bf16 autocast the LoRA matmuls
        # run in bf16 anyway, so the cast only materialises an fp32 copy (and its gradient).
        for module in model.modules():
            if hasattr(module, "lora_A"):
                module.cast_input_dtype_enabled = False
    return model.to(device)


def compile_regions(model: torch.nn.Module, regions: str, mode: str | None) -> None:
    """torch.compile each encoder layer's output and feed-forward blocks (not attention: see --help)."""
    for module in model.modules():
        name = type(module).__name__
        if name.endswith("SelfOutput"):
            module.compile(dynamic=False, mode=mode)
        elif regions == "blocks" and (
            name.endswith("Intermediate") or name in ("RobertaOutput", "BertOutput")
        ):
            module.compile(dynamic=False, mode=mode)
        elif regions == "ffn" and hasattr(module, "feed_forward_chunk"):
            module.feed_forward_chunk = torch.compile(module.feed_forward_chunk, dynamic=False, mode=mode)


def encode(model: torch.nn.Module, ids: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
    hidden = model(input_ids=ids, attention_mask=mask).last_hidden_state
    if mask is None:
        pooled = hidden.mean(dim=1)
    else:
        m = mask.unsqueeze(-1).to(hidden.dtype)
        pooled = (hidden * m).sum(1) / m.sum(1).clamp(min=1)
    return F.normalize(pooled.float(), dim=-1)


def mnrl(queries: torch.Tensor, codes: torch.Tensor, scale: float = 20.0) -> torch.Tensor:
    """In-batch negatives; with several GPUs every device's codes are candidates (gathered with gradients)."""
    offset = 0
    if torch.distributed.is_initialized() and torch.distributed.get_world_size() > 1:
        from torch.distributed.nn.functional import all_gather

        codes = torch.cat(all_gather(codes), dim=0)
        offset = torch.distributed.get_rank() * queries.shape[0]
    scores = scale * queries @ codes.T
    labels = torch.arange(offset, offset + queries.shape[0], device=queries.device)
    return F.cross_entropy(scores, labels)


# ---------------------------------------------------------------------------- FLOPs


def model_flops_per_pair(args: argparse.Namespace) -> float:
    s = SHAPES[args.shape]
    d, layers, ff = s["hidden_size"], s["num_hidden_layers"], s["intermediate_size"]
    n_linear = layers * (4 * d * d + 2 * d * ff)
    lora_per_token = layers * 2 * args.rank * (d + d) * 2  # two modules (query, value), 2 FLOPs per MAC
    total = 0.0
    for length in (args.query_len, args.code_len):
        forward = 2 * n_linear * length + 4 * layers * length * length * d
        backward = 2 * n_linear * length + 8 * layers * length * length * d
        total += forward + backward + 3 * lora_per_token * length
    return total


# ---------------------------------------------------------------------------- run


def main(argv: list[str] | None = None) -> dict:
    args = parse_args(argv)
    if args.devices > 1 and "LOCAL_RANK" not in os.environ:
        cmd = [
            sys.executable,
            "-m",
            "torch.distributed.run",
            "--standalone",
            f"--nproc_per_node={args.devices}",
            os.path.abspath(__file__),
            *(argv if argv is not None else sys.argv[1:]),
        ]
        os.execv(sys.executable, cmd)

    world, rank = int(os.environ.get("WORLD_SIZE", "1")), int(os.environ.get("LOCAL_RANK", "0"))
    if world > 1:
        backend = "nccl" if args.device == "cuda" else "gloo"
        torch.distributed.init_process_group(backend)
    device = torch.device(f"cuda:{rank}" if args.device == "cuda" else "cpu")
    if device.type == "cuda":
        torch.cuda.set_device(device)
        torch.backends.cuda.matmul.allow_tf32 = True

    model = build_encoder(args, device)
    trainable = [p for p in model.parameters() if p.requires_grad]
    n_trainable = sum(p.numel() for p in trainable)
    n_total = sum(p.numel() for p in model.parameters())
    runner = model
    if world > 1:
        runner = torch.nn.parallel.DistributedDataParallel(
            model, device_ids=[rank] if device.type == "cuda" else None
        )
    if args.compile_regions:
        compile_regions(model, args.compile_regions, args.compile_mode)
    if args.compile:
        # dynamic=False: queries and codes have two fixed lengths; without it the second length makes
        # torch.compile recompile with symbolic shapes, and the kernels lose their static tuning.
        runner = torch.compile(runner, dynamic=False, mode=args.compile_mode)
    fused = device.type == "cuda" and args.mode == "fast"
    optimizer = torch.optim.AdamW(trainable, lr=1e-4, fused=fused)
    vocab = SHAPES[args.shape]["vocab_size"]
    gen = torch.Generator(device=device).manual_seed(1234 + rank)
    q_ids = torch.randint(5, vocab, (args.batch, args.query_len), device=device, generator=gen)
    c_ids = torch.randint(5, vocab, (args.batch, args.code_len), device=device, generator=gen)
    with_mask = args.mode == "baseline"
    q_mask = torch.ones_like(q_ids) if with_mask else None
    c_mask = torch.ones_like(c_ids) if with_mask else None
    autocast = torch.autocast(device_type=device.type, dtype=torch.bfloat16, enabled=device.type == "cuda")

    from contextlib import nullcontext

    def attention_kernels():  # a fresh context per step: sdpa_kernel's context is single-use
        if args.sdpa_backend == "default":
            return nullcontext()
        from torch.nn.attention import SDPBackend, sdpa_kernel

        return sdpa_kernel(
            {"flash": SDPBackend.FLASH_ATTENTION, "efficient": SDPBackend.EFFICIENT_ATTENTION,
             "cudnn": SDPBackend.CUDNN_ATTENTION}[args.sdpa_backend]
        )  # fmt: skip

    def step() -> float:
        with autocast, attention_kernels():
            loss = mnrl(encode(runner, q_ids, q_mask), encode(runner, c_ids, c_mask))
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        return loss

    for _ in range(args.warmup):
        step()
    if device.type == "cuda":
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
    start = time.perf_counter()
    for _ in range(args.steps):
        loss = step()
    final_loss = float(loss.detach())  # synchronises
    if device.type == "cuda":
        torch.cuda.synchronize()
    seconds = time.perf_counter() - start
    if not torch.isfinite(torch.tensor(final_loss)):
        raise RuntimeError(f"loss is {final_loss} after {args.warmup + args.steps} steps")

    profile_table = None
    if args.profile:
        from torch.profiler import ProfilerActivity, profile

        activities = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if device.type == "cuda" else [])
        with profile(activities=activities) as prof:
            for _ in range(3):
                step()
            if device.type == "cuda":
                torch.cuda.synchronize()
        sort_key = "cuda_time_total" if device.type == "cuda" else "cpu_time_total"
        profile_table = prof.key_averages().table(sort_by=sort_key, row_limit=40, max_name_column_width=70)

    pairs_per_s = args.batch * args.steps / seconds
    flops = model_flops_per_pair(args)
    result = {
        "shape": args.shape,
        "mode": args.mode,
        "compile": args.compile,
        "compile_mode": args.compile_mode,
        "compile_regions": args.compile_regions,
        "fp32_norms": args.mode == "baseline" or args.fp32_norms,
        "sdpa_backend": args.sdpa_backend,
        "fused_lora": args.mode == "fast" and not args.peft_lora,
        "grouped_qkv": args.mode == "fast" and not args.peft_lora and not args.separate_qkv,
        "peft_input_cast": args.mode == "baseline" or args.peft_input_cast,
        "dropout": args.dropout,
        "lora_dropout": args.lora_dropout,
        "devices": world,
        "batch_pairs_per_gpu": args.batch,
        "query_len": args.query_len,
        "code_len": args.code_len,
        "lora_rank": args.rank,
        "params_total": n_total,
        "params_trainable": n_trainable,
        "steps": args.steps,
        "warmup_steps": args.warmup,
        "seconds": round(seconds, 3),
        "pairs_per_s_per_gpu": round(pairs_per_s, 1),
        "model_tflops_per_pair": flops / 1e12,
        "mfu": round(pairs_per_s * flops / (args.peak_tflops * 1e12), 4) if device.type == "cuda" else None,
        "peak_tflops": args.peak_tflops,
        "peak_memory_gib": round(torch.cuda.max_memory_allocated(device) / 2**30, 2)
        if device.type == "cuda"
        else None,
        "final_loss": round(final_loss, 4),
        "device": torch.cuda.get_device_name(device)
        if device.type == "cuda"
        else platform.processor() or "cpu",
        "versions": {"torch": torch.__version__, "python": platform.python_version()},
    }
    if world > 1:
        gathered: list = [None] * world
        torch.distributed.all_gather_object(gathered, result["pairs_per_s_per_gpu"])
        result["pairs_per_s_per_gpu_by_rank"] = gathered
        result["pairs_per_s_per_gpu"] = round(sum(gathered) / world, 1)
        if result["mfu"] is not None:
            result["mfu"] = round(result["pairs_per_s_per_gpu"] * flops / (args.peak_tflops * 1e12), 4)
    if rank == 0:
        out = Path(args.out or os.environ.get("OUT") or Path(__file__).resolve().parent / "results")
        out.mkdir(parents=True, exist_ok=True)
        name = (
            f"train_throughput-{args.shape}-{args.mode}{'-compile' if args.compile else ''}"
            f"{'-regions' if args.compile_regions == 'blocks' else ''}"
            f"{'-regionsffn' if args.compile_regions == 'ffn' else ''}"
            f"{'-' + args.compile_mode if args.compile_mode else ''}"
            f"{'-nodropout' if args.dropout == 0 else ''}"
            f"{'-peftcast' if args.peft_input_cast else ''}{'-fp32norms' if args.fp32_norms else ''}"
            f"{'-peftlora' if args.peft_lora else ''}{'-separateqkv' if args.separate_qkv else ''}"
            f"{'-sdpa_' + args.sdpa_backend if args.sdpa_backend != 'default' else ''}"
            f"-{world}gpu{args.tag}.json"
        )
        (out / name).write_text(json.dumps(result, indent=2) + "\n")
        if profile_table is not None:
            (out / name.replace(".json", ".profile.txt")).write_text(profile_table + "\n")
        print(json.dumps(result, indent=2))
    if world > 1:
        torch.distributed.destroy_process_group()
    return result


if __name__ == "__main__":
    main()
