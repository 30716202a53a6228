"""Train and evaluate the shipped MiniLM adapters on a GPU machine, several runs side by side.

The GPU machine has torch, transformers, sentence-transformers and peft; ``trainers/gpu/run_training.sh``
explains what is carried. This script is the adapter recipe as it ran there:

    python trainers/gpu/sweep.py prepare --pack carry/pack --out /tmp/corpus      # unpack, derive sets
    python trainers/gpu/sweep.py negatives DATA [--num-negatives N ...]          # derived set with negatives
    python trainers/gpu/sweep.py train JOB [JOB ...]                             # one process per stream
    python trainers/gpu/sweep.py eval --adapter NAME=RUN_DIR --preset P [...]    # loracode eval presets

A JOB is ``ADAPTER:DATA:LR:EPOCHS:MODULES``: ``DATA`` a folder under the prepared corpus (a language,
``python-web``, ``unified`` or ``code2code``), ``MODULES`` ``qv`` (query/value, the paper's choice) or
``all`` (every Linear of the encoder layers). Each run writes ``$RUNS/<ADAPTER>__<DATA>__<LR>__<EPOCHS>__<MODULES>/``
(``adapter/``, ``training.json``) and appends a line to ``$RUNS/summary.jsonl``. The trainer picks the
best checkpoint of a run on the dev split (``valid``), never on a test set.

Derived training sets (``prepare``):

* ``python-web``: the Python pairs, half rewritten to web-query style against code that keeps its
  docstring, plus StaQC train positives (``trainers/data/docstring_augment.py``);
* ``python-webq``: the same with the query rewritten only (the code stays without docstring);
* ``python-names<P>``: P % of the Python pairs rewritten to (function-name words -> function with its
  docstring restored and its name hidden) (``trainers/data/name_queries.py``, ``--names P``);
  ``python-names<P>-staqc`` adds the StaQC train positives;
* ``unified``: a random sample of N train pairs per language (``--unified-per-language``); its dev set
  is up to 500 valid pairs per language.

Hard negatives (``negatives``, one command per language; ``trainers/data/hard_negatives.py`` is the
same step): ``negatives python --num-negatives 4 --rank-min 10 --rank-max 100 --margin 0
--consistency-k 0`` writes ``python-hn4r10-100m0/`` under the corpus (train shards whose records carry
``negatives``, the valid shards copied, ``negatives.json`` with counts and timings) and appends its
summary to ``$RUNS/negatives.jsonl``. A ``train`` job on such a folder trains with its negatives
(``--negatives`` overrides the count, 0 turns them off); ``--mini-batch M`` switches to the cached loss
(GradCache) for large ``--batch-size``, ``--curriculum B`` orders batches easy to hard in B buckets,
``--tag T`` keeps runs of one job with other options apart (``<run dir>__T``).
"""

from __future__ import annotations

import argparse
import json
import lzma
import os
import random
import shutil
import subprocess
import sys
import time
from pathlib import Path

from loracode_embed.jsonl import iter_objects

RUNS = Path(os.environ.get("RUNS_DIR", "/tmp/runs"))
CORPUS = Path(os.environ.get("CORPUS_DIR", "/tmp/corpus"))
BASE = os.environ.get("BASE_DIR", "/tmp/base")
LANGUAGES = ("python", "go", "java", "javascript", "php", "ruby")
MODULES = {
    "qv": ["query", "value"],
    "all": ["query", "key", "value", "output.dense", "intermediate.dense"],
}


def _read(path: Path) -> list[dict]:
    return [record for _, record in iter_objects(path)]


