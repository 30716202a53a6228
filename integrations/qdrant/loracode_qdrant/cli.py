"""``loracode index``, ``loracode search`` and ``loracode status``: argument parsing and output only.

Arguments are checked before any model loads, so a bad one is refused at once. ``search`` embeds its
query with :class:`loracode_embed.query_encoder.QueryEncoder` (numpy; no torch import) unless
``--devices`` or a half-precision ``--dtype`` asks for the torch model.

Registered into the core ``loracode`` command through the ``loracode_embed.commands`` entry point
(see this distribution's ``pyproject.toml``); the core never imports this package.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from loracode_embed.cli_args import language, non_negative_int, positive_int
from loracode_embed.precision import DTYPES

from loracode_qdrant.defaults import (
    DEFAULT_BATCH_SIZE,
    DEFAULT_INDEX_DIRNAME,
    SEARCH_MODES,
    SEARCH_TASKS,
    nearest_indexed_folder,
)
from loracode_qdrant.hit_text import format_hits
from loracode_qdrant.runlog import RunRecord
from loracode_qdrant.server_link import ServerInfo, find_server, request_json
from loracode_qdrant.spaces import check_space_kinds

if TYPE_CHECKING:  # the index (numpy, tree-sitter) is imported only when a command runs
    from loracode_qdrant.index import CodeIndex, Hit, IndexStatus, IndexSummary

logger = logging.getLogger(__name__)


def register(subparsers: Any) -> None:
    """Add the ``index``, ``search`` and ``status`` subcommands to the ``loracode`` parser."""
    p = subparsers.add_parser(
        "index",
        help="index a source tree for code search (incremental)",
        description="Walk a source tree, chunk it into functions/classes, embed and store the chunks. "
        "Re-running only re-embeds what changed; an interrupted run is finished by running it again. "
        "With -v, every skipped file is named with its reason.",
    )
    p.add_argument("path", nargs="*", help="the folders to index (default: current folder); each keeps its "
                   "own index")  # fmt: skip
    p.add_argument("--from-file", metavar="FILE",
                   help="also index the folders listed in FILE, one a line (# starts a comment)")  # fmt: skip
    p.add_argument("--rebuild", action="store_true", help="drop the existing index first")
    p.add_argument("--max-file-kb", type=positive_int, default=1000, help="skip larger files (default: 1000)")
    p.add_argument("--batch-size", type=positive_int, default=DEFAULT_BATCH_SIZE,
                   help=f"chunks per embedding batch (default: {DEFAULT_BATCH_SIZE}; larger batches take "
                   "more memory)")  # fmt: skip
    p.add_argument("--no-progress", action="store_true",
                   help="no progress bar (it is shown only when stderr is a terminal)")  # fmt: skip
    p.add_argument("--spaces", type=_space_kinds, metavar="LIST",
                   help="embedding spaces per chunk: 'all' or a comma list of language (required), unified "
                   "(for --mode unified), code2code (default: a new index stores language only, one "
                   "embedding per chunk; an existing index keeps its spaces, --rebuild changes "
                   "them)")  # fmt: skip
    _store_args(p, _INDEX_DEVICES_HELP)
    r = p.add_argument_group('ray (pip install "loracode-qdrant[ray]")')
    r.add_argument("--ray", nargs="?", const="", type=ray_address, metavar="ADDRESS",
                   help="run on Ray: files chunked in Ray tasks, chunks embedded by one model actor per GPU "
                   "(else per CPU), writes from this process. ADDRESS: auto (a cluster started here with "
                   "`ray start`), HOST:PORT or ray://HOST:PORT (default: RAY_ADDRESS, else a new local "
                   "instance). Put it after the folders, or write --ray=ADDRESS")  # fmt: skip
    r.add_argument("--ray-workers", type=positive_int, metavar="N",
                   help="embedding actors (default: one per GPU of the cluster, else per CPU)")  # fmt: skip
    p.set_defaults(func=_run_index)

    s = subparsers.add_parser(
        "search",
        help="search an indexed tree",
        description="Search an index built by `loracode index`. The query may be natural language or code: "
        "its type is detected. Hits print as path:line, symbol, score and a snippet; a long function "
        "stored in parts is one hit (its best part). If the last index run did not finish, the hits "
        "come from the files indexed so far and a note on stderr says so.",
    )
    s.add_argument("query", help="natural-language text or a piece of code")
    s.add_argument("-l", "--language", type=language,
                   help="search this language only (in its adapter's space)")  # fmt: skip
    s.add_argument("-k", "--top", type=positive_int, default=10, dest="k",
                   help="number of hits, one per function or class (default: 10)")  # fmt: skip
    s.add_argument("--path", action="append", dest="path_glob", metavar="GLOB",
                   help="only files matching this glob, e.g. 'src/**/*.py' (repeatable)")  # fmt: skip
    s.add_argument("--task", choices=SEARCH_TASKS, default="auto",
                   help="query type (default: detect)")  # fmt: skip
    s.add_argument("--mode", choices=SEARCH_MODES, default="auto",
                   help="auto (default: hybrid, or per-language on an index built before hybrid search), "
                   "per-language (dense spaces fused by rank), unified (the unified space), hybrid (the "
                   "dense spaces and identifier-aware BM25, fused), sparse (BM25 only)")  # fmt: skip
    s.add_argument("--root", help="the indexed tree (default: nearest folder upward with a .loracode index)")
    s.add_argument("--lines", type=non_negative_int, default=4, help="snippet lines per hit (default: 4)")
    _store_args(s, _SEARCH_DEVICES_HELP)
    s.set_defaults(func=_run_search)

    t = subparsers.add_parser(
        "status",
        help="what an index holds and whether its last run finished",
        description="Show an index's files, chunks, languages, embedding spaces, model and adapters, "
        "size on disk and last run (complete or not, when, how long). Loads no model.",
    )
    t.add_argument("--root", help="the indexed tree (default: nearest folder upward with a .loracode index)")
    t.add_argument("--index-dir", help=f"embedded index folder (default: <tree>/{DEFAULT_INDEX_DIRNAME})")
    t.add_argument("--qdrant-url", default=os.environ.get("QDRANT_URL"),
                   help="a Qdrant server instead of the embedded store (env QDRANT_URL)")  # fmt: skip
    t.add_argument("--qdrant-api-key", default=os.environ.get("QDRANT_API_KEY"),
                   help="API key for --qdrant-url (env QDRANT_API_KEY)")  # fmt: skip
    t.add_argument("--collection", default="loracode", help="collection on the server (default: loracode)")
    t.add_argument("--json", action="store_true", help="print JSON for machines")
    t.set_defaults(func=_run_status)


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
    embeds one query) loads the first device only: a second replica would never be used; with no
    device and a float32 or ``auto`` dtype it is a numpy ``QueryEncoder`` (no torch import), unless
    the model needs torch.

    Example:
        >>> load_model(None, None) is None
        True
        >>> type(load_model(None, None, query_only=True)).__name__
        'QueryEncoder'
    """
    if query_only and not devices and dtype in (None, "auto", "float32"):
        from loracode_embed.query_encoder import QueryEncoder, UnsupportedModel

        try:
            return QueryEncoder.from_pretrained(model_dir)
        except UnsupportedModel as exc:
            logger.info("Query encoder: %s; using the torch model", exc)
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
    return _code_index(root, model=model, store=_server_store(args), index_dir=args.index_dir, **kwargs)


