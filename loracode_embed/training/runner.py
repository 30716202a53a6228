"""Train one LoRA adapter from a :class:`TrainConfig`: data -> model + LoRA -> trainer -> adapter dir.

Steps, top to bottom (:func:`train` runs them all):

1. resolve the base encoder and load it as a SentenceTransformer ending in ``Normalize`` (the same
   pipeline ``LoRACodeModel`` serves), with attention through SDPA;
2. add a PEFT LoRA adapter on the architecture's query/value projections;
3. read the training rows (anchor, positive and ``num_negatives`` hard negatives) and the dev pairs;
4. build the guarded contrastive loss, the dev retrieval evaluator and ``LoRACodeTrainer`` (atomic
   checkpoints, duplicate-free length-grouped batches);
5. train, resuming from the latest checkpoint with ``resume: auto``;
6. write ``<output_dir>/adapter/`` (a PEFT adapter directory that ``LoRACodeModel.from_base``
   accepts) and ``<output_dir>/training.json`` (provenance: config, data sha256s, the hard-negative
   step's report, steps, metrics, git commit, versions, devices).

Example (a real training run: minutes on a GPU, so not run as a doctest; tests/test_training.py
runs the same entry point on the tiny model)::

    from loracode_embed.training import TrainConfig, train
    adapter_dir = train(TrainConfig.from_yaml("trainers/configs/minilm-text2code-python.yaml"))
"""

from __future__ import annotations

import json
import logging
import os
import platform
import shutil
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from loracode_embed.loading import base_ref_for, check_no_code, resolve_base, weights_file
from loracode_embed.manifest import ADAPTER_CONFIG
from loracode_embed.training._deps import require
from loracode_embed.training.config import TrainConfig, default_target_modules

logger = logging.getLogger(__name__)

CHECKPOINTS = "checkpoints"
ADAPTER_DIR = "adapter"
PROVENANCE = "training.json"


@dataclass
class TrainingRun:
    """Everything :func:`build_trainer` assembled; :func:`run_training` trains it and writes the outputs."""

    config: TrainConfig
    trainer: Any
    model: Any
    loss: Any
    base_path: Path
    target_modules: list[str]
    train_files: list[Path]
    eval_files: list[Path]
    num_train_pairs: int
    num_eval_pairs: int
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def output_dir(self) -> Path:
        return self.config.resolved_output_dir

    @property
    def checkpoints_dir(self) -> Path:
        return self.output_dir / CHECKPOINTS


def resolve_device(config: TrainConfig) -> str:
    torch = require("torch")
    if config.device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if config.device == "cuda" and not torch.cuda.is_available():
        raise RuntimeError("device: cuda was asked for, but torch sees no CUDA device")
    return config.device


def resolve_precision(config: TrainConfig, device: str) -> str:
    torch = require("torch")
    if config.precision == "auto":
        return "bf16" if device == "cuda" and torch.cuda.is_bf16_supported() else "fp32"
    if config.precision in ("bf16", "fp16") and device == "cpu":
        raise ValueError(f"precision: {config.precision} needs a GPU; use fp32 (or auto) on the CPU")
    return config.precision


