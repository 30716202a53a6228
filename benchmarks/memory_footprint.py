"""Peak memory of the default base with and without seven LoRA adapters loaded.

Each configuration runs in a fresh subprocess that loads the model, encodes a few texts, and reports
its peak resident set size (CPU) or peak allocated CUDA memory. The seven adapters are random,
non-zero LoRA adapters of the shipped shape (r=16 on query/value of all-MiniLM-L6-v2), built in a
temporary folder, so the script runs anywhere the package is installed.

    python benchmarks/memory_footprint.py                 # CPU
    python benchmarks/memory_footprint.py --device cuda
    python benchmarks/memory_footprint.py --dtype bfloat16     # the CPU fast path (adapters folded per call)
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

ADAPTER_NAMES = ["text2code", "code2code"] + [
    f"text2code-{lang}" for lang in ("python", "go", "java", "javascript", "php")
]

CHILD = r"""
import json, resource, sys
import torch
from loracode_embed import LoRACodeModel
device, adapters, dtype = sys.argv[1], json.loads(sys.argv[2]), sys.argv[3]
model = LoRACodeModel.from_base(None, adapters=adapters, device=device, dtype=None if dtype == "default" else dtype)
texts = ["def add(a, b):\n    return a + b\n"] * 32
for name in ["base", *model.adapters]:
    model.encode_code(texts, adapter=name)
peak_rss_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB
cuda_mib = torch.cuda.max_memory_allocated() / 2**20 if device.startswith("cuda") else None
print(json.dumps({"adapters": len(adapters), "peak_rss_mib": round(peak_rss_mib, 1),
                  "peak_cuda_allocated_mib": None if cuda_mib is None else round(cuda_mib, 1)}))
"""


def build_adapters(out: Path) -> dict[str, str]:
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModel

    from loracode_embed.loading import DEFAULT_BASE, base_ref_for, resolve_base

    base = resolve_base(base_ref_for(DEFAULT_BASE))
    adapters = {}
    for seed, name in enumerate(ADAPTER_NAMES):
        torch.manual_seed(seed)
        model = get_peft_model(
            AutoModel.from_pretrained(str(base)),
            LoraConfig(r=16, lora_alpha=32, target_modules=["query", "value"], init_lora_weights=False),
        )
        model.save_pretrained(str(out / name), safe_serialization=True)
        adapters[name] = str(out / name)
    return adapters


def measure(device: str, adapters: dict[str, str], dtype: str = "default") -> dict:
    result = subprocess.run(
        [sys.executable, "-c", CHILD, device, json.dumps(adapters), dtype],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--dtype", default="default", help="float32, bfloat16, ... (default: the device's)")
    parser.add_argument("--out", type=Path, help="write the results JSON here")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        adapters = build_adapters(Path(tmp))
        base = measure(args.device, {}, args.dtype)
        full = measure(args.device, adapters, args.dtype)
    key = "peak_cuda_allocated_mib" if args.device.startswith("cuda") else "peak_rss_mib"
    result = {
        "device": args.device,
        "dtype": args.dtype,
        "base_alone": base,
        "with_7_adapters": full,
        "overhead_percent": round(100 * (full[key] / base[key] - 1), 2),
        "measure": key,
    }
    print(json.dumps(result, indent=2))
    if args.out:
        args.out.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
