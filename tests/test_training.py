"""The trainer on the CPU with the tiny committed RoBERTa: smoke run, resume, NaN guard, sampler, torchrun.

Every training here is a few steps on a 2-layer, 32-wide model and synthetic pairs written by the test.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import random
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import TINY_BASE

from loracode_embed.training.config import TrainConfig, default_target_modules, field_docs

ROOT = Path(__file__).resolve().parents[1]
VERBS = "read write parse sort filter merge split join load save open close send fetch build".split()
NOUNS = "file list dict string json yaml socket queue tree graph number url path config".split()


def _write_pairs(path: Path, n: int, seed: int, duplicates: int = 0) -> Path:
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        verb, noun = rng.choice(VERBS), rng.choice(NOUNS)
        body = "\n".join(f"    x = {verb}(x, {j})" for j in range(rng.randint(1, 6)))
        rows.append(
            {
                "query": f"{verb} a {noun} number {i}",
                "code": f"def {verb}_{noun}_{i}(x):\n{body}\n    return x\n",
                "language": "python",
            }
        )
    for i in range(duplicates):  # the same query text with another function: must never share a batch
        rows.append({"query": rows[i]["query"], "code": f"def dup_{i}():\n    pass\n", "language": "python"})
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("pairs")
    return {
        "train": _write_pairs(root / "python" / "train-00000.jsonl", 96, seed=1, duplicates=8),
        "valid": _write_pairs(root / "python" / "valid-00000.jsonl", 16, seed=2),
        "root": root,
    }


def _config(tmp_path: Path, data: dict[str, Path], **overrides) -> TrainConfig:
    values = dict(
        name="text2code-python",
        base=os.fspath(TINY_BASE),
        train_files=[os.fspath(data["train"])],
        output_dir=os.fspath(tmp_path / "run"),
        batch_size=8,
        max_steps=2,
        learning_rate=5e-3,
        lora_r=4,
        lora_alpha=8,
        logging_steps=1,
        eval_steps=100,
        device="cpu",
        max_seq_length=64,
    )
    values.update(overrides)
    return TrainConfig(**values)


def _adapter_tensors(adapter_dir: Path) -> dict[str, np.ndarray]:
    from safetensors.numpy import load_file

    return load_file(os.fspath(adapter_dir / "adapter_model.safetensors"))


# ---------------------------------------------------------------------------- configuration


def test_default_target_modules_per_architecture():
    assert default_target_modules("roberta") == ["query", "value"]
    assert default_target_modules("bert") == ["query", "value"]  # MiniLM is a BERT
    assert default_target_modules("xlm-roberta") == ["query", "value"]
    assert default_target_modules("mpnet") == ["q", "v"]
    with pytest.raises(ValueError, match="target_modules") as exc:
        default_target_modules("llama")
    assert "'llama'" in str(exc.value)


def test_yaml_then_set_then_flags(tmp_path):
    from loracode_embed.cli import build_parser
    from loracode_embed.commands.train import resolve_config

    config_file = tmp_path / "c.yaml"
    config_file.write_text(
        "name: text2code-go\nlora_r: 16\nlearning_rate: 1e-4\nlanguages: [go]\nbatch_size: 32\n"
    )
    args = build_parser().parse_args(
        [
            "train",
            os.fspath(config_file),
            "--set",
            "lora_r=32",
            "--set",
            "lora_dropout=0.05",
            "--batch-size",
            "128",
            "--no-group-by-length",
            "--target-modules",
            "query",
            "key",
            "--resume",
        ]
    )
    config = resolve_config(args)
    assert config.name == "text2code-go" and config.languages == ["go"]
    assert config.learning_rate == 1e-4  # YAML reads "1e-4" as a string; the field makes it a float
    assert (config.lora_r, config.lora_dropout) == (32, 0.05)  # --set beats the file
    assert config.batch_size == 128 and config.group_by_length is False  # explicit flags too
    assert config.target_modules == ["query", "key"] and config.resume == "auto"
    # an explicit flag beats --set for the same key
    args = build_parser().parse_args(["train", os.fspath(config_file), "--set", "lora_r=8", "--lora-r", "64"])
    assert resolve_config(args).lora_r == 64


def test_config_errors_name_the_setting(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("lora_rank: 16\n")
    with pytest.raises(ValueError, match="unknown setting.*'lora_rank'"):
        TrainConfig.from_yaml(bad)
    with pytest.raises(TypeError, match="lora_r must be an integer"):
        TrainConfig.from_dict({"lora_r": "big"})
    with pytest.raises(ValueError, match="task='text2sql'"):
        TrainConfig.from_dict({"task": "text2sql"})
    with pytest.raises(ValueError, match="must be 'code2code' or start with 'code2code-'"):
        TrainConfig.from_dict({"task": "code2code", "name": "text2code"})
    with pytest.raises(ValueError, match="save_steps=150 must be a multiple of eval_steps=100"):
        TrainConfig.from_dict({"save_steps": 150, "eval_steps": 100})


def test_recipes_load_and_cover_every_backbone_and_kind():
    configs = {
        p.stem: TrainConfig.from_yaml(p) for p in sorted((ROOT / "trainers" / "configs").glob("*.yaml"))
    }
    for backbone in ("minilm", "unixcoder", "codebert", "graphcodebert"):
        assert configs[f"{backbone}-text2code"].task == "text2code"
        assert configs[f"{backbone}-code2code"].task == "code2code"
    assert configs["minilm-text2code-python"].languages == ["python"]
    assert configs["minilm-text2code"].base == "sentence-transformers/all-MiniLM-L6-v2"
    for backbone in ("unixcoder", "codebert", "graphcodebert"):  # r=64 on query/value: ~1.9% of 125M
        assert configs[f"{backbone}-text2code"].lora_r == 64
        assert configs[f"{backbone}-text2code"].with_overrides(["lora_r=16"]).lora_r == 16
    for stem, config in configs.items():
        assert stem.endswith(config.name), (stem, config.name)


def test_docs_list_every_setting():
    from loracode_embed.training.config import reference_markdown

    doc = (ROOT / "docs" / "training.md").read_text(encoding="utf-8")
    missing = [name for name, *_ in field_docs() if f"| `{name}` |" not in doc]
    assert not missing, f"docs/training.md does not document {missing}"
    assert reference_markdown() in doc, "regenerate the table: python -m loracode_embed.training.config"


# ---------------------------------------------------------------------------- sampler


def test_sampler_never_repeats_a_text_in_a_batch(data):
    from loracode_embed.training.data import read_pairs
    from loracode_embed.training.sampler import NoDuplicatesLengthGroupedBatchSampler

    pairs = read_pairs([data["train"]])
    columns = {"anchor": [p["anchor"] for p in pairs], "positive": [p["positive"] for p in pairs]}
    # a positive equal to another pair's anchor: a collision across columns
    columns["positive"][5] = columns["anchor"][6]
    for replicas in (1, 2):
        sampler = NoDuplicatesLengthGroupedBatchSampler(
            columns, batch_size=8, drop_last=True, seed=3, group_factor=2, num_replicas=replicas
        )
        for epoch in range(3):
            sampler.set_epoch(epoch)
            batches = list(sampler)
            assert len(batches) == len(sampler) and len(batches) % replicas == 0
            assert all(len(b) == 8 for b in batches)
            # the batch all devices share (consecutive slices) holds every text at most once
            for k in range(0, len(batches), replicas):
                group = [i for b in batches[k : k + replicas] for i in b]
                texts = [columns["anchor"][i] for i in group] + [columns["positive"][i] for i in group]
                assert len(texts) == len(set(texts)), f"epoch {epoch}: duplicate text in {group}"
            used = [i for b in batches for i in b]
            assert len(used) == len(set(used))
    # deterministic per (seed, epoch), different across epochs
    a = NoDuplicatesLengthGroupedBatchSampler(columns, batch_size=8, drop_last=True, seed=3)
    b = NoDuplicatesLengthGroupedBatchSampler(columns, batch_size=8, drop_last=True, seed=3)
    assert list(a) == list(b)
    b.set_epoch(1)
    assert list(a) != list(b)


def test_sampler_length_grouping_cuts_padding():
    from loracode_embed.training.sampler import NoDuplicatesLengthGroupedBatchSampler

    rng = random.Random(0)
    lengths = [rng.randint(1, 400) for _ in range(512)]
    columns = {
        "anchor": [f"q{i}" for i in range(512)],
        "positive": ["x" * n + str(i) for i, n in enumerate(lengths)],
    }

    def padding(group: bool) -> int:
        sampler = NoDuplicatesLengthGroupedBatchSampler(
            columns, batch_size=16, drop_last=True, group_by_length=group
        )
        return sum(max(lengths[i] for i in b) * len(b) - sum(lengths[i] for i in b) for b in sampler)

    assert padding(True) < 0.25 * padding(False)


# ---------------------------------------------------------------------------- training runs


def test_two_step_smoke_run_round_trips_through_loracodemodel(tmp_path, data):
    from loracode_embed import LoRACodeModel
    from loracode_embed.training.runner import build_trainer, run_training

    run = build_trainer(_config(tmp_path, data, eval_files=[os.fspath(data["valid"])], eval_steps=2))
    adapter_dir = run_training(run)
    assert sorted(p.name for p in adapter_dir.iterdir()) == [
        "adapter_config.json",
        "adapter_model.safetensors",
    ]
    record = json.loads((run.output_dir / "training.json").read_text())
    assert record["steps"] == 2 and record["world_size"] == 1
    assert record["data"]["train_pairs"] == 104
    assert len(record["data"]["train_files"][0]["sha256"]) == 64
    assert record["lora"]["target_modules"] == ["query", "value"]
    assert record["evaluations"] and "eval_dev_cosine_mrr@10" in record["evaluations"][-1]
    assert record["ranks"][0]["candidates_per_anchor"] == 8
    # a LoRA B starts at zero: the adapter must have moved away from it
    tensors = _adapter_tensors(adapter_dir)
    assert max(float(np.abs(v).max()) for k, v in tensors.items() if "lora_B" in k) > 0

    texts = ["def add(a, b):\n    return a + b\n", "read a yaml file", "sort a list"]
    trained = run.model.encode(texts, convert_to_numpy=True, normalize_embeddings=True)
    served = LoRACodeModel.from_base(TINY_BASE, adapters={"text2code-python": adapter_dir}, device="cpu")
    via_adapter = served.encode_code(texts, languages="python")
    base_only = served.encode_code(texts, adapter="base")
    np.testing.assert_allclose(via_adapter, trained, atol=1e-5)
    assert np.abs(via_adapter - base_only).max() > 1e-4, "the trained adapter does not change the vectors"


def test_resume_after_kill_gives_the_same_adapter(tmp_path, data, monkeypatch):
    from loracode_embed.training import checkpoint, train

    settings = dict(max_steps=4, save_steps=2, eval_steps=2, load_best_model_at_end=False)
    uninterrupted = train(_config(tmp_path / "a", data, **settings))

    real_publish = checkpoint.publish_dir

    def killed_while_saving_step_4(staged, final):
        if Path(final).name == "checkpoint-4":
            raise KeyboardInterrupt("killed while writing checkpoint-4")
        return real_publish(staged, final)

    monkeypatch.setattr(checkpoint, "publish_dir", killed_while_saving_step_4)
    config = _config(tmp_path / "b", data, **settings)
    with pytest.raises(KeyboardInterrupt):
        train(config)
    monkeypatch.setattr(checkpoint, "publish_dir", real_publish)
    checkpoints = config.resolved_output_dir / "checkpoints"
    # the half-written checkpoint never became visible
    assert sorted(p.name for p in checkpoints.glob("checkpoint-*")) == ["checkpoint-2"]
    assert checkpoint.latest_checkpoint(checkpoints).name == "checkpoint-2"

    resumed = train(dataclasses.replace(config, resume="auto"))
    record = json.loads((config.resolved_output_dir / "training.json").read_text())
    assert record["resumed_from"].endswith("checkpoint-2") and record["steps"] == 4
    a, b = _adapter_tensors(uninterrupted), _adapter_tensors(resumed)
    assert a.keys() == b.keys()
    worst = max(float(np.abs(a[k] - b[k]).max()) for k in a)
    assert worst <= 1e-6, f"resumed adapter differs by {worst}"
    moved = max(float(np.abs(v).max()) for k, v in a.items() if "lora_B" in k)
    assert moved > 1e-4  # the comparison is not between two untouched adapters


def test_nan_loss_stops_with_a_clear_message(tmp_path, data):
    import torch

    from loracode_embed.training import NonFiniteLossError
    from loracode_embed.training.runner import build_trainer, run_training

    run = build_trainer(_config(tmp_path, data, max_steps=3))
    assert run.trainer.args.logging_nan_inf_filter is False
    with torch.no_grad():
        name, weight = next((n, p) for n, p in run.model.named_parameters() if "lora_A" in n)
        weight[0, 0] = math.nan
    with pytest.raises(NonFiniteLossError, match=r"Training loss is nan at step 1; stopping"):
        run_training(run)
    assert not (run.output_dir / "adapter").exists()


def test_bf16_base_keeps_lora_weights_fp32(tmp_path, data):
    import torch

    from loracode_embed.training.runner import load_model

    model, _, targets = load_model(
        _config(tmp_path, data, base_dtype="bf16", precision="bf16"), "cpu", "bf16"
    )
    frozen = {p.dtype for p in model.parameters() if not p.requires_grad}
    trainable = {p.dtype for p in model.parameters() if p.requires_grad}
    assert frozen == {torch.bfloat16} and trainable == {torch.float32} and targets == ["query", "value"]
    kinds = {type(m).__name__ for m in model.modules()}
    assert "WeightDtypeLayerNorm" in kinds and "LayerNorm" not in kinds  # no fp32 residual stream
    assert {
        "FusedLeadFusedLoraLinear",
        "FusedFollowLinear",
        "FusedFollowFusedLoraLinear",
    } <= kinds  # fused_lora
    with pytest.raises(ValueError, match="base_dtype: bf16 needs precision: bf16"):
        _config(tmp_path, data, base_dtype="bf16", precision="fp32").validate()


def test_bf16_training_step_runs_through_the_fused_layers(tmp_path, data):
    """The GPU recipe's step (bf16 base, bf16 autocast, fused LoRA) on CPU autocast: finite, non-zero grads."""
    import torch

    from loracode_embed.training.runner import load_model

    config = _config(tmp_path, data, base_dtype="bf16", precision="bf16", lora_dropout=0.0)
    model, _, _ = load_model(config, "cpu", "bf16")
    model.train()
    features = model.tokenize(["read a yaml file", "def add(a, b):\n    return a + b\n"])
    with torch.autocast("cpu", dtype=torch.bfloat16):
        embeddings = model(features)["sentence_embedding"]
    assert embeddings.dtype == torch.bfloat16
    (embeddings.float()[0] @ embeddings.float()[1]).backward()
    grads = [p.grad for p in model.parameters() if p.requires_grad]
    assert grads and all(
        g is not None and g.dtype == torch.float32 and torch.isfinite(g).all() for g in grads
    )
    assert any(float(g.abs().max()) > 0 for g in grads)