def _write(path: Path, rows: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")


def _derive_python_set(out: Path, name: str, script: str, options: list[str]) -> None:
    """``out/<name>``: the Python train pairs rewritten by ``trainers/data/<script>``, and the Python valid split."""
    subprocess.run(
        [sys.executable, f"trainers/data/{script}", "--input", str(out / "python" / "train-00000.jsonl"),
         "--output", str(out / name / "train-00000.jsonl.gz"), "--seed", "0", *options],
        check=True,
    )  # fmt: skip
    shutil.copy(out / "python" / "valid-00000.jsonl.gz", out / name / "valid-00000.jsonl.gz")


def cmd_prepare(args: argparse.Namespace) -> None:
    out = Path(args.out)
    for packed in sorted(Path(args.pack).glob("*/*")):
        target = out / packed.parent.name / packed.name
        target.parent.mkdir(parents=True, exist_ok=True)
        if packed.suffix == ".xz":
            target.with_suffix("").write_bytes(lzma.decompress(packed.read_bytes()))
        else:
            shutil.copy(packed, target)
    python_train = out / "python" / "train-00000.jsonl"
    if python_train.exists() and args.staqc and not args.skip_web:
        _derive_python_set(out, "python-webq", "docstring_augment.py",
                           ["--fraction", "0.5", "--staqc", args.staqc, "--query-only"])  # fmt: skip
    for percent in args.names:
        name = f"python-names{percent}"
        _derive_python_set(out, name, "name_queries.py", ["--fraction", str(percent / 100)])
        if args.staqc:
            sys.path.insert(0, "trainers/data")
            from docstring_augment import staqc_pairs

            rows = _read(out / name / "train-00000.jsonl.gz") + staqc_pairs(Path(args.staqc))
            random.Random(3).shuffle(rows)
            _write(out / f"{name}-staqc" / "train-00000.jsonl", rows)
            shutil.copy(
                out / "python" / "valid-00000.jsonl.gz", out / f"{name}-staqc" / "valid-00000.jsonl.gz"
            )
    if args.unified_per_language:
        train, valid = [], []
        for language in LANGUAGES:
            rows = _read(next((out / language).glob("train-00000.jsonl*")))
            rng = random.Random(1)
            train += [
                rows[i]
                for i in sorted(rng.sample(range(len(rows)), min(args.unified_per_language, len(rows))))
            ]
            valid += _read(out / language / "valid-00000.jsonl.gz")[:500]
        random.Random(2).shuffle(train)
        _write(out / "unified" / "train-00000.jsonl", train)
        _write(out / "unified" / "valid-00000.jsonl", valid)
    for folder in sorted(p for p in out.iterdir() if p.is_dir()):
        print(
            folder.name,
            {f.name: len(_read(f)) for f in sorted(folder.glob("*.jsonl*"))},
            flush=True,
        )


def run_dir(spec: str, tag: str = "") -> Path:
    return RUNS / (spec.replace(":", "__") + (f"__{tag}" if tag else ""))


def _hard_negatives_step():  # trainers/data/hard_negatives.py, a script beside the other data steps
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "data"))
    import hard_negatives

    return hard_negatives


def cmd_negatives(args: argparse.Namespace) -> None:
    step = _hard_negatives_step()
    source = CORPUS / args.data
    out = CORPUS / args.name if args.name else None
    started = time.time()
    report = step.run(args, source, out, BASE)
    line = {
        "data": args.data,
        "out": Path(report["output"]["folder"]).name,
        "pairs_in": report["source"]["pairs"],
        "pairs_out": report["output"]["pairs"],
        "consistency": report["consistency"],
        "mining": report["mining"],
        "settings": report["settings"],
        "seconds": report["seconds"],
        "pairs_per_s": report["pairs_per_s"],
        "wall": round(time.time() - started, 1),
    }
    print("NEGATIVES " + json.dumps(line), flush=True)
    RUNS.mkdir(parents=True, exist_ok=True)
    with open(RUNS / "negatives.jsonl", "a") as fh:
        fh.write(json.dumps(line) + "\n")


def _mined_negatives(folder: Path) -> int:
    """Negatives per pair the folder was mined with (its negatives.json), 0 for a plain folder."""
    report = folder / "negatives.json"
    if not report.is_file():
        return 0
    settings = json.loads(report.read_text())["settings"]
    return int(settings["num_negatives"]) if settings else 0


