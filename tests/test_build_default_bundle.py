"""trainers/build_default_bundle.py: ``--keep-others`` replaces only the named adapters; the new one ships
in float16 with provenance that names how its hard negatives were mined and what it started from."""

from __future__ import annotations

import json
import shutil
import sys

from conftest import ROOT, load_script

from loracode_embed.loading import DEFAULT_BUNDLE

# a real training record: the PHP second-stage run of the second v2 session
RUN = "text2code-php__php-hn1r10-100m0-atext2code-php__5e-4__1__all__S"
RECORD = ROOT / "benchmarks/results/training-2026-12-06b-minilm-hn2" / RUN / "training.json"


def test_keep_others_replaces_only_the_named_adapter(tmp_path, monkeypatch):
    import torch
    from safetensors.torch import load_file, save_file

    builder = load_script("trainers/build_default_bundle.py")
    bundle = tmp_path / "bundle"
    shutil.copytree(DEFAULT_BUNDLE, bundle)
    before = json.loads((bundle / "loracode.json").read_text())["adapters"]
    adapter = tmp_path / "runs" / RUN / "adapter"  # as training writes it: float32, with its record
    adapter.mkdir(parents=True)
    shipped = load_file(str(bundle / "adapters/text2code-php/adapter_model.safetensors"))
    save_file({k: v.float() * 1.5 for k, v in shipped.items()}, str(adapter / "adapter_model.safetensors"))
    shutil.copy(bundle / "adapters/text2code-php/adapter_config.json", adapter)
    shutil.copy(RECORD, adapter / "training.json")
    result = {"mrr": 0.61, "ndcg@10": 0.66, "recall@1": 0.47, "recall@10": 0.86}
    rows = tmp_path / "eval.jsonl"
    rows.write_text(
        json.dumps(
            {"preset": "mined-php-test", "label": "php/v2", "run": f"/tmp/runs/{RUN}/adapter", **result}
        )
        + "\n"
        + json.dumps(
            {"preset": "mined-go-test", "label": "go/v2", "run": "/tmp/runs/other/adapter", **result}
        )
        + "\n"
    )
    monkeypatch.setattr(
        sys,
        "argv",
        [
            "build",
            "--keep-others",
            "--out",
            str(bundle),
            "--metrics",
            str(rows),
            "--adapter",
            f"text2code-php={adapter}",
        ],
    )
    builder.main()

    after = json.loads((bundle / "loracode.json").read_text())["adapters"]
    assert sorted(after) == sorted(before)
    assert all(after[name] == before[name] for name in before if name != "text2code-php")
    php = after["text2code-php"]
    record = json.loads(RECORD.read_text())
    assert php["provenance"]["hard_negatives"]["settings"]["rank_max"] == 100
    assert (
        php["provenance"]["hard_negatives"]["mined_with"]["adapter_sha256"]
        == record["init_adapter"]["sha256"]
    )
    assert php["provenance"]["init_adapter"] == record["init_adapter"]
    assert php["metrics"] == {"mined-php-test": result}  # its own run's rows only
    saved = load_file(str(bundle / "adapters/text2code-php/adapter_model.safetensors"))
    assert {v.dtype for v in saved.values()} == {torch.float16} and saved.keys() == shipped.keys()
    key = next(k for k in saved if "lora_B" in k)
    assert (saved[key].float() - shipped[key].float() * 1.5).abs().max() < 1e-2
    assert not list(tmp_path.glob("bundle.tmp"))