def test_init_adapter_starts_from_the_saved_weights(tmp_path, data):
    """A second stage: the run's LoRA weights start as the saved adapter's; a shape mismatch is refused."""
    import torch

    from loracode_embed.training.runner import load_model

    source, _, _ = load_model(_config(tmp_path, data, fused_lora=False), "cpu")
    with torch.no_grad():
        for name, param in source.named_parameters():
            if "lora_" in name:
                param.normal_()
    saved = tmp_path / "stage1"
    source[0].model.save_pretrained(os.fspath(saved))  # PEFT's files: adapter_config.json + safetensors
    expected = {n: p.detach().clone() for n, p in source.named_parameters() if "lora_" in n}
    second, _, _ = load_model(_config(tmp_path, data, fused_lora=False, init_adapter=os.fspath(saved)), "cpu")
    got = {n: p for n, p in second.named_parameters() if "lora_" in n}
    assert got.keys() == expected.keys()
    assert all(torch.equal(got[n], expected[n]) for n in got)
    fused, _, _ = load_model(_config(tmp_path, data, init_adapter=os.fspath(saved)), "cpu")
    lora_b = [p for n, p in fused.named_parameters() if "lora_B" in n]
    assert lora_b and all(float(p.detach().abs().max()) > 0 for p in lora_b)  # a fresh LoRA has B = 0
    with pytest.raises(ValueError, match=r"does not fit this run's LoRA: r: adapter 4, run 8"):
        load_model(_config(tmp_path, data, lora_r=8, init_adapter=os.fspath(saved)), "cpu")
    with pytest.raises(ValueError, match=r"init_adapter=.* has no adapter_config.json"):
        _config(tmp_path, data, init_adapter=os.fspath(tmp_path / "missing")).validate()


