"""``loracode train CONFIG.yaml``: train one LoRA adapter; flags override the file.

Every :class:`~loracode_embed.training.config.TrainConfig` field is also a flag (``lora_r`` ->
``--lora-r``), and ``--set key=value`` sets any field by name. ``--resume`` continues from the latest
checkpoint in the output directory. Run it under ``torchrun --nproc_per_node=N`` for several GPUs.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import typing
from typing import Any

from loracode_embed.training.config import TrainConfig

_SPECIAL = {"resume"}


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "train",
        help="train a LoRA adapter from a YAML config",
        description="Train a LoRA adapter (text2code, text2code-<language> or code2code) from a YAML config; "
        "flags override the file. Needs the train extra: pip install 'loracode-embed[train]'.",
    )
    parser.add_argument(
        "config", nargs="?", help="YAML file of TrainConfig settings (optional: flags alone work)"
    )
    parser.add_argument(
        "--set", action="append", default=[], metavar="KEY=VALUE", help="override any setting (repeatable)"
    )
    parser.add_argument(
        "--resume",
        nargs="?",
        const="auto",
        default=None,
        metavar="CHECKPOINT",
        help="continue an interrupted run (default: the latest checkpoint in output_dir)",
    )
    parser.add_argument("--print-config", action="store_true", help="print the resolved settings and exit")
    hints = typing.get_type_hints(TrainConfig)
    group = parser.add_argument_group("settings (each overrides the config file; see docs/training.md)")
    for f in dataclasses.fields(TrainConfig):
        if f.name in _SPECIAL:
            continue
        flag = "--" + f.name.replace("_", "-")
        tp = hints[f.name]
        if tp is bool:
            group.add_argument(
                flag,
                dest=f.name,
                action=argparse.BooleanOptionalAction,
                default=None,
                help=f.metadata["help"],
            )
        elif typing.get_origin(tp) is list:
            group.add_argument(
                flag, dest=f.name, nargs="+", default=None, metavar="ITEM", help=f.metadata["help"]
            )
        else:
            kind = {int: int, float: float}.get(tp, str)
            group.add_argument(
                flag, dest=f.name, type=kind, default=None, metavar=f.name.upper(), help=f.metadata["help"]
            )
    parser.set_defaults(func=run)


def resolve_config(args: argparse.Namespace) -> TrainConfig:
    """The config file, then ``--set`` assignments, then explicit flags (last wins)."""
    config = TrainConfig.from_yaml(args.config) if args.config else TrainConfig()
    if args.set:
        config = config.with_overrides(args.set)
    flags = {
        f.name: getattr(args, f.name)
        for f in dataclasses.fields(TrainConfig)
        if f.name not in _SPECIAL and getattr(args, f.name, None) is not None
    }
    if args.resume is not None:
        flags["resume"] = args.resume
    return config.with_overrides(flags) if flags else config


def run(args: argparse.Namespace) -> int:
    config = resolve_config(args)
    if args.print_config:
        print(json.dumps(config.to_dict(), indent=2))
        return 0
    from loracode_embed.training.runner import train

    adapter_dir = train(config)
    print(adapter_dir)
    return 0
