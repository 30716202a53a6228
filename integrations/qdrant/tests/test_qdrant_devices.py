"""`--devices` on `loracode index` and `loracode search`: parsing, model choice, a two-replica index."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from loracode_qdrant import cli

REPO = Path(__file__).resolve().parents[3]
TINY = REPO / "tests" / "fixtures"


@pytest.fixture(scope="module")
def tiny_bundle(tmp_path_factory) -> Path:
    from loracode_embed import LoRACodeModel

    adapters = {n: TINY / "tiny-adapters" / n for n in ("text2code", "text2code-python", "code2code")}
    model = LoRACodeModel.from_base(TINY / "tiny-roberta", adapters=adapters, device="cpu")
    return model.save_pretrained(tmp_path_factory.mktemp("bundle"))


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser()
    cli.register(parser.add_subparsers(dest="command"))
    return parser


@pytest.mark.parametrize("command", [["index", "."], ["search", "parse json"]])
def test_devices_flag_parses(command: list[str]) -> None:
    args = _parser().parse_args([*command, "--devices", "cuda:0,cuda:1"])
    assert args.devices == "cuda:0,cuda:1"
    assert _parser().parse_args(command).devices is None


def test_load_model_picks_single_or_multi_device(monkeypatch) -> None:
    import loracode_embed.model
    import loracode_embed.multi_device

    calls: list[tuple[str, object, object]] = []
    monkeypatch.setattr(
        loracode_embed.multi_device.MultiDeviceModel,
        "from_pretrained",
        classmethod(lambda cls, path, devices, dtype=None: calls.append(("multi", path, devices)) or "multi"),
    )
    monkeypatch.setattr(
        loracode_embed.model.LoRACodeModel,
        "from_pretrained",
        classmethod(
            lambda cls, path, device=None, dtype=None: calls.append(("single", path, device)) or "single"
        ),
    )
    assert cli.load_model(None, None) is None  # CodeIndex loads the default lazily, as before
    assert cli.load_model("b", "cuda:0,cuda:1") == "multi"
    assert cli.load_model(None, "cuda:1") == "single"  # one device: today's single model
    assert cli.load_model("b", "cuda:0,cuda:1", query_only=True) == "single"  # search: first device only
    assert cli.load_model("b", None) == "single"
    assert calls == [
        ("multi", "b", ["cuda:0", "cuda:1"]),
        ("single", None, "cuda:1"),
        ("single", "b", "cuda:0"),
        ("single", "b", None),
    ]
    with pytest.raises(ValueError, match=r"--devices\[1\]: 'cuda:0' is listed twice"):
        cli.load_model(None, "cuda:0,cuda:0")
    with pytest.raises(ValueError, match=r"--devices\[1\]: 'tpu0' is not a torch device"):
        cli.load_model(None, "cuda:0,tpu0")


def test_cli_index_on_two_cpu_replicas_matches_one(
    loracode_main, tiny_bundle: Path, small_tree: Path, tmp_path: Path, capsys, monkeypatch
) -> None:
    import loracode_embed.multi_device

    made = []
    original = loracode_embed.multi_device.MultiDeviceModel.from_pretrained.__func__

    def spy(cls, *args, **kwargs):
        made.append(original(cls, *args, **kwargs))
        return made[-1]

    monkeypatch.setattr(loracode_embed.multi_device.MultiDeviceModel, "from_pretrained", classmethod(spy))
    results = {}
    for devices in ("cpu,cpu", "cpu"):
        index_dir = tmp_path / devices.replace(",", "-")
        # float32: in bfloat16 a call of a few texts takes the unfolded mixed pass and a larger one folds
        # the adapter, so splitting the chunks between replicas moves scores by ~1e-3
        common = ["--model", str(tiny_bundle), "--index-dir", str(index_dir), "--devices", devices,
                  "--dtype", "float32"]  # fmt: skip
        assert loracode_main(["index", str(small_tree), "--json", "--batch-size", "2", *common]) == 0
        summary = json.loads(capsys.readouterr().out)
        assert summary["added"] == 3 and summary["chunks_embedded"] > 3
        query = ["search", "reverse the words of a string", "-k", "5", "--json", "--root", str(small_tree)]
        assert loracode_main([*query, *common]) == 0
        results[devices] = json.loads(capsys.readouterr().out)
    assert len(made) == 1 and made[0].devices == ["cpu", "cpu"]  # index used two replicas; search one
    multi, single = results["cpu,cpu"], results["cpu"]
    assert [(h["path"], h["symbol"]) for h in multi] == [(h["path"], h["symbol"]) for h in single]
    assert [h["score"] for h in multi] == pytest.approx([h["score"] for h in single], abs=1e-5)
