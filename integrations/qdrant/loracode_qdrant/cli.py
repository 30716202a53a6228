"""``loracode index`` and ``loracode search``: argument parsing and output only.

Registered into the core ``loracode`` command through the ``loracode_embed.commands`` entry point
(see this distribution's ``pyproject.toml``); the core never imports this package.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

from loracode_embed.precision import DTYPES

from loracode_qdrant.index import DEFAULT_INDEX_DIRNAME, SEARCH_MODES, CodeIndex, Hit, IndexSummary


def register(subparsers: Any) -> None:
    """Add the ``index`` and ``search`` subcommands to the ``loracode`` parser."""
    p = subparsers.add_parser(
        "index",
        help="index a source tree for code search (incremental)",
        description="Walk a source tree, chunk it into functions/classes, embed and store the chunks. "
        "Re-running only re-embeds what changed.",
    )
    p.add_argument("path", nargs="?", default=".", help="the tree to index (default: current folder)")
    p.add_argument("--rebuild", action="store_true", help="drop the existing index first")
    p.add_argument("--max-file-kb", type=int, default=1000, help="skip larger files (default: 1000)")
    p.add_argument("--batch-size", type=int, default=64, help="chunks per embedding batch (default: 64)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    _store_args(p, _INDEX_DEVICES_HELP)
    p.set_defaults(func=_run_index)

    s = subparsers.add_parser(
        "search",
        help="search an indexed tree",
        description="Search an index built by `loracode index`. The query may be natural language or code: "
        "its type is detected. Hits print as path:line, symbol, score and a snippet.",
    )
    s.add_argument("query", help="natural-language text or a piece of code")
    s.add_argument("-l", "--language", help="search this language only (in its adapter's space)")
    s.add_argument("-k", "--top", type=int, default=10, dest="k", help="number of hits (default: 10)")
    s.add_argument("--path", action="append", dest="path_glob", metavar="GLOB",
                   help="only files matching this glob, e.g. 'src/**/*.py' (repeatable)")  # fmt: skip
    s.add_argument("--task", choices=("auto", "text2code", "code2code"), default="auto",
                   help="query type (default: detect)")  # fmt: skip
    s.add_argument("--mode", choices=SEARCH_MODES, default="auto",
                   help="auto (default: hybrid, or per-language on an index built before hybrid search), "
                   "per-language (dense spaces fused by rank), unified (the unified space), hybrid (the "
                   "dense spaces and identifier-aware BM25, fused), sparse (BM25 only)")  # fmt: skip
    s.add_argument("--root", help="the indexed tree (default: nearest folder upward with a .loracode index)")
    s.add_argument("--lines", type=int, default=4, help="snippet lines per hit (default: 4)")
    _store_args(s, _SEARCH_DEVICES_HELP)
    s.set_defaults(func=_run_search)


_INDEX_DEVICES_HELP = (
    "embed on these devices, e.g. cuda:0,cuda:1: one model replica each, chunks shared out "
    "(default: cuda if available, else cpu)"
)
_DTYPE_HELP = (
    "auto (default: bfloat16 on a CPU with hardware bfloat16, float16 on CUDA, else float32; on this "
    "path the CPU fast path keeps retrieval MRR within 0.3 %%, see docs/benchmarks.md), float32 (the "
    "vectors sentence-transformers computes), bfloat16, float16"
)
_SEARCH_DEVICES_HELP = "device for the query, e.g. cuda:1 (of a list, the first: one query needs one device)"


def _store_args(p: argparse.ArgumentParser, devices_help: str) -> None:
    g = p.add_argument_group("store")
    g.add_argument("--index-dir", help=f"embedded index folder (default: <tree>/{DEFAULT_INDEX_DIRNAME})")
    g.add_argument("--qdrant-url", default=os.environ.get("QDRANT_URL"),
                   help="use a Qdrant server instead of the embedded store (env QDRANT_URL)")  # fmt: skip
    g.add_argument("--qdrant-api-key", default=os.environ.get("QDRANT_API_KEY"),
                   help="API key for --qdrant-url (env QDRANT_API_KEY)")  # fmt: skip
    g.add_argument("--collection", default="loracode", help="collection on the server (default: loracode)")
    g.add_argument("--model", help="model bundle folder (default: the packaged default bundle)")
    g.add_argument("--devices", metavar="LIST", help=devices_help)
    g.add_argument("--dtype", choices=DTYPES, default="auto", help=_DTYPE_HELP)
    g.add_argument("--json", action="store_true", help="print JSON for machines")


def load_model(
    model_dir: str | None, devices: str | None, query_only: bool = False, dtype: str | None = None
) -> Any:
    """The model for ``--model``, ``--devices``, ``--dtype``; ``None`` (CodeIndex's lazy default): none given.

    Several devices give a ``MultiDeviceModel`` (one replica per device). ``query_only`` (search, which
    embeds one query) loads the first device only: a second replica would never be used.

    Example:
        >>> load_model(None, None) is None
        True
    """
    if not model_dir and not devices and dtype in (None, "auto"):
        return None  # CodeIndex loads the default bundle with dtype="auto" on first use
    from loracode_embed import LoRACodeModel

    if devices:
        from loracode_embed.multi_device import MultiDeviceModel, parse_devices

        device_list = parse_devices(devices, "--devices")
        if len(device_list) > 1 and not query_only:
            return MultiDeviceModel.from_pretrained(model_dir, devices=device_list, dtype=dtype)
        return LoRACodeModel.from_pretrained(model_dir, device=device_list[0], dtype=dtype)
    return LoRACodeModel.from_pretrained(model_dir, dtype=dtype)


def _make_index(
    args: argparse.Namespace, root: Path | None, query_only: bool = False, **kwargs: Any
) -> CodeIndex:
    model = load_model(args.model, args.devices, query_only, args.dtype)
    store = None
    if args.qdrant_url:
        from loracode_qdrant.store import ServerStore

        store = ServerStore.from_url(args.qdrant_url, args.qdrant_api_key, args.collection)
    return CodeIndex(root, model=model, store=store, index_dir=args.index_dir, **kwargs)


def _run_index(args: argparse.Namespace) -> int:
    root = Path(args.path).expanduser()
    if not root.is_dir():
        raise FileNotFoundError(f"No such folder to index: {args.path!r}")
    show = False if args.no_progress or args.json else None
    index = _make_index(args, root, max_file_bytes=args.max_file_kb * 1000, batch_size=args.batch_size,
                        show_progress=show)  # fmt: skip
    try:
        with index:
            summary = index.index(rebuild=args.rebuild)
    finally:
        _close_model(index)
    if args.json:
        print(json.dumps(summary.to_dict(), indent=2))
    else:
        print(format_summary(summary))
    return 0


def _close_model(index: CodeIndex) -> None:
    """Stop a multi-device model's workers (a single model has nothing to stop)."""
    close = getattr(index._model, "close", None)
    if callable(close):
        close()


def format_summary(summary: IndexSummary) -> str:
    """The summary printed at the end of ``loracode index``."""
    lines = [
        f"Indexed {summary.root} in {summary.seconds:.1f}s -> {summary.store}",
        f"  files: {summary.files} walked, {summary.added} added, {summary.updated} updated, "
        f"{summary.unchanged} unchanged, {summary.deleted} deleted",
        f"  chunks: {summary.chunks_total} stored, {summary.chunks_embedded} embedded, "
        f"{summary.chunks_reused} reused",
    ]
    if summary.skipped:
        lines.append("  skipped: " + ", ".join(f"{n} {reason}" for reason, n in summary.skipped.items()))
    if summary.transcoded_utf16:
        lines.append(f"  {summary.transcoded_utf16} UTF-16 file(s) indexed after transcoding to UTF-8")
    if summary.lossy_utf8:
        lines.append(f"  {summary.lossy_utf8} file(s) with invalid UTF-8 indexed with replacement characters")
    return "\n".join(lines)


def _find_root(start: Path) -> Path:
    for folder in (start, *start.parents):
        if (folder / DEFAULT_INDEX_DIRNAME / "shard").is_dir():
            return folder
    raise FileNotFoundError(
        f"No loracode index in {start} or any parent folder. Run `loracode index <path>` first, "
        "or pass --root / --index-dir."
    )


def _run_search(args: argparse.Namespace) -> int:
    if args.root:
        root: Path | None = Path(args.root).expanduser()
    elif args.index_dir or args.qdrant_url:
        root = None
    else:
        root = _find_root(Path.cwd())
    with _make_index(args, root, query_only=True, show_progress=False) as index:
        hits = index.search(args.query, language=args.language, k=args.k, path_glob=args.path_glob,
                            task=args.task, mode=args.mode)  # fmt: skip
    if args.json:
        print(json.dumps([h.to_dict() for h in hits], indent=2))
    else:
        print(format_hits(hits, args.lines, color=sys.stdout.isatty()))
    return 0


def format_hits(hits: list[Hit], lines: int = 4, color: bool = False) -> str:
    """Hits as ``path:line  symbol  score`` headers, each followed by an indented snippet."""
    if not hits:
        return "No results."
    bold, dim, reset = ("\033[1m", "\033[2m", "\033[0m") if color else ("", "", "")
    out = []
    for hit in hits:
        symbol = hit.symbol or f"<{hit.kind}>"
        out.append(f"{bold}{hit.path}:{hit.start_line}{reset}  {symbol}  {dim}{hit.score:.3f} "
                   f"[{hit.language}, {hit.kind}]{reset}")  # fmt: skip
        for line in hit.snippet(lines).splitlines():
            out.append(f"    {line[:160]}")
        out.append("")
    return "\n".join(out).rstrip()