def _code_index(*args: Any, **kwargs: Any) -> CodeIndex:
    from loracode_qdrant.index import CodeIndex

    return CodeIndex(*args, **kwargs)


def _server_store(args: argparse.Namespace, collection: str | None = None) -> Any:
    if not args.qdrant_url:
        return None
    from loracode_qdrant.store import ServerStore

    return ServerStore.from_url(args.qdrant_url, args.qdrant_api_key, collection or args.collection)


_RAY_ADDRESS = re.compile(r"(auto|local|ray://[\w.\-]+(:\d+)?|[\w.\-]+:\d+)")
_MISSING_RAY = (
    "--ray needs Ray, which is not installed (missing: {missing}). Install the extra: "
    'pip install "loracode-qdrant[ray]"'
)


def ray_address(text: str) -> str:
    """A ``--ray`` address: ``auto``, ``local``, ``HOST:PORT``, ``ray://HOST[:PORT]`` (``""``: the default).

    Example:
        >>> ray_address("10.0.0.5:6379"), ray_address("ray://head:10001")
        ('10.0.0.5:6379', 'ray://head:10001')
        >>> ray_address("repos/app")
        Traceback (most recent call last):
        ...
        argparse.ArgumentTypeError: 'repos/app' is not a Ray address (auto, HOST:PORT or ray://HOST:PORT); \
to index it, put the folders before --ray, or write --ray=ADDRESS
    """
    if text == "" or _RAY_ADDRESS.fullmatch(text):
        return text
    raise argparse.ArgumentTypeError(
        f"{text!r} is not a Ray address (auto, HOST:PORT or ray://HOST:PORT); to index it, put the folders "
        "before --ray, or write --ray=ADDRESS"
    )


