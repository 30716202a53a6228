"""Copy a base model directory with its weights in float16, small enough to carry to a GPU machine.

    python trainers/gpu/pack_base.py --out carry/base            # the default MiniLM (45 MB in float16)
    python trainers/gpu/pack_base.py --base DIR --out carry/base

The trainer loads it back in float32 (or bf16 storage, ``base_dtype``), so float16 is only the
transport format. Weights are safetensors; tokenizer and sentence-transformers files are copied as is.
"""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

from safetensors.torch import load_file, save_file

from loracode_embed.loading import DEFAULT_BASE, base_ref_for, resolve_base, weights_file


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", default=DEFAULT_BASE, help="model directory or hub id (default: MiniLM)")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    source = resolve_base(base_ref_for(args.base))
    weights = weights_file(source)
    if args.out.exists():
        shutil.rmtree(args.out)
    shutil.copytree(
        source,
        args.out,
        ignore=shutil.ignore_patterns(
            "*.safetensors", "*.bin", "*.onnx", "onnx", "openvino", "*.h5", "*.msgpack", "*.ot"
        ),
    )
    tensors = {k: (v.half() if v.is_floating_point() else v) for k, v in load_file(weights).items()}
    save_file(tensors, args.out / weights.name, metadata={"format": "pt"})
    size = sum(p.stat().st_size for p in args.out.rglob("*") if p.is_file())
    print(f"wrote {args.out} ({size / 2**20:.1f} MiB)")


if __name__ == "__main__":
    main()