def cmd_train(args: argparse.Namespace) -> None:
    from loracode_embed.training import TrainConfig, train

    RUNS.mkdir(parents=True, exist_ok=True)
    for spec in args.jobs:
        adapter, data, lr, epochs, modules = spec.split(":")
        task = "code2code" if adapter == "code2code" else "text2code"
        folder = CORPUS / data
        train_files = [str(p) for p in sorted(folder.glob("train-*.jsonl*"))]
        eval_files = [str(next(folder.glob("valid-00000.jsonl*")))]
        pairs = sum(len(_read(Path(f))) for f in train_files)
        steps = int(pairs // args.batch_size * float(epochs))
        negatives = _mined_negatives(folder) if args.negatives is None else args.negatives
        report = folder / "negatives.json"
        out = run_dir(spec, args.tag)
        config = TrainConfig(
            name=adapter,
            task=task,
            base=BASE,
            output_dir=str(out),
            train_files=train_files,
            eval_files=eval_files,
            max_eval_pairs=3000,
            max_seq_length=args.max_seq_length,
            lora_r=args.rank,
            lora_alpha=2 * args.rank,
            lora_dropout=0.1,
            target_modules=MODULES[modules],
            batch_size=args.batch_size,
            mini_batch_size=args.mini_batch,
            num_negatives=negatives,
            negatives_report=str(report) if report.is_file() else "",
            curriculum_buckets=args.curriculum,
            init_adapter=args.init_adapter,
            learning_rate=float(lr),
            warmup_ratio=0.05,
            epochs=float(epochs),
            eval_steps=max(1, steps // args.evals),
            logging_steps=max(1, min(50, steps // 20)),
            seed=42,
            save_total_limit=2,
            dataloader_num_workers=args.workers,
        )
        started = time.time()
        print(f"=== {spec} {args.tag}: {pairs} pairs, {negatives} negatives each, ~{steps} steps", flush=True)
        try:
            train(config)
        except Exception as exc:  # keep the other jobs of this stream going
            print(f"FAIL {spec}: {type(exc).__name__}: {exc}", flush=True)
            continue
        record = json.loads((out / "training.json").read_text())
        line = {
            "spec": spec,
            "adapter": adapter,
            "data": data,
            "lr": float(lr),
            "epochs": float(epochs),
            "modules": modules,
            "tag": args.tag,
            "negatives": negatives,
            "mini_batch": args.mini_batch,
            "curriculum": args.curriculum,
            "init_adapter": args.init_adapter,
            "candidates_per_anchor": [r["candidates_per_anchor"] for r in record["ranks"]],
            "pairs": record["data"]["train_pairs"],
            "steps": record["steps"],
            "seconds": record["seconds"],
            "pairs_per_s": round(record["steps"] * args.batch_size / max(record["seconds"], 1e-9), 1),
            "wall": round(time.time() - started, 1),
            "best_metric": record["best_metric"],
            "dev_curve": [round(e.get("eval_dev_cosine_mrr@10", 0.0), 4) for e in record["evaluations"]],
        }
        print("RESULT " + json.dumps(line), flush=True)
        with open(RUNS / "summary.jsonl", "a") as fh:
            fh.write(json.dumps(line) + "\n")


def scaled_adapter(directory: Path, scale: float, scratch: Path) -> Path:
    """``directory`` itself for scale 1, else a copy whose LoRA term is ``scale`` times the trained one.

    Scaling the LoRA term moves the adapter along the straight line from the base (0) to the trained
    adapter (1): weight-space interpolation, as in WiSE-FT. Only ``lora_alpha`` changes (PEFT's scaling is
    alpha / r), so the copy is an ordinary adapter directory.
    """
    if scale == 1.0:
        return directory
    target = scratch / f"{directory.parent.name}-x{scale:g}"
    shutil.copytree(directory, target, dirs_exist_ok=True)
    config = json.loads((directory / "adapter_config.json").read_text())
    config["lora_alpha"] = config["lora_alpha"] * scale
    (target / "adapter_config.json").write_text(json.dumps(config, indent=2))
    return target


def cmd_eval(args: argparse.Namespace) -> None:
    import tempfile

    from loracode_embed import LoRACodeModel
    from loracode_embed.evaluation.presets import load_preset
    from loracode_embed.evaluation.runner import combine, evaluate

    out = open(args.out, "a")
    scratch = Path(tempfile.mkdtemp(prefix="scaled-"))
    items = [(item, scale) for item in args.adapter for scale in (args.scale or [1.0])]
    for item, scale in items:
        label, directory = item.split("=", 1)
        name = label.split("@")[0]
        if name == "base" and scale != 1.0:
            continue
        adapter_dir = (
            Path(directory)
            if (Path(directory) / "adapter_config.json").exists()
            else Path(directory) / "adapter"
        )
        adapters = {} if name == "base" else {name: str(scaled_adapter(adapter_dir, scale, scratch))}
        if scale != 1.0:
            label = f"{label}*{scale:g}"
        model = LoRACodeModel.from_base(BASE, adapters=adapters, device=args.device, dtype="float32")
        for preset in args.preset:
            started = time.time()
            sets = load_preset(preset, data_dir=args.data_dir, corpus_dir=args.corpus_dir)
            result = combine(
                [
                    evaluate(model, s, adapter="base" if name == "base" else name, batch_size=256)
                    for s in sets
                ],
                preset,
            )
            result.update(
                preset=preset,
                label=label,
                run=directory,
                scale=scale,
                seconds=round(time.time() - started, 1),
            )
            out.write(json.dumps(result) + "\n")
            out.flush()
            print(
                f"EVAL {label:40} {preset:28} MRR {result['mrr']:.4f} NDCG@10 {result['ndcg@10']:.4f} "
                f"R@1 {result['recall@1']:.4f} R@10 {result['recall@10']:.4f}",
                flush=True,
            )
        del model


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    prepare = sub.add_parser("prepare")
    prepare.add_argument("--pack", required=True)
    prepare.add_argument("--out", default=str(CORPUS))
    prepare.add_argument("--staqc", help="StaQC train file (for python-web and python-names<P>-staqc)")
    prepare.add_argument(
        "--names", type=int, action="append", default=[], help="build python-names<P>: P %% rewritten"
    )
    prepare.add_argument("--skip-web", action="store_true", help="do not build python-webq")
    prepare.add_argument(
        "--unified-per-language",
        type=int,
        default=0,
        help="build the unified set: N train pairs per language",
    )
    train = sub.add_parser("train")
    train.add_argument("jobs", nargs="+")
    train.add_argument("--batch-size", type=int, default=256)
    train.add_argument("--rank", type=int, default=16)
    train.add_argument("--max-seq-length", type=int, default=256)
    train.add_argument("--evals", type=int, default=4, help="dev evaluations per run")
    train.add_argument("--workers", type=int, default=-1)
    train.add_argument(
        "--mini-batch", type=int, default=0, help="cached loss (GradCache) with this many texts per pass"
    )
    train.add_argument(
        "--negatives",
        type=int,
        default=None,
        help="hard negatives per pair (default: as the folder was mined)",
    )
    train.add_argument("--curriculum", type=int, default=0, help="easy-to-hard buckets (0: off)")
    train.add_argument("--tag", default="", help="suffix of the run directory")
    train.add_argument(
        "--init-adapter", default="", help="start from this trained adapter's weights (a second stage)"
    )
    negatives = sub.add_parser("negatives", help="mine hard negatives / consistency-filter one folder")
    negatives.add_argument("data", help="a folder under the prepared corpus, e.g. python")
    negatives.add_argument("--name", default="", help="the derived folder (default: named by the settings)")
    _hard_negatives_step().add_arguments(negatives)
    evaluate = sub.add_parser("eval")
    evaluate.add_argument(
        "--adapter", action="append", required=True, help="NAME[@TAG]=RUN_DIR (NAME base: none)"
    )
    evaluate.add_argument("--preset", action="append", required=True)
    evaluate.add_argument(
        "--scale", type=float, action="append", help="LoRA scale(s) to evaluate each adapter at (default 1)"
    )
    evaluate.add_argument("--data-dir", default="/tmp/shared")
    evaluate.add_argument("--corpus-dir", default="/tmp/evalcorpus")
    evaluate.add_argument("--out", default=str(RUNS / "eval.jsonl"))
    evaluate.add_argument("--device", default="cuda")
    args = parser.parse_args()
    commands = {"prepare": cmd_prepare, "negatives": cmd_negatives, "train": cmd_train, "eval": cmd_eval}
    commands[args.command](args)


if __name__ == "__main__":
    main()