def _index_roots(args: argparse.Namespace) -> list[Path]:
    """The folders to index, from the arguments and ``--from-file``, each checked (none twice)."""
    named: list[tuple[str, str]] = [(p, "path") for p in args.path]
    if args.from_file:
        listing = Path(args.from_file).expanduser()
        if not listing.is_file():
            raise FileNotFoundError(f"--from-file {args.from_file!r}: no such file")
        for number, line in enumerate(listing.read_text(encoding="utf-8").splitlines(), 1):
            entry = line.split("#", 1)[0].strip()
            if entry:
                named.append((entry, f"--from-file {args.from_file}, line {number}"))
        if not named:
            raise ValueError(f"--from-file {args.from_file!r} lists no folder")
    if not named:
        named = [(".", "path")]
    roots: dict[Path, str] = {}
    for text, where in named:
        root = Path(text).expanduser()
        if root.is_file():
            raise ValueError(
                f"{text!r} ({where}) is a file; loracode index takes a folder and indexes the files in it. "
                f"To index the folder this file is in, run: loracode index {_quote(root.parent)}"
            )
        if not root.is_dir():
            raise FileNotFoundError(f"No such folder to index: {text!r} ({where})")
        resolved = root.resolve()
        if resolved in roots:
            raise ValueError(f"{text!r} ({where}) is listed twice (also as {roots[resolved]!r})")
        roots[resolved] = text
    if len(roots) > 1 and args.index_dir:
        raise ValueError(
            "--index-dir names one index, but several folders are given: leave it out (each folder keeps "
            f"its index in <folder>/{DEFAULT_INDEX_DIRNAME}) or index one folder at a time"
        )
    return [Path(text).expanduser() for text in roots.values()]


def collection_for(collection: str, root: Path, several: bool) -> str:
    """The server collection of a tree: ``--collection`` for one tree, ``<collection>-<folder name>`` for
    each of several.

    Example:
        >>> collection_for("loracode", Path("/src/app"), several=True)
        'loracode-app'
    """
    return f"{collection}-{root.resolve().name}" if several else collection


def _check_collections(args: argparse.Namespace, roots: list[Path]) -> None:
    if not args.qdrant_url or len(roots) < 2:
        return
    seen: dict[str, Path] = {}
    for root in roots:
        name = collection_for(args.collection, root, True)
        if name in seen:
            raise ValueError(
                f"{seen[name]} and {root} would share the collection {name!r} (one per folder name); "
                "index them in separate runs with --collection"
            )
        seen[name] = root


