"""``loracode mine``: extract (doc comment, function) pairs from source trees into a sharded corpus."""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path

logger = logging.getLogger(__name__)


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``mine`` subcommand."""
    p = subparsers.add_parser(
        "mine",
        help="mine (doc comment, function) pairs from source trees into jsonl.gz shards",
        description="Each SOURCE directory is one package (split unit). "
        "Needs pip install 'loracode-embed[mine]'.",
    )
    p.add_argument("sources", nargs="+", type=Path, metavar="SOURCE", help="package source directories")
    p.add_argument("--out", type=Path, required=True, help="output directory for shards and stats.json")
    p.add_argument("--version-label", default="", help="version recorded in each pair's provenance")
    p.add_argument("--languages", default=None, help="comma-separated languages to mine (default: all)")
    p.add_argument("--workers", type=int, default=2, help="worker processes (default 2)")
    p.add_argument("--timeout", type=float, default=5.0, help="per-file parse time limit in seconds")
    p.add_argument(
        "--near-threshold",
        type=float,
        default=0.8,
        help="MinHash Jaccard threshold for near-duplicates (0 disables)",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from loracode_embed.mining.corpus import build_corpus
    from loracode_embed.mining.extract import MINED_LANGUAGES, get_parser
    from loracode_embed.mining.runner import iter_tasks, mine_tree

    languages = None
    if args.languages:
        languages = [x.strip() for x in args.languages.split(",") if x.strip()]
        bad = [x for x in languages if x not in MINED_LANGUAGES]
        if bad:
            raise ValueError(f"--languages: unknown {bad}; choose from {', '.join(MINED_LANGUAGES)}")
    for lang in languages or ["python"]:
        get_parser(lang)  # fail early with the install hint if the grammars are missing
    for src in args.sources:
        if not src.is_dir():
            raise FileNotFoundError(f"SOURCE {str(src)!r} is not a directory")

    def tasks():
        for src in args.sources:
            yield from iter_tasks(src, src.resolve().name, args.version_label, languages=languages)

    pairs, stats = mine_tree(tasks(), workers=args.workers, timeout_s=args.timeout)
    corpus = build_corpus(pairs, args.out, near_threshold=args.near_threshold or None)
    report = {"mining": stats.as_dict(), "corpus": corpus}
    (args.out / "stats.json").write_text(json.dumps(report, indent=1))
    print(
        json.dumps(
            {"mining": stats.as_dict(), "splits": {k: v["splits"] for k, v in corpus["languages"].items()}},
            indent=1,
        )
    )
    return 0
