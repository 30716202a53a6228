"""``loracode adapters``: list a bundle's adapters and its routing table."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from loracode_embed.languages import SUPPORTED_LANGUAGES
from loracode_embed.loading import default_bundle_dir
from loracode_embed.manifest import Manifest
from loracode_embed.routing import routing_table


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "adapters",
        help="list the bundle's adapters and routing table",
        description="List the adapters of a bundle (task, languages, LoRA rank) and where each (task, language) routes.",
    )
    parser.add_argument("--model", help="bundle directory (default: the bundle shipped in the package)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument(
        "--path",
        action="store_true",
        help="print the bundle's directory only (for SentenceTransformer(path, trust_remote_code=True))",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    # Reads the manifest only: listing adapters needs no model weights.
    bundle = Path(args.model) if args.model else default_bundle_dir()
    manifest = Manifest.load(bundle)
    if args.path:
        print(bundle.resolve())
        return 0
    table = routing_table(manifest.adapters, SUPPORTED_LANGUAGES)
    if args.json:
        print(
            json.dumps(
                {
                    "base": manifest.base.name,
                    "embedding_dim": manifest.embedding_dim,
                    "adapters": {
                        name: {"task": e.task, "kind": e.kind, "languages": e.languages, "lora": e.lora}
                        for name, e in sorted(manifest.adapters.items())
                    },
                    "routes": [
                        {"task": r.task, "language": r.language, "adapter": r.adapter, "fallback": r.fallback}
                        for r in table
                    ],
                },
                indent=2,
            )
        )
        return 0
    print(f"base: {manifest.base.name}  (embedding size {manifest.embedding_dim})")
    if not manifest.adapters:
        print("adapters: none (every route uses the base model)")
    else:
        print("adapters:")
        for name, entry in sorted(manifest.adapters.items()):
            langs = ", ".join(entry.languages) or "all"
            print(
                f"  {name:<24} task={entry.task:<9} kind={entry.kind:<8} languages={langs}  r={entry.lora.get('r')}"
            )
    print("routes (task, language -> adapter):")
    for r in table:
        print(f"  {r.task:<9} {r.language or '*':<12} -> {r.adapter or 'base'}  ({r.fallback})")
    return 0
