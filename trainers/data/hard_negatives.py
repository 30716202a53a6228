"""Mine hard negatives (and/or consistency-filter) one language's train split into a derived training set.

    python trainers/data/hard_negatives.py --source CORPUS/python --base BASE_DIR \\
        --num-negatives 4 --rank-min 10 --rank-max 100 --margin 0 --consistency-k 0 --dtype bfloat16

writes ``CORPUS/python-hn4r10-100m0/`` (the name says the settings; ``--out`` picks another):
``train-NNNNN.jsonl.gz`` whose records carry ``negatives`` (train with ``num_negatives: N``),
the ``valid`` shards copied unchanged, and ``negatives.json`` (settings, pairs dropped by the
consistency filter, guard rejections, timings and pairs/s, model and data sha256s). ``--adapter
NAME=RUN_DIR`` mines with a trained adapter instead of the base; the consistency filter always uses the
base. ``--num-negatives 0`` with ``--consistency-k K`` writes a filtered copy only (``<lang>-cfK``).
``trainers/gpu/sweep.py negatives`` runs the same step on the prepared GPU corpus.

Example:
    >>> from loracode_embed.training.negatives import MiningSettings
    >>> default_name("python", MiningSettings(num_negatives=4, rank_min=10, rank_max=100), 0, None)
    'python-hn4r10-100m0'
    >>> default_name("go", None, 20, None)
    'go-cf20'
"""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path

from loracode_embed.training.negatives import MiningSettings, build_negatives_set


def default_name(
    language: str, settings: MiningSettings | None, consistency_k: int, adapter: str | None
) -> str:
    """The derived folder's name from the settings: ``<lang>-hn<N>r<min>-<max>m<margin>[k<K>][-a<adapter>]``."""
    name = language
    if settings is not None:
        name += f"-hn{settings.num_negatives}r{settings.rank_min}-{settings.rank_max}m{settings.margin:g}"
        if settings.seed:
            name += f"s{settings.seed}"
        if consistency_k:
            name += f"k{consistency_k}"
    else:
        name += f"-cf{consistency_k}"
    if adapter:
        name += "-a" + adapter.split("=", 1)[0]
    return name


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The step's settings as flags (shared with ``sweep.py negatives``)."""
    defaults = MiningSettings()
    parser.add_argument(
        "--num-negatives", type=int, default=defaults.num_negatives, help="per pair (0: no mining)"
    )
    parser.add_argument("--rank-min", type=int, default=defaults.rank_min, help="window start (1-based rank)")
    parser.add_argument("--rank-max", type=int, default=defaults.rank_max, help="window end (inclusive)")
    parser.add_argument(
        "--margin",
        type=float,
        default=defaults.margin,
        help="drop candidates scoring above the positive by more than this (negative: below it by at least)",
    )
    parser.add_argument(
        "--near-duplicate",
        type=float,
        default=defaults.near_duplicate,
        help="MinHash Jaccard at which a candidate is a near-duplicate of the positive (0: guard off)",
    )
    parser.add_argument(
        "--file-fields",
        default=",".join(defaults.file_fields),
        help="record fields naming a function's file, for the same-file guard (empty: guard off)",
    )
    parser.add_argument("--seed", type=int, default=defaults.seed)
    parser.add_argument(
        "--consistency-k",
        type=int,
        default=0,
        help="keep pairs whose positive is in the top K under the base (0: off)",
    )
    parser.add_argument("--adapter", default=None, help="NAME=DIR: mine with this trained adapter")
    parser.add_argument("--device", default=None, help="cpu, cuda (default: CUDA when present)")
    parser.add_argument("--dtype", default=None, help="float32, float16, bfloat16 (default: float16 on CUDA)")
    parser.add_argument("--batch-size", type=int, default=256, help="texts per forward pass")
    parser.add_argument("--chunk-size", type=int, default=2048, help="query rows per similarity product")
    parser.add_argument("--max-pairs", type=int, default=0, help="read at most this many pairs (trials)")
    parser.add_argument(
        "--workers", type=int, default=0, help="processes for MinHash signatures (0: automatic)"
    )


def settings_from_args(args: argparse.Namespace) -> MiningSettings | None:
    """MiningSettings from the flags; None when ``--num-negatives 0`` (filter only)."""
    if args.num_negatives == 0:
        return None
    fields = tuple(f.strip() for f in args.file_fields.split(",") if f.strip())
    settings = MiningSettings(
        num_negatives=args.num_negatives,
        rank_min=args.rank_min,
        rank_max=args.rank_max,
        margin=args.margin,
        near_duplicate=args.near_duplicate,
        file_fields=fields,
        seed=args.seed,
    )
    settings.validate()
    return settings


def run(args: argparse.Namespace, source: Path, out: Path | None, base: str | None) -> dict:
    """Run the step with the parsed flags; the output folder defaults to :func:`default_name` beside ``source``."""
    settings = settings_from_args(args)
    out = out or source.parent / default_name(source.name, settings, args.consistency_k, args.adapter)
    return build_negatives_set(
        source,
        out,
        settings,
        args.consistency_k,
        base=base,
        adapter=args.adapter,
        device=args.device,
        dtype=args.dtype,
        batch_size=args.batch_size,
        chunk_size=args.chunk_size,
        max_pairs=args.max_pairs,
        workers=args.workers,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, required=True, help="a language folder of train/valid shards")
    parser.add_argument(
        "--out", type=Path, default=None, help="the derived folder (default: named by settings)"
    )
    parser.add_argument("--base", default=None, help="base encoder directory (default: all-MiniLM-L6-v2)")
    add_arguments(parser)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    report = run(args, args.source, args.out, args.base)
    print(json.dumps({k: report[k] for k in ("output", "consistency", "mining", "seconds", "pairs_per_s")}))


if __name__ == "__main__":
    main()