def _run_index(args: argparse.Namespace) -> int:
    roots = _index_roots(args)
    _check_collections(args, roots)
    if args.ray is not None:
        summaries = _index_on_ray(args, roots)
    elif args.ray_workers is not None:
        raise ValueError("--ray-workers needs --ray")
    else:
        summaries = _index_each(args, roots)
    if args.json:
        data = [s.to_dict() for s in summaries]
        print(json.dumps(data[0] if len(data) == 1 else data, indent=2))
    else:
        verbose = getattr(args, "verbose", 0) > 0
        print("\n".join(format_summary(s, list_skipped=verbose) for s in summaries))
    return 0


def _index_each(args: argparse.Namespace, roots: list[Path]) -> list[IndexSummary]:
    """The folders one after another in this process, with one model."""
    show = False if args.no_progress or args.json else None
    model = load_model(args.model, args.devices, False, args.dtype)
    summaries = []
    try:
        for root in roots:
            server = _running_server(args, root)
            if server is not None:  # it is the index's only writer: ask it to re-index
                summaries.append(_index_via_server(server, args.rebuild))
                continue
            store = _server_store(args, collection_for(args.collection, root, len(roots) > 1))
            index = _code_index(root, model=model, store=store, index_dir=args.index_dir,
                                max_file_bytes=args.max_file_kb * 1000, batch_size=args.batch_size,
                                show_progress=show, spaces=args.spaces)  # fmt: skip
            with index:
                summaries.append(index.index(rebuild=args.rebuild))
            model = index._model  # loaded by the first folder (the default model): the others reuse it
    finally:
        close = getattr(model, "close", None)  # a multi-device model's workers
        if callable(close):
            close()
    return summaries


def _index_on_ray(args: argparse.Namespace, roots: list[Path]) -> list[IndexSummary]:
    """``--ray``: every folder in one Ray run (:mod:`loracode_qdrant.ray_index`)."""
    import importlib.util

    missing = [name for name in ("ray", "pyarrow", "pandas") if importlib.util.find_spec(name) is None]
    if missing:
        raise ImportError(_MISSING_RAY.format(missing=", ".join(missing)))
    if args.devices:
        raise ValueError("--devices is for one process; with --ray, Ray places one model actor per GPU")
    for root in roots:
        server = _running_server(args, root)
        if server is not None:
            raise RuntimeError(
                f"`loracode serve` (pid {server.pid}, {server.url}) holds the index of {root} and is its "
                "only writer; stop it, or index that folder without --ray (the server re-indexes it)"
            )
    from loracode_qdrant.ray_index import ModelLoader, index_on_ray, ray_session

    loader = ModelLoader(args.model, args.dtype)
    show = False if args.no_progress or args.json else None
    with ray_session(args.ray or None), contextlib.ExitStack() as stack:
        model = loader(device="cpu")  # here: metadata, routing and the tokenizer; the actors embed
        several = len(roots) > 1
        indexes = [
            stack.enter_context(_code_index(
                root, model=model, store=_server_store(args, collection_for(args.collection, root, several)),
                index_dir=args.index_dir, max_file_bytes=args.max_file_kb * 1000, batch_size=args.batch_size,
                show_progress=show, spaces=args.spaces))
            for root in roots
        ]  # fmt: skip
        return index_on_ray(indexes, loader, workers=args.ray_workers, rebuild=args.rebuild)


