"""The ``loracode`` console script: ``loracode search`` answered by a running server before anything else.

A search from the shell on a tree that ``loracode serve`` holds is answered by the server in one request;
what is left of its time is the interpreter starting and the imports. So this module, the script's entry
point, imports only ``sys`` and hands a ``search`` command line to the indexer's
:func:`loracode_qdrant.server_search.fast_search` (standard library only: no ``argparse``, no
``importlib.metadata`` plugin discovery, no ``http.client``). Everything else, and every search that path
does not answer (no server, an option it does not read, any error), runs :func:`loracode_embed.cli.main`,
where every message and fallback is, exactly as before.

The indexer's module is named here rather than found through the ``loracode_embed.commands`` entry
points because finding it that way is what costs the time; without the indexer installed the import
fails and the full command line runs.
"""

from __future__ import annotations

import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``loracode`` console script (``argv``: the arguments, default ``sys.argv[1:]``)."""
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] == ["search"]:
        try:
            from loracode_qdrant.server_search import fast_search
        except ImportError:  # loracode-qdrant not installed: the full parser says `search` is unknown
            pass
        else:
            code = fast_search(args[1:])
            if code is not None:
                return code
    from loracode_embed.cli import main as full_main

    return full_main(args)


if __name__ == "__main__":
    sys.exit(main())