def test_base_dropout_and_fused_lora_settings(tmp_path, data):
    import torch

    from loracode_embed.training.runner import load_model

    def dropouts(model):
        return {m.p for m in model.modules() if isinstance(m, torch.nn.Dropout)}

    default, _, _ = load_model(_config(tmp_path, data), "cpu")
    own = default[0].auto_model.config.hidden_dropout_prob
    assert own > 0 and own in dropouts(default)  # the backbone's own setting is kept
    off, _, _ = load_model(
        _config(tmp_path, data, base_dropout=0.0, lora_dropout=0.0, fused_lora=False), "cpu"
    )
    assert off[0].auto_model.config.hidden_dropout_prob == 0.0
    assert off[0].auto_model.config.attention_probs_dropout_prob == 0.0
    assert dropouts(off) <= {0.0}
    kinds = {type(m).__name__ for m in off.modules()}
    assert not any("Fused" in k for k in kinds) and "LayerNorm" in kinds  # fp32 base: LayerNorms untouched


def test_missing_data_and_bad_targets_fail_before_training(tmp_path, data):
    from loracode_embed.training import train

    with pytest.raises(FileNotFoundError, match="no file matches"):
        train(_config(tmp_path, data, train_files=[os.fspath(tmp_path / "nothing-*.jsonl")]))
    with pytest.raises(ValueError, match="target_modules=\\['q', 'v'\\] do not fit roberta"):
        train(_config(tmp_path, data, target_modules=["q", "v"]))