def _space_kinds(text: str) -> tuple[str, ...]:
    """``--spaces``: checked by the parser, before any model loads."""
    try:
        return check_space_kinds(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _quote(path: Path) -> str:
    import shlex

    return shlex.quote(str(path))


def format_summary(summary: IndexSummary, list_skipped: bool = False) -> str:
    """The summary printed at the end of ``loracode index`` (``list_skipped``: name each skipped file)."""
    lines = [
        f"Indexed {summary.root} in {summary.seconds:.1f}s -> {summary.store}",
        f"  files: {summary.files} walked, {summary.added} added, {summary.updated} updated, "
        f"{summary.unchanged} unchanged, {summary.deleted} deleted",
        f"  chunks: {summary.chunks_total} stored, {summary.chunks_embedded} embedded, "
        f"{summary.chunks_reused} reused",
    ]
    if summary.skipped:
        lines.append("  skipped: " + ", ".join(f"{n} {reason}" for reason, n in summary.skipped.items()))
        if list_skipped:
            lines.extend(f"    {item['path']}  ({item['reason']})" for item in summary.skipped_files)
        else:
            lines.append("  (loracode -v index ... names each skipped file)")
    if summary.transcoded_utf16:
        lines.append(f"  {summary.transcoded_utf16} UTF-16 file(s) indexed after transcoding to UTF-8")
    if summary.lossy_utf8:
        lines.append(f"  {summary.lossy_utf8} file(s) with invalid UTF-8 indexed with replacement characters")
    return "\n".join(lines)


def _find_root(start: Path) -> Path:
    found = nearest_indexed_folder(str(start))
    if found is not None:
        return Path(found)
    raise FileNotFoundError(
        f"No loracode index in {start} or any parent folder. Run `loracode index <path>` first, "
        "or pass --root / --index-dir."
    )


def _search_root(args: argparse.Namespace) -> Path | None:
    if args.root:
        root = Path(args.root).expanduser()
        if not root.is_dir():
            raise FileNotFoundError(f"--root {args.root!r} is not a folder")
        return root
    if args.index_dir or args.qdrant_url:
        return None
    return _find_root(Path.cwd())


def _run_search(args: argparse.Namespace) -> int:
    if not args.query.strip():
        raise ValueError("the query is empty; give some words or a piece of code")
    for glob in args.path_glob or ():
        if not glob:
            raise ValueError("--path needs a glob, e.g. 'src/**/*.py'")
    root = _search_root(args)
    server = _running_server(args, root)
    if server is not None:  # a warm `loracode serve` holds this index: no model load, no store lock
        _print_hits(_search_via_server(server, args), args)
        return 0
    from loracode_qdrant.store import StoreLockedError  # here: a search via the server never needs it

    # Before the model loads: an index being built, or not built yet, is reported at once.
    probe = _code_index(root, model=None, store=_server_store(args), index_dir=args.index_dir)
    run = probe.last_run()
    if run is not None and run.state == "running" and not probe.store.exists():
        raise RuntimeError(f"No index to search yet: {_in_progress(run, root)}")
    try:
        with _make_index(args, root, query_only=True, show_progress=False) as index:
            hits = index.search(args.query, language=args.language, k=args.k, path_glob=args.path_glob,
                                task=args.task, mode=args.mode)  # fmt: skip
    except StoreLockedError as exc:
        run = probe.last_run()
        if run is not None and run.in_progress():
            raise RuntimeError(f"The index is being built: {_in_progress(run, root)}") from exc
        raise
    _print_hits(hits, args)
    note = incomplete_note(probe.last_run(), root, lock_free=probe.store_is_embedded)
    if note:
        print(note, file=sys.stderr)
    return 0


def _print_hits(hits: list[Hit], args: argparse.Namespace) -> None:
    if args.json:
        print(json.dumps([h.to_dict() for h in hits], indent=2))
    else:
        print(format_hits(hits, args.lines, color=sys.stdout.isatty()))


def _running_server(args: argparse.Namespace, root: Path | None) -> ServerInfo | None:
    """The live ``loracode serve`` holding this embedded index, if any (see :mod:`.server_link`)."""
    if args.qdrant_url or (root is None and not args.index_dir):
        return None
    index_dir = Path(args.index_dir).expanduser() if args.index_dir else root / DEFAULT_INDEX_DIRNAME  # type: ignore[operator]
    return find_server(index_dir)


def _search_via_server(server: ServerInfo, args: argparse.Namespace) -> list[Hit]:
    from loracode_qdrant.hits import Hit  # standard library only: this path imports no numpy or index

    body = {"query": args.query, "k": args.k, "language": args.language, "path_glob": args.path_glob,
            "task": args.task, "mode": args.mode}  # fmt: skip
    answer = request_json(server, "POST", "/v1/search", body)
    names = Hit.__dataclass_fields__
    return [Hit(**{key: value for key, value in hit.items() if key in names}) for hit in answer["data"]]


def _index_via_server(server: ServerInfo, rebuild: bool) -> IndexSummary:
    from loracode_qdrant.index import IndexSummary

    if rebuild:
        raise RuntimeError(
            f"`loracode serve` (pid {server.pid}, {server.url}) holds the index at {server.index_dir} and "
            "is its only writer; stop it before `loracode index --rebuild`."
        )
    print(f"Index held by `loracode serve` (pid {server.pid}, {server.url}): it re-indexes.", file=sys.stderr)
    answer = request_json(server, "POST", "/v1/reindex", {})
    return IndexSummary(**answer["summary"])


def _in_progress(run: RunRecord, root: Path | None) -> str:
    where = f" of {root}" if root is not None else ""
    return (
        f"`loracode index`{where} is running (pid {run.pid}; {run.describe()}). "
        "Search again when it has finished."
    )


def incomplete_note(run: RunRecord | None, root: Path | None, lock_free: bool | None = None) -> str | None:
    """The stderr note of a search on an index whose last run did not finish (``None``: it did).

    Example:
        >>> run = RunRecord("running", 0.0, 60.0, files_total=105, files_done=37, host="elsewhere")
        >>> print(incomplete_note(run, Path("/src/app"), lock_free=True))  # doctest: +ELLIPSIS
        loracode: the index is incomplete: the last `loracode index` run stopped after 37 of 105 files, ...
    """
    if run is None or not run.interrupted(lock_free):
        return None
    command = f"loracode index {_quote(root)}" if root is not None else "loracode index <tree>"
    how = "failed" if run.state == "failed" else "stopped"
    return (
        f"loracode: the index is incomplete: the last `loracode index` run {how} after {run.files_done} of "
        f"{run.files_total} files, at {_utc(run.finished or run.updated)}"
        + (f" ({run.error})" if run.error else "")
        + f". These results come from the files indexed so far. To finish the index, run: {command}"
    )


def _utc(timestamp: float) -> str:
    import time

    return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(timestamp))


