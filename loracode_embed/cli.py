"""The ``loracode`` command: argument parsing only; every subcommand delegates to library code.

Subcommands come from two places:

* the core's own command modules, listed in ``CORE_COMMANDS`` (each has ``register(subparsers)``);
* installed plugins, through the ``loracode_embed.commands`` entry-point group (an integration such as
  the Qdrant code indexer registers ``index`` and ``search`` this way), so the core never imports them.

A command module's ``register`` adds a parser and sets ``func`` on it: ``func(args) -> int`` is the
exit status.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence
from importlib.metadata import entry_points

from loracode_embed import __version__

CORE_COMMANDS: tuple[str, ...] = (
    "loracode_embed.commands.embed",
    "loracode_embed.commands.adapters",
    "loracode_embed.commands.train",
    "loracode_embed.commands.mine",
)
PLUGIN_GROUP = "loracode_embed.commands"

logger = logging.getLogger(__name__)


def build_parser() -> argparse.ArgumentParser:
    """The full parser, with core commands and every installed plugin's commands."""
    parser = argparse.ArgumentParser(
        prog="loracode", description="Code-search embeddings with LoRA adapters routed per task and language."
    )
    parser.add_argument("--version", action="version", version=f"loracode-embed {__version__}")
    parser.add_argument(
        "-v", "--verbose", action="count", default=0, help="more logging (-v info, -vv debug)"
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module_name in CORE_COMMANDS:
        importlib.import_module(module_name).register(subparsers)
    for entry in entry_points(group=PLUGIN_GROUP):
        try:
            entry.load()(subparsers)
        except Exception as exc:  # a broken plugin must not take the core commands down with it
            logger.warning("Skipping loracode plugin %r: %s", entry.name, exc)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``loracode`` console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    level = logging.WARNING - 10 * min(args.verbose, 2)
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except BrokenPipeError:  # `loracode adapters | head`: the reader left; not an error
        return 0
    except (ValueError, TypeError, FileNotFoundError, RuntimeError) as exc:
        print(f"loracode {args.command}: error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