def resolve_num_workers(config: TrainConfig, device: str) -> int:
    """Dataloader workers: the config's number, or with -1 up to 8 per process on a GPU, 0 on the CPU.

    The collator tokenises every batch; on a GPU one process doing that alone is the bottleneck
    (MiniLM trained at about 600 pairs/s with no workers on an H100), so workers tokenise ahead.
    """
    if config.dataloader_num_workers >= 0:
        return config.dataloader_num_workers
    if device != "cuda":
        return 0
    processes = max(1, int(os.environ.get("LOCAL_WORLD_SIZE", "1")))
    return max(0, min(8, (os.cpu_count() or 1) // processes - 1))


def _data_files(config: TrainConfig) -> tuple[list[Path], list[Path]]:
    from loracode_embed.training.data import expand_files, find_shards

    if config.train_files:
        train_files = expand_files(config.train_files)
    elif config.data_dir:
        train_files = find_shards(config.data_dir, config.languages, config.train_split)
    else:
        raise ValueError("no training data: set train_files or data_dir in the config")
    if config.eval_files:
        eval_files = expand_files(config.eval_files)
    elif config.data_dir and not config.train_files:
        try:
            eval_files = find_shards(config.data_dir, config.languages, config.eval_split)
        except FileNotFoundError:
            logger.warning(
                "No %s shards under %s: training without dev evaluation", config.eval_split, config.data_dir
            )
            eval_files = []
    else:
        eval_files = []
    return train_files, eval_files


def load_model(config: TrainConfig, device: str, precision: str = "fp32") -> tuple[Any, Path, list[str]]:
    """The SentenceTransformer with a LoRA adapter, its base path and the LoRA target modules.

    The adapter is fresh, or starts from ``init_adapter``'s weights.

    The frozen base is stored in bf16 when ``base_dtype`` says so (or ``auto`` with bf16 training on a
    GPU): its matmuls run in bf16 under autocast either way, and bf16 storage halves weight traffic.
    The LoRA weights are always fp32, so the optimizer never updates bf16 numbers.
    """
    torch = require("torch")
    st = require("sentence_transformers")
    peft = require("peft")
    transformers = require("transformers")
    models = require("sentence_transformers.models")

    base_path = resolve_base(base_ref_for(config.base))
    check_no_code(base_path, trust_remote_code=False)
    weights_file(base_path)  # safetensors only: refuses pickle-only directories
    transformers.set_seed(config.seed)
    bf16_base = config.base_dtype == "bf16" or (
        config.base_dtype == "auto" and device == "cuda" and precision == "bf16"
    )
    if bf16_base and precision != "bf16":
        raise ValueError(f"base_dtype: bf16 needs bf16 training (precision resolved to {precision!r})")
    dtype_key = "dtype" if int(transformers.__version__.split(".")[0]) >= 5 else "torch_dtype"
    config_kwargs = {}
    if config.base_dropout is not None:
        config_kwargs = {
            "hidden_dropout_prob": config.base_dropout,
            "attention_probs_dropout_prob": config.base_dropout,
        }
    model = st.SentenceTransformer(
        str(base_path),
        device=device,
        model_kwargs={
            "use_safetensors": True,
            "attn_implementation": config.attn_implementation,
            # a float16 copy of the base (as carried to GPU machines) must not train in float16
            dtype_key: torch.bfloat16 if bf16_base else torch.float32,
        },
        config_kwargs=config_kwargs,
    )
    if not isinstance(model[len(model) - 1], models.Normalize):
        model.append(models.Normalize())
    model.max_seq_length = config.max_seq_length
    model_type = model[0].auto_model.config.model_type
    targets = list(config.target_modules) or default_target_modules(model_type)
    lora = peft.LoraConfig(
        r=config.lora_r,
        lora_alpha=config.lora_alpha,
        lora_dropout=config.lora_dropout,
        target_modules=targets,
        bias="none",
    )
    try:
        # PEFT's own wrapper, not transformers' add_adapter: the latter's version gate can demand a peft
        # that is not published (transformers 5.24+ asks for peft >= 0.22). Saving a PeftModel writes
        # the adapter files alone, as before; checkpoints load back in LoRACodeTrainer._load_from_checkpoint.
        model[0].model = peft.get_peft_model(model[0].model, lora)
    except ValueError as exc:  # target modules not found in the model
        raise ValueError(
            f"target_modules={targets} do not fit {model_type} model {base_path}: {exc}"
        ) from exc
    if config.init_adapter:
        from loracode_embed.training.init_adapter import load_init_adapter

        load_init_adapter(model[0].model, config.init_adapter, config.lora_r, config.lora_alpha, targets)
    for param in model.parameters():
        if param.requires_grad and param.dtype != torch.float32:
            param.data = param.data.float()
    from loracode_embed.training.fused_lora import use_fused_lora
    from loracode_embed.training.norms import keep_layer_norms_in_weight_dtype

    if bf16_base:
        # autocast would run LayerNorms in fp32 and make the whole residual stream fp32
        keep_layer_norms_in_weight_dtype(model)
    if config.fused_lora:
        use_fused_lora(model)
    return model, base_path, targets


def build_trainer(config: TrainConfig, callbacks: Sequence[Any] = ()) -> TrainingRun:
    """Assemble model, data, loss, evaluator and trainer for ``config`` without training yet."""
    config.validate()
    st = require("sentence_transformers")
    require("datasets")
    require("accelerate")
    from loracode_embed.training.callbacks import CandidateLogCallback, FiniteLossCallback
    from loracode_embed.training.checkpoint import trainer_class
    from loracode_embed.training.data import HARDNESS_FIELD, read_pairs, read_rows, to_dataset
    from loracode_embed.training.evaluation import EVALUATOR_NAME, build_evaluator
    from loracode_embed.training.loss import build_loss

    device = resolve_device(config)
    precision = resolve_precision(config, device)
    train_files, eval_files = _data_files(config)
    curriculum = config.curriculum_buckets > 1
    train_read = read_rows(
        train_files,
        config.anchor_field,
        config.positive_field,
        config.max_train_pairs,
        negatives_field=config.negatives_field,
        num_negatives=config.num_negatives,
        hardness_field=HARDNESS_FIELD if curriculum else None,
    )
    train_pairs = train_read.rows
    if len(train_pairs) < config.batch_size:
        raise ValueError(
            f"only {len(train_pairs)} training pairs in {[os.fspath(p) for p in train_files]}; "
            f"need at least batch_size={config.batch_size}"
        )
    eval_pairs = (
        read_pairs(eval_files, config.anchor_field, config.positive_field, config.max_eval_pairs)
        if eval_files
        else []
    )
    model, base_path, targets = load_model(config, device, precision)
    loss = build_loss(model, config.scale, config.mini_batch_size, config.gather_across_devices)
    evaluator = build_evaluator(eval_pairs, batch_size=config.batch_size) if eval_pairs else None

    checkpoints = config.resolved_output_dir / CHECKPOINTS
    save_steps = config.save_steps or config.eval_steps
    keep_best = bool(config.load_best_model_at_end and evaluator is not None)
    args = st.SentenceTransformerTrainingArguments(
        **_version_dependent_args(st.SentenceTransformerTrainingArguments, config),
        output_dir=os.fspath(checkpoints),
        num_train_epochs=config.epochs,
        max_steps=config.max_steps if config.max_steps > 0 else -1,
        per_device_train_batch_size=config.batch_size,
        per_device_eval_batch_size=config.batch_size,
        learning_rate=config.learning_rate,
        weight_decay=config.weight_decay,
        lr_scheduler_type=config.lr_scheduler,
        max_grad_norm=config.max_grad_norm if config.max_grad_norm > 0 else 0.0,
        seed=config.seed,
        bf16=precision == "bf16",
        fp16=precision == "fp16",
        use_cpu=device == "cpu",
        ddp_backend="gloo" if device == "cpu" and int(os.environ.get("WORLD_SIZE", "1")) > 1 else None,
        ddp_find_unused_parameters=False,
        eval_strategy="steps" if evaluator is not None else "no",
        eval_steps=config.eval_steps,
        save_strategy="steps",
        save_steps=save_steps,
        save_total_limit=config.save_total_limit,
        load_best_model_at_end=keep_best,
        metric_for_best_model=f"eval_{EVALUATOR_NAME}_{config.metric_for_best_model}" if keep_best else None,
        greater_is_better=True,
        logging_steps=config.logging_steps,
        logging_nan_inf_filter=False,  # a NaN must show, never be averaged away
        report_to="none",
        dataloader_drop_last=True,  # equal batch sizes on every device for the all-gather
        dataloader_num_workers=resolve_num_workers(config, device),
        torch_compile=config.torch_compile,
        disable_tqdm=not sys.stderr.isatty(),
    )
    trainer_cls = trainer_class()
    trainer = trainer_cls(
        model=model,
        args=args,
        train_dataset=to_dataset(train_pairs),
        loss=loss,
        evaluator=evaluator,
        callbacks=[FiniteLossCallback(loss), CandidateLogCallback(loss), *callbacks],
        group_by_length=config.group_by_length,
        length_group_factor=config.length_group_factor,
        difficulty=train_read.hardness if curriculum else None,
        curriculum_buckets=config.curriculum_buckets,
    )
    return TrainingRun(
        config=config,
        trainer=trainer,
        model=model,
        loss=loss,
        base_path=base_path,
        target_modules=targets,
        train_files=train_files,
        eval_files=eval_files,
        num_train_pairs=len(train_pairs),
        num_eval_pairs=len(eval_pairs),
        extra={
            "device": device,
            "precision": precision,
            "skipped_empty": train_read.skipped_empty,
            "skipped_short_negatives": train_read.skipped_short,
            "negatives_report": _negatives_report(config, train_files),
        },
    )


def _negatives_report(config: TrainConfig, train_files: Sequence[Path]) -> Path | None:
    """The hard-negative step's report for provenance: the configured one, else one beside the data."""
    from loracode_embed.training.negatives.step import REPORT

    if config.negatives_report:
        path = Path(config.negatives_report)
        if not path.is_file():
            raise FileNotFoundError(f"negatives_report={config.negatives_report!r} is not a file")
        return path
    beside = Path(train_files[0]).parent / REPORT if train_files else None
    return beside if beside is not None and beside.is_file() else None


def _version_dependent_args(args_cls: type, config: TrainConfig) -> dict[str, Any]:
    # transformers 5 takes a warmup ratio as a float warmup_steps and renamed gradient checkpointing;
    # transformers 4 has warmup_ratio and gradient_checkpointing. Pass what this version knows.
    import dataclasses

    names = {f.name for f in dataclasses.fields(args_cls)}
    extra: dict[str, Any] = {}
    extra["warmup_ratio" if "warmup_ratio" in names else "warmup_steps"] = config.warmup_ratio
    if config.gradient_checkpointing:
        key = "activation_checkpointing" if "activation_checkpointing" in names else "gradient_checkpointing"
        extra[key] = True
    return extra


def _resume_point(run: TrainingRun) -> str | None:
    from loracode_embed.training.checkpoint import latest_checkpoint

    resume = run.config.resume
    if not resume:
        return None
    if resume == "auto":
        found = latest_checkpoint(run.checkpoints_dir)
        if found is None:
            logger.warning("resume: no checkpoint in %s yet; starting from step 0", run.checkpoints_dir)
            return None
        logger.info("Resuming from %s", found)
        return os.fspath(found)
    if not (Path(resume) / "trainer_state.json").is_file():
        raise FileNotFoundError(f"resume={resume!r} is not a checkpoint directory (no trainer_state.json)")
    return resume


def run_training(run: TrainingRun) -> Path:
    """Train (resuming if asked), then write the adapter directory and ``training.json``; returns the adapter dir."""
    started = time.time()
    resume_from = _resume_point(run)
    output = run.trainer.train(resume_from_checkpoint=resume_from)
    rank_info = _gather_rank_info(run)
    adapter_dir = run.output_dir / ADAPTER_DIR
    if run.trainer.is_world_process_zero():
        export_adapter(run, adapter_dir)
        record = provenance(run, output, resume_from, rank_info, time.time() - started)
        from loracode_embed.training.checkpoint import write_text_atomic

        write_text_atomic(run.output_dir / PROVENANCE, json.dumps(record, indent=2, sort_keys=True) + "\n")
        logger.info("Wrote adapter %s (%d steps)", adapter_dir, run.trainer.state.global_step)
    run.trainer.accelerator.wait_for_everyone()
    return adapter_dir


def train(config: TrainConfig, callbacks: Sequence[Any] = ()) -> Path:
    """Train the adapter ``config`` describes; returns the PEFT adapter directory.

    Raises:
        NonFiniteLossError: the loss became NaN or infinite (names the step).
        ValueError / FileNotFoundError: bad settings or missing data, before any training starts.
    """
    return run_training(build_trainer(config, callbacks))


def export_adapter(run: TrainingRun, adapter_dir: Path) -> Path:
    """Write the adapter (``adapter_config.json`` + ``adapter_model.safetensors``) atomically."""
    from loracode_embed.training.checkpoint import publish_dir

    staged = adapter_dir.with_name(f".{adapter_dir.name}.staging")
    shutil.rmtree(staged, ignore_errors=True)
    transformer = run.model[0].auto_model
    transformer.save_pretrained(os.fspath(staged))
    (staged / "README.md").unlink(missing_ok=True)
    config_path = staged / ADAPTER_CONFIG
    adapter_config = json.loads(config_path.read_text(encoding="utf-8"))
    adapter_config["base_model_name_or_path"] = run.config.base
    config_path.write_text(json.dumps(adapter_config, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return publish_dir(staged, adapter_dir)


def _gather_rank_info(run: TrainingRun) -> list[dict[str, Any]]:
    torch = require("torch")
    info = {
        "rank": run.trainer.args.process_index,
        "steps": run.trainer.state.global_step,
        "candidates_per_anchor": run.loss.last_candidates,
        "device": str(run.trainer.args.device),
    }
    if torch.distributed.is_available() and torch.distributed.is_initialized():
        gathered: list[Any] = [None] * torch.distributed.get_world_size()
        torch.distributed.all_gather_object(gathered, info)
        return gathered
    return [info]


def _git_commit() -> dict[str, Any] | None:
    root = Path(__file__).resolve().parents[2]
    try:
        commit = subprocess.run(
            ["git", "-C", os.fspath(root), "rev-parse", "HEAD"], capture_output=True, text=True, timeout=10
        )
        if commit.returncode != 0:
            return None
        dirty = subprocess.run(
            ["git", "-C", os.fspath(root), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            timeout=10,
        )
        return {"commit": commit.stdout.strip(), "dirty": bool(dirty.stdout.strip())}
    except (OSError, subprocess.SubprocessError):
        return None


def _report_record(path: Path | None) -> dict[str, Any] | None:
    """The hard-negative report as training.json carries it: path, sha256 and contents."""
    if path is None:
        return None
    from loracode_embed.training.data import file_digests

    return {**file_digests([path])[0], "report": json.loads(Path(path).read_text(encoding="utf-8"))}


def provenance(
    run: TrainingRun, output: Any, resume_from: str | None, ranks: list[dict[str, Any]], seconds: float
) -> dict[str, Any]:
    """The ``training.json`` record: enough to tell what was trained, on what, and how it went."""
    from importlib.metadata import PackageNotFoundError, version

    from loracode_embed.loading import cached_sha256
    from loracode_embed.training.data import file_digests

    def _version(dist: str) -> str | None:
        try:
            return version(dist)
        except PackageNotFoundError:
            return None

    state = run.trainer.state
    losses = [entry["loss"] for entry in state.log_history if "loss" in entry]
    evals = [
        {k: v for k, v in entry.items() if k.startswith("eval_") or k == "step"}
        for entry in state.log_history
        if any(k.startswith("eval_") for k in entry)
    ]
    return {
        "adapter": run.config.name,
        "task": run.config.task,
        "config": run.config.to_dict(),
        "base": {
            "name": run.config.base,
            "path": os.fspath(run.base_path),
            "sha256": cached_sha256(weights_file(run.base_path)),
        },
        "lora": {
            "r": run.config.lora_r,
            "alpha": run.config.lora_alpha,
            "dropout": run.config.lora_dropout,
            "target_modules": run.target_modules,
        },
        "data": {
            "train_files": file_digests(run.train_files),
            "eval_files": file_digests(run.eval_files),
            "train_pairs": run.num_train_pairs,
            "eval_pairs": run.num_eval_pairs,
            "skipped_empty": run.extra.get("skipped_empty", 0),
            "num_negatives": run.config.num_negatives,
            "skipped_short_negatives": run.extra.get("skipped_short_negatives", 0),
            "curriculum_buckets": run.config.curriculum_buckets,
            "negatives": _report_record(run.extra.get("negatives_report")),
        },
        "steps": state.global_step,
        "epochs": state.epoch,
        "train_loss": getattr(output, "training_loss", None),
        "last_logged_loss": losses[-1] if losses else None,
        "best_checkpoint": state.best_model_checkpoint,
        "best_metric": state.best_metric,
        "evaluations": evals,
        "resumed_from": resume_from,
        "init_adapter": (
            file_digests([Path(run.config.init_adapter) / "adapter_model.safetensors"])[0]
            if run.config.init_adapter
            else None
        ),
        "world_size": run.trainer.args.world_size,
        "ranks": ranks,
        "device": run.extra.get("device"),
        "precision": run.extra.get("precision"),
        "seconds": round(seconds, 1),
        "git": _git_commit(),
        "versions": {
            "python": platform.python_version(),
            **{
                d: _version(d)
                for d in ("torch", "transformers", "sentence-transformers", "peft", "loracode-embed")
            },
        },
    }