def _run_status(args: argparse.Namespace) -> int:
    root = _search_root(args)
    index = _code_index(root, model=None, store=_server_store(args), index_dir=args.index_dir)
    with index:
        status = index.status()
    if args.json:
        print(json.dumps(status.to_dict(), indent=2))
    else:
        print(format_status(status))
    return 0


def format_status(status: IndexStatus) -> str:
    """``loracode status`` as text."""
    size = f"{status.store_bytes / 1e6:.1f} MB" if status.store_bytes is not None else "n/a (server)"
    lines = [f"index: {status.store}" + (f"  (tree {status.root})" if status.root else "")]
    if status.readable:
        lines += [
            f"  files: {status.files}   chunks: {status.chunks}   "
            f"languages: {', '.join(status.languages) or '-'}",
            f"  spaces: {', '.join(status.spaces) or '-'}   per chunk: {', '.join(status.space_kinds)}",
            f"  model: {status.model_fingerprint}   adapters: {', '.join(status.adapters) or 'none'}",
            f"  store size: {size} on disk",
        ]
    else:
        lines.append(f"  contents: not readable now ({status.unreadable_reason})")
    run = status.last_run
    if run is None:
        lines.append("  last run: not recorded (index built before loracode recorded runs)")
    else:
        if status.in_progress:
            lines.append(f"  last run: in progress (pid {run.pid}): {run.describe()}")
        elif status.incomplete:
            lines.append(f"  last run: incomplete, {run.describe()}")
        else:
            lines.append(f"  last run: {run.describe()}")
        if status.incomplete:
            tree = _quote(Path(status.root)) if status.root else "<tree>"
            lines.append(f"  to finish it, run: loracode index {tree}")
    return "\n".join(lines)
