"""The ``loracode`` command: argument parsing only; every subcommand delegates to library code.

Subcommands come from two places:

* the core's own command modules, listed in ``CORE_COMMANDS`` (each has ``register(subparsers)``);
* installed plugins, through the ``loracode_embed.commands`` entry-point group (an integration such as
  the Qdrant code indexer registers ``index`` and ``search`` this way), so the core never imports them.

``main`` builds only what the command line needs: with a command name in it (``loracode search ...``),
only that command's module, or only the plugin entry points *named* after that command (a plugin that
registers several commands lists one entry point per command name, all with the same value). Anything
else (no command, ``--help``, ``--version``, an unknown name, a plugin whose entry-point names are not its
command names) builds the whole parser, so help, errors and plugin isolation are as before. A shell
search answered by a running ``loracode serve`` then starts in a fraction of the full parser's time.

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
from typing import Any

from loracode_embed import __version__

#: Core command name -> its module (in help order).
CORE_COMMANDS: dict[str, str] = {
    "embed": "loracode_embed.commands.embed",
    "adapters": "loracode_embed.commands.adapters",
    "train": "loracode_embed.commands.train",
    "mine": "loracode_embed.commands.mine",
    "eval": "loracode_embed.commands.eval",
}
PLUGIN_GROUP = "loracode_embed.commands"

logger = logging.getLogger(__name__)


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The parser, with core commands and every installed plugin's commands.

    Args:
        command: Build only what provides this command (see the module docstring); the whole parser
            when it is ``None`` or nothing is found that provides it by name.
    """
    failed: set[str] = set()  # plugins that failed to load: warned about once, not retried
    if command is not None:
        parser, subparsers = _empty_parser()
        if command in CORE_COMMANDS:
            importlib.import_module(CORE_COMMANDS[command]).register(subparsers)
            return parser
        _register_plugins(subparsers, failed, name=command)
        if command in subparsers.choices:
            return parser
    parser, subparsers = _empty_parser()  # whole parser: its help, its "invalid choice" message
    for module_name in CORE_COMMANDS.values():
        importlib.import_module(module_name).register(subparsers)
    _register_plugins(subparsers, failed)
    return parser


def _empty_parser() -> tuple[argparse.ArgumentParser, Any]:
    parser = argparse.ArgumentParser(
        prog="loracode", description="Code-search embeddings with LoRA adapters routed per task and language."
    )
    parser.add_argument("--version", action="version", version=f"loracode-embed {__version__}")
    parser.add_argument(
        "-v", "--verbose", action="count", default=0, help="more logging (-v info, -vv debug)"
    )
    return parser, parser.add_subparsers(dest="command", metavar="COMMAND")


def _register_plugins(subparsers: Any, failed: set[str], name: str | None = None) -> None:
    """Call each plugin's ``register`` (only those of entry-point name ``name`` if given) once: a value
    listed under several names loads once, and one in ``failed`` is skipped."""
    done = set(failed)
    for entry in entry_points(group=PLUGIN_GROUP):
        if (name is not None and entry.name != name) or entry.value in done:
            continue
        done.add(entry.value)
        try:
            entry.load()(subparsers)
        except Exception as exc:  # a broken plugin must not take the core commands down with it
            failed.add(entry.value)
            logger.warning("Skipping loracode plugin %r: %s", entry.name, exc)


def command_name(argv: Sequence[str]) -> str | None:
    """The command named on a ``loracode`` command line, or ``None`` when the whole parser is needed.

    Only ``-v``/``--verbose`` may come before it (the other top-level options, ``--help`` and
    ``--version``, and anything unusual need every command).

    >>> command_name(["-vv", "search", "-k", "3", "parse json"])
    'search'
    >>> command_name(["--help"]) is None
    True
    """
    for token in argv:
        if not token.startswith("-"):
            return token
        if set(token[1:]) == {"v"} or (len(token) >= 6 and "--verbose".startswith(token)):
            continue
        return None
    return None


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``loracode`` console script."""
    parser = build_parser(command_name(sys.argv[1:] if argv is None else argv))
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
