"""Write the default bundle shipped inside the package: the MiniLM base plus the trained adapters.

Run from the repository root:

    python trainers/build_default_bundle.py                          # base alone
    python trainers/build_default_bundle.py --adapter text2code-python=RUN/adapter ... \\
        --metrics benchmarks/results/training-2026-11-22-minilm-v2/eval.jsonl \\
        --pack benchmarks/results/training-2026-11-22-minilm-v2/pack.json

Each adapter folder holds ``adapter_config.json`` and ``adapter_model.safetensors``, stored here in
float16 (the bundle ships float16; loading computes in the model's dtype), and ``training.json``, the
trainer's record. Its provenance goes into the manifest: data files with sha256, steps, epochs, the
training config, LoRA settings, dev metric, git commit, library versions, plus the packed corpus shards
(``--pack``). ``--metrics`` adds the adapter's rows of a ``sweep.py eval`` results file (label
``NAME@RUN`` or ``NAME``, or the adapter's run folder) as its test metrics. ``--keep-others`` replaces
only the named adapters and keeps the rest of the current bundle.

Only adapters trained by the recipes in ``trainers/`` belong here: never ship untrained adapters.
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
from pathlib import Path
from typing import Any

from loracode_embed import LoRACodeModel
from loracode_embed.loading import DEFAULT_BUNDLE
from loracode_embed.manifest import Manifest

_CONFIG_KEYS = (
    "batch_size",
    "epochs",
    "learning_rate",
    "lora_r",
    "lora_alpha",
    "lora_dropout",
    "target_modules",
    "max_seq_length",
    "warmup_ratio",
    "lr_scheduler",
    "scale",
    "seed",
    "max_eval_pairs",
)


def provenance(folder: Path, pack: dict[str, Any] | None) -> dict[str, Any]:
    """The manifest's provenance for an adapter, from its ``training.json`` (and the packed shards)."""
    record_path = folder / "training.json"
    if not record_path.is_file():
        raise FileNotFoundError(f"{folder} has no training.json: only trained adapters are shipped")
    record = json.loads(record_path.read_text(encoding="utf-8"))
    data = record["data"]

    def files(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [
            {"file": Path(e["path"]).parent.name + "/" + Path(e["path"]).name, "sha256": e["sha256"]}
            for e in entries
        ]

    out: dict[str, Any] = {
        "train_files": files(data["train_files"]),
        "train_pairs": data["train_pairs"],
        "dev_files": files(data["eval_files"]),
        "dev_pairs": data["eval_pairs"],
        "steps": record["steps"],
        "epochs": record["epochs"],
        "config": {k: record["config"][k] for k in _CONFIG_KEYS if k in record["config"]},
        "best_dev_mrr@10": record["best_metric"],
        "precision": record["precision"],
        "seconds": record["seconds"],
        "git": record["git"],
        "versions": record["versions"],
        "base_sha256_trained_on": record["base"]["sha256"],
    }
    negatives = data.get("negatives")
    if negatives:  # trained with mined hard negatives: how they were mined, and from what
        report = negatives["report"]
        out["hard_negatives"] = {
            "settings": report["settings"],
            "consistency_k": report["consistency"]["k"],
            "mined_with": report["model"],
            "source_train_files": [
                {"file": Path(f["path"]).name, "sha256": f["sha256"]} for f in report["source"]["train_files"]
            ],
            "mined_train_files": [
                {"file": f["file"], "sha256": f["sha256"]} for f in report["output"]["train_files"]
            ],
            "pairs_without_negative": report["mining"]["pairs_short"],
            "report_sha256": negatives["sha256"],
        }
    if record.get("init_adapter"):  # a second stage: the adapter it started from
        out["init_adapter"] = record["init_adapter"]
    if pack is not None:
        out["corpus_manifest_sha256"] = pack["corpus_manifest_sha256"]
        out["packed_shards"] = {
            name: info["sha256"]
            for name, info in pack["files"].items()
            if any(name.split("/")[0] in f["file"] for f in out["train_files"])
        }
    return out


def float16_copy(folder: Path, scratch: Path) -> Path:
    """``folder``'s adapter with its weights cast to float16 (as shipped), in ``scratch``."""
    from safetensors.torch import load_file, save_file

    scratch.mkdir(parents=True, exist_ok=True)
    weights = load_file(str(folder / "adapter_model.safetensors"))
    save_file(
        {k: v.half() if v.is_floating_point() else v for k, v in weights.items()},
        str(scratch / "adapter_model.safetensors"),
    )
    shutil.copy(folder / "adapter_config.json", scratch / "adapter_config.json")
    return scratch


def metrics(rows: list[dict[str, Any]], name: str, folder: Path) -> dict[str, Any]:
    """Test metrics of the adapter from evaluation rows: ``label`` NAME or NAME@RUN (``sweep.py eval``),
    or ``run`` the adapter's own folder, as a session's evaluation records it."""
    run = folder.name if folder.name != "adapter" else folder.parent.name
    labels = {name, f"{name}@{run}"}

    def own_run(row: dict[str, Any]) -> bool:
        evaluated = Path(row.get("run") or "")
        return (evaluated.parent.name if evaluated.name == "adapter" else evaluated.name) == run

    return {
        row["preset"]: {k: round(row[k], 4) for k in ("mrr", "ndcg@10", "recall@1", "recall@10")}
        for row in rows
        if row.get("label") in labels or own_run(row)
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--adapter", action="append", default=[], metavar="NAME=DIR", help="an adapter to include"
    )
    parser.add_argument("--metrics", type=Path, help="sweep.py eval results (JSON lines)")
    parser.add_argument("--pack", type=Path, help="pack.json of trainers/gpu/pack_training_data.py")
    parser.add_argument("--out", type=Path, default=DEFAULT_BUNDLE)
    parser.add_argument(
        "--keep-others",
        action="store_true",
        help="adapters not named by --adapter stay as they are in --out (files, provenance, metrics)",
    )
    args = parser.parse_args()
    rows = (
        [json.loads(line) for line in args.metrics.read_text().splitlines() if line.strip()]
        if args.metrics
        else []
    )
    pack = json.loads(args.pack.read_text()) if args.pack else None
    adapters: dict[str, Any] = {}
    named = {item.split("=", 1)[0] for item in args.adapter}
    if args.keep_others:
        for name, entry in Manifest.load(args.out).adapters.items():
            if name not in named:
                adapters[name] = {
                    "path": str(args.out / entry.path),
                    "provenance": entry.provenance,
                    "metrics": entry.metrics,
                }
    scratch = Path(tempfile.mkdtemp(prefix="bundle-fp16-"))
    for item in args.adapter:
        name, folder = item.split("=", 1)
        path = Path(folder)
        adapters[name] = {
            "path": str(float16_copy(path, scratch / name)),
            "provenance": provenance(path, pack),
            "metrics": metrics(rows, name, path),
        }
    model = LoRACodeModel.from_base(None, adapters=adapters, device="cpu")
    model.manifest.description = "Default loracode-embed bundle: all-MiniLM-L6-v2" + (
        f" with code-search LoRA adapters {', '.join(model.adapters)}"
        if model.adapters
        else " (no trained adapters yet)"
    )
    staging = args.out.with_name(args.out.name + ".tmp")
    shutil.rmtree(staging, ignore_errors=True)
    model.save_pretrained(staging)
    shutil.rmtree(args.out, ignore_errors=True)
    staging.rename(args.out)
    shutil.rmtree(scratch, ignore_errors=True)
    print(f"wrote {args.out}: adapters {model.adapters or '(none)'}")


if __name__ == "__main__":
    main()