def _torchrun_train(config: Path, timeout: int = 240) -> subprocess.CompletedProcess:
    """``loracode train CONFIG`` under torchrun: 2 CPU processes on the gloo backend."""
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([os.fspath(ROOT), os.environ.get("PYTHONPATH", "")]),
        "OMP_NUM_THREADS": "1",
        "TOKENIZERS_PARALLELISM": "false",
    }
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "torch.distributed.run",
            "--standalone",
            "--nproc_per_node=2",
            "-m",
            "loracode_embed.cli",
            "train",
            os.fspath(config),
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=timeout,
    )


def _ddp_config(path: Path, train_file: Path, output_dir: Path, *extra: str) -> Path:
    lines = [
        "name: text2code-python",
        f"base: {TINY_BASE}",
        f"train_files: [{train_file}]",
        f"output_dir: {output_dir}",
        "batch_size: 4",
        "max_steps: 2",
        "lora_r: 4",
        "logging_steps: 1",
        "device: cpu",
        "max_seq_length: 64",
        *extra,
    ]
    path.write_text("\n".join(lines) + "\n")
    return path


def test_torchrun_two_processes_gather_negatives(tmp_path, data):
    config = _ddp_config(tmp_path / "ddp.yaml", data["train"], tmp_path / "ddp")
    proc = _torchrun_train(config)
    assert proc.returncode == 0, proc.stderr[-4000:]
    record = json.loads((tmp_path / "ddp" / "training.json").read_text())
    assert record["world_size"] == 2 and record["steps"] == 2
    assert sorted(r["rank"] for r in record["ranks"]) == [0, 1]
    # each anchor was scored against both devices' positives: 4 local + 4 gathered
    assert [r["candidates_per_anchor"] for r in record["ranks"]] == [8, 8]
    assert (tmp_path / "ddp" / "adapter" / "adapter_model.safetensors").is_file()


