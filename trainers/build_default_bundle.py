"""Write the default bundle shipped inside the package: the MiniLM base plus the trained adapters.

Run from the repository root:

    python trainers/build_default_bundle.py                          # base alone
    python trainers/build_default_bundle.py --adapter text2code-python=runs/py/best ...

Only adapters trained by the recipes in ``trainers/`` belong here: never ship untrained adapters.
"""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

from loracode_embed import LoRACodeModel
from loracode_embed.loading import DEFAULT_BUNDLE


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--adapter", action="append", default=[], metavar="NAME=DIR", help="an adapter to include"
    )
    parser.add_argument("--out", type=Path, default=DEFAULT_BUNDLE)
    args = parser.parse_args()
    adapters = dict(item.split("=", 1) for item in args.adapter)
    model = LoRACodeModel.from_base(None, adapters=adapters, device="cpu")
    model.manifest.description = "Default loracode-embed bundle: all-MiniLM-L6-v2" + (
        f" with code-search LoRA adapters {', '.join(model.adapters)}"
        if model.adapters
        else " (no trained adapters yet)"
    )
    staging = args.out.with_name(args.out.name + ".tmp")
    shutil.rmtree(staging, ignore_errors=True)
    model.save_pretrained(staging)
    shutil.rmtree(args.out, ignore_errors=True)
    staging.rename(args.out)
    print(f"wrote {args.out}: adapters {model.adapters or '(none)'}")


if __name__ == "__main__":
    main()
