"""``loracode embed``: print vectors as JSON lines, one per input line (or per ``--file``)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from loracode_embed.cli_args import language, positive_int
from loracode_embed.loading import default_bundle_dir
from loracode_embed.manifest import Manifest
from loracode_embed.precision import DTYPES
from loracode_embed.routing import QUERY_TASKS

#: Help of ``--dtype`` for every command that embeds.
DTYPE_HELP = (
    "float32 (CPU default: the vectors sentence-transformers computes), bfloat16 (the CPU fast path: about 2x "
    "faster on CPUs with hardware bfloat16, see docs/benchmarks.md), auto (bfloat16 where the CPU has it, "
    "else float32; float16 on CUDA), float16 (CUDA default)"
)


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "embed",
        help="embed text or code and print JSON lines",
        description=(
            "Embed each TEXT argument (or each line of standard input, or the whole of each --file) and print "
            'one JSON object per input: {"index", "adapter", "task", "vector"}. Queries are routed by --task '
            "(auto: natural language vs code per input); --code embeds documents (code) instead."
        ),
    )
    parser.add_argument("texts", nargs="*", metavar="TEXT", help="texts to embed (default: lines of stdin)")
    parser.add_argument(
        "--file", action="append", type=Path, default=[], help="embed a whole file (repeatable)"
    )
    parser.add_argument("--task", choices=QUERY_TASKS, default="auto", help="query task (default: auto)")
    parser.add_argument(
        "--language", type=language, help="programming language, for its adapter (e.g. python, go)"
    )
    parser.add_argument("--code", action="store_true", help="embed as code (documents), not as queries")
    parser.add_argument("--adapter", default="auto", help="auto (route), base, or an adapter name")
    parser.add_argument("--model", help="bundle directory (default: the bundle shipped in the package)")
    devices = parser.add_mutually_exclusive_group()
    devices.add_argument("--device", help="cpu, cuda, cuda:1, ... (default: cuda if available)")
    devices.add_argument(
        "--devices",
        metavar="LIST",
        help="spread the inputs over several devices, e.g. cuda:0,cuda:1 (one replica each)",
    )
    parser.add_argument("--dtype", choices=DTYPES, help=DTYPE_HELP)
    parser.add_argument(
        "--batch-size", type=positive_int, default=32, help="texts per forward pass (default: 32)"
    )
    parser.set_defaults(func=run)


def check_adapter(adapter: str, model_dir: str | None) -> None:
    """Refuse an unknown ``--adapter`` from the bundle's manifest alone, before any model loads.

    Example:
        >>> check_adapter("nope", None)
        Traceback (most recent call last):
        ...
        ValueError: Unknown adapter 'nope'. Available: auto, base, code2code, ...
    """
    if adapter in ("auto", "base"):
        return
    names = sorted(Manifest.load(model_dir or default_bundle_dir()).adapters)
    if adapter not in names:
        raise ValueError(f"Unknown adapter {adapter!r}. Available: {', '.join(['auto', 'base', *names])}")


def run(args: argparse.Namespace) -> int:
    check_adapter(args.adapter, args.model)  # arguments first: a typo is refused at once
    for path in args.file:
        if not path.is_file():
            raise FileNotFoundError(f"--file {str(path)!r}: no such file")
    texts = list(args.texts)
    languages: list[str | None] = [args.language] * len(texts)
    for path in args.file:
        texts.append(path.read_text(encoding="utf-8"))
        languages.append(args.language)
    if not texts:
        texts = [line.rstrip("\n") for line in sys.stdin if line.strip()]
        languages = [args.language] * len(texts)
    model = load_model(args.model, device=args.device, devices=args.devices, dtype=args.dtype)
    if args.code:
        task = "text2code" if args.task == "auto" else args.task
        vectors = model.encode_code(
            texts, languages=languages, task=task, adapter=args.adapter, batch_size=args.batch_size
        )
        tasks = [task] * len(texts)
    else:
        vectors = model.encode_query(
            texts, language=args.language, task=args.task, adapter=args.adapter, batch_size=args.batch_size
        )
        tasks = [args.task if args.task != "auto" else model.classify_query(t) for t in texts]
    for index, (vector, task) in enumerate(zip(vectors, tasks, strict=True)):
        if args.adapter == "auto":
            adapter = model.route(task, args.language)
        else:
            adapter = None if args.adapter == "base" else args.adapter
        record = {
            "index": index,
            "task": task,
            "adapter": adapter or "base",
            "vector": [round(float(x), 7) for x in vector],
        }
        print(json.dumps(record))
    if hasattr(model, "close"):
        model.close()
    return 0


def load_model(
    path: str | None, device: str | None = None, devices: str | None = None, dtype: str | None = None
) -> Any:
    """A ``LoRACodeModel`` on ``device``, or a ``MultiDeviceModel`` when ``devices`` lists several.

    ``devices`` is the command line's comma-separated list; one device there is the same as ``device``.
    ``dtype`` is ``--dtype`` (``None``: the device's default; ``bfloat16``: the CPU fast path).

    Example:
        >>> load_model(None, devices="cpu").device.type
        'cpu'
    """
    from loracode_embed.model import LoRACodeModel

    if devices is not None:
        from loracode_embed.multi_device import MultiDeviceModel, parse_devices

        device_list = parse_devices(devices, "--devices")
        if len(device_list) > 1:
            return MultiDeviceModel.from_pretrained(path, devices=device_list, dtype=dtype)
        device = device_list[0]
    return LoRACodeModel.from_pretrained(path, device=device, dtype=dtype)
