"""``loracode eval``: retrieval metrics of a model bundle on a pairs file or a named preset.

Usage::

    loracode eval --pairs FILE.jsonl [--corpus FILE.jsonl] [--model BUNDLE] [--adapter auto|base|NAME]
                  [--task text2code|code2code] [--language L] [--batch-size N] [--json]
    loracode eval --preset cosqa-test [--model BUNDLE] [--adapter base] [--json]

Each query's gold is its own code; the candidates are all codes of the pairs file plus ``--corpus``,
deduplicated by code text. Prints MRR (full ranking), NDCG@10, Recall@1/5/10, the numbers of queries and
candidates and the adapter used per language; ``--json`` prints one JSON object with the keys ``mrr``,
``ndcg@10``, ``recall@1``, ``recall@5``, ``recall@10``, ``n_queries``, ``n_candidates``, ``adapters``
(plus ``set``, ``task`` and, for multi-set presets such as ``csn-cloze``, ``per_set``).
"""

from __future__ import annotations

import argparse
import json
import logging
from typing import Any

from loracode_embed.cli_args import positive_int
from loracode_embed.commands.embed import DTYPE_HELP
from loracode_embed.evaluation.pairs_file import read_pairs_jsonl
from loracode_embed.evaluation.presets import describe, load_preset, preset_names
from loracode_embed.evaluation.records import TASKS, EvalSet
from loracode_embed.languages import canonical_language
from loracode_embed.precision import DTYPES

logger = logging.getLogger(__name__)

#: ``eval --help``: plain text (the module docstring is reStructuredText for the docs).
DESCRIPTION = """\
Retrieval metrics of a model bundle on a pairs file or a named preset.

Each query's gold is its own code; the candidates are all codes of the pairs file plus --corpus,
deduplicated by code text. Prints MRR (full ranking), NDCG@10, Recall@1/5/10, the numbers of queries
and candidates, and the adapter used per language."""
EPILOG = """\
examples:
  loracode eval --pairs FILE.jsonl --corpus MORE.jsonl --language go
  loracode eval --preset cosqa-test --adapter base --json

--json prints one JSON object with the keys mrr, ndcg@10, recall@1, recall@5, recall@10, n_queries,
n_candidates, adapters (plus set, task and, for multi-set presets such as csn-cloze, per_set)."""


def load_model(path: str | None, device: str | None = None, dtype: str | None = None) -> Any:
    """The model to evaluate: ``LoRACodeModel.from_pretrained(path)`` (``None`` = the default bundle)."""
    from loracode_embed import LoRACodeModel  # imported here: torch loads only when a command needs it

    return LoRACodeModel.from_pretrained(path, device=device, dtype=dtype)


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``eval`` subcommand."""
    p = subparsers.add_parser(
        "eval",
        help="retrieval metrics (MRR, NDCG@10, Recall@k) on a pairs file or a named preset",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--pairs", metavar="FILE.jsonl", help="JSON lines with query, code, language (and id)")
    src.add_argument("--preset", metavar="NAME", help="a named set: " + ", ".join(preset_names()))
    p.add_argument("--corpus", metavar="FILE.jsonl", help="extra candidates (code, language) for --pairs")
    p.add_argument(
        "--model", metavar="BUNDLE", default=None, help="model bundle directory (default: built-in)"
    )
    p.add_argument(
        "--adapter", default="auto", help="auto (route as the model would), base, or an adapter name"
    )
    p.add_argument(
        "--task", choices=TASKS, default=None, help="default: the set's task (text2code for --pairs)"
    )
    p.add_argument("--language", metavar="L", default=None, help="evaluate only pairs of this code language")
    p.add_argument(
        "--batch-size", type=positive_int, default=64, metavar="N", help="encoding batch size (default 64)"
    )
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument(
        "--limit",
        type=int,
        default=None,
        metavar="N",
        help="first N queries only: quick checks, not reported numbers",
    )
    p.add_argument(
        "--data-dir",
        default=None,
        help="shared data directory (default $LORACODE_DATA_DIR, else ../shared/data)",
    )
    p.add_argument(
        "--corpus-dir",
        default=None,
        help="mined corpus directory for mined-*/code2code-anon-* presets (default $LORACODE_CORPUS)",
    )
    p.add_argument("--device", default=None, help="torch device, e.g. cpu or cuda")
    p.add_argument("--dtype", choices=DTYPES, default=None, help=DTYPE_HELP)
    p.add_argument(
        "--cache-dir",
        default=None,
        help="keep candidate vectors here (keyed by model fingerprint) for later runs",
    )
    p.set_defaults(func=run)


def _sets_from_args(args: argparse.Namespace, language: str | None) -> list[EvalSet]:
    if args.preset:
        if args.corpus:
            raise ValueError("--corpus goes with --pairs; a preset brings its own candidates")
        sets = load_preset(args.preset, data_dir=args.data_dir, corpus_dir=args.corpus_dir)
    else:
        pairs = read_pairs_jsonl(args.pairs, default_language=language)
        if not pairs:
            raise ValueError(f"--pairs file {args.pairs} has no pairs")
        corpus = (
            read_pairs_jsonl(args.corpus, default_language=language, require_query=False)
            if args.corpus
            else None
        )
        sets = [EvalSet(str(args.pairs), pairs, list(corpus) if corpus else None, args.task or "text2code")]
    if language is not None:
        sets = [s.filter_language(language) for s in sets]
        sets = [s for s in sets if s.pairs]
        if not sets:
            raise ValueError(f"--language {language}: no pairs of that language in the evaluation set")
    if args.limit is not None:
        sets = [s.limit(args.limit) for s in sets]
    return sets


def _format(result: dict[str, Any]) -> str:
    from loracode_embed.evaluation.runner import METRIC_KEYS

    metrics = "  ".join(f"{k.upper().replace('RECALL@', 'R@')} {result[k]:.4f}" for k in METRIC_KEYS)
    adapters = ", ".join(f"{lang}={name}" for lang, name in result["adapters"].items())
    return (
        f"{result['set']} ({result['task']}): "
        f"{result['n_queries']} queries, {result['n_candidates']} candidates\n"
        f"  {metrics}\n  adapters: {adapters}"
    )


def run(args: argparse.Namespace) -> int:
    """Evaluate and print the metrics; returns the exit status."""
    from loracode_embed.evaluation.runner import combine, evaluate  # numpy: only when evaluating

    if args.batch_size < 1:
        raise ValueError(f"--batch-size must be >= 1, got {args.batch_size}")
    if args.limit is not None and args.limit < 1:
        raise ValueError(f"--limit must be >= 1, got {args.limit}")
    language = canonical_language(args.language) if args.language else None
    sets = _sets_from_args(args, language)
    for s in sets:
        logger.info("%s", describe(s))
    model = load_model(args.model, args.device, args.dtype)
    results = [
        evaluate(
            model,
            s,
            adapter=args.adapter,
            task=args.task,
            batch_size=args.batch_size,
            cache_dir=args.cache_dir,
        )
        for s in sets
    ]
    name = args.preset or str(args.pairs)
    result = combine(results, name)
    if args.limit is not None:
        result["limit"] = args.limit
    if args.json:
        print(json.dumps(result, sort_keys=False))
        return 0
    if len(results) > 1:
        for r in results:
            print(_format(r))
        print("pooled (micro-average over queries):")
    print(_format(result))
    if args.limit is not None:
        print(f"  (--limit {args.limit}: quick check, not for reported numbers)")
    return 0