def test_torchrun_two_processes_gather_hard_negatives_with_the_cached_loss(tmp_path, data):
    rows = [json.loads(line) for line in data["train"].read_text().splitlines()]
    for i, row in enumerate(rows):  # another pair's positive: the sampler keeps the two pairs apart
        row["negatives"] = [rows[(i + 7) % len(rows)]["code"]]
    train = tmp_path / "hn" / "train-00000.jsonl"
    train.parent.mkdir()
    train.write_text("".join(json.dumps(r) + "\n" for r in rows))
    config = _ddp_config(
        tmp_path / "ddp.yaml", train, tmp_path / "ddp", "num_negatives: 1", "mini_batch_size: 2"
    )
    proc = _torchrun_train(config)
    assert proc.returncode == 0, proc.stderr[-4000:]
    record = json.loads((tmp_path / "ddp" / "training.json").read_text())
    assert record["world_size"] == 2 and record["steps"] == 2 and record["data"]["num_negatives"] == 1
    assert record["config"]["mini_batch_size"] == 2
    # each anchor against 2 devices x 4 pairs x (positive + hard negative): positives and negatives gathered
    assert [r["candidates_per_anchor"] for r in record["ranks"]] == [16, 16]


# ---------------------------------------------------------------------------- GPU (off by default: -m gpu)


def _cuda_count() -> int:
    import torch

    return torch.cuda.device_count() if torch.cuda.is_available() else 0


@pytest.mark.gpu
def test_one_gpu_bf16_run(tmp_path, data):
    if _cuda_count() < 1:
        pytest.skip("needs a CUDA device")
    from loracode_embed.training import train

    adapter_dir = train(
        _config(tmp_path, data, device="auto", max_steps=4, eval_files=[os.fspath(data["valid"])])
    )
    record = json.loads((adapter_dir.parent / "training.json").read_text())
    assert record["device"] == "cuda" and record["precision"] == "bf16" and record["steps"] == 4
    assert max(float(np.abs(v).max()) for k, v in _adapter_tensors(adapter_dir).items() if "lora_B" in k) > 0


@pytest.mark.gpu
def test_torchrun_two_gpus_nccl(tmp_path, data):
    if _cuda_count() < 2:
        pytest.skip("needs two CUDA devices")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([os.fspath(ROOT), os.environ.get("PYTHONPATH", "")])}
    proc = subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
         "-m", "loracode_embed.cli", "train", "--name", "text2code-python", "--base", os.fspath(TINY_BASE),
         "--train-files", os.fspath(data["train"]), "--output-dir", os.fspath(tmp_path / "ddp"),
         "--batch-size", "4", "--max-steps", "2", "--lora-r", "4", "--max-seq-length", "64"],
        capture_output=True, text=True, env=env, timeout=300,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-4000:]
    record = json.loads((tmp_path / "ddp" / "training.json").read_text())
    assert record["world_size"] == 2 and record["precision"] == "bf16"
    assert [r["candidates_per_anchor"] for r in record["ranks"]] == [8, 8]
