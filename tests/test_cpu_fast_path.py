"""The CPU fast path (dtype="bfloat16", adapters folded into the weights per call) against float32.

Equivalence on the tiny committed RoBERTa with three adapters and on the real MiniLM: vectors stay within
a cosine bound of float32's, each adapter still changes the vector the way it does in float32, routing
still reaches the right adapter, and a call leaves the base weights as it found them.
"""

import logging

import numpy as np
import pytest
import torch
from conftest import CODE_SAMPLES, TINY_BASE, tiny_adapter_specs

from loracode_embed import LoRACodeModel
from loracode_embed import precision as precision_module
from loracode_embed.cli import main as cli_main
from loracode_embed.evaluation.runner import cache_key
from loracode_embed.merged_adapters import MergedAdapters

TEXTS = [t for t in CODE_SAMPLES if t] + ["read a yaml file into a dict", "sort a list of tuples by key"]


@pytest.fixture(scope="module")
def tiny_bf16():
    return LoRACodeModel.from_base(TINY_BASE, adapters=tiny_adapter_specs(), device="cpu", dtype="bfloat16")


def _cos(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.sum(a * b, axis=1)


def test_bf16_vectors_are_unit_float32(tiny_bf16):
    vectors = tiny_bf16.encode_code(TEXTS, adapter="text2code-python")
    assert vectors.dtype == np.float32 and tiny_bf16.dtype == torch.bfloat16
    # Normalised again in float32: bfloat16's own normalisation is off by ~1e-3.
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-6)


@pytest.mark.parametrize("adapter", ["base", "text2code", "text2code-python", "code2code"])
def test_bf16_matches_float32_per_adapter(tiny_model, tiny_bf16, adapter):
    fast = tiny_bf16.encode_code(TEXTS, adapter=adapter)
    exact = tiny_model.encode_code(TEXTS, adapter=adapter)
    assert _cos(fast, exact).min() >= 0.999


def test_large_calls_fold_small_calls_do_not(tiny_model, tiny_bf16, monkeypatch):
    """Over MIXED_BATCH_MAX_TEXTS texts an adapter is folded into the weights; a few texts (a query) take
    the unfolded mixed pass, which skips the fold's cost. Both give the adapter's vectors."""
    from loracode_embed.model import MIXED_BATCH_MAX_TEXTS

    merges = []
    original = MergedAdapters.merge
    monkeypatch.setattr(
        MergedAdapters, "merge", lambda self, name: merges.append(name) or original(self, name)
    )
    many = (TEXTS * (MIXED_BATCH_MAX_TEXTS // len(TEXTS) + 1))[: MIXED_BATCH_MAX_TEXTS + 1]
    folded = tiny_bf16.encode_code(many, adapter="text2code-python", batch_size=64)
    assert merges == ["text2code-python"]
    few = tiny_bf16.encode_code(many[:3], adapter="text2code-python")
    assert merges == ["text2code-python"]  # no fold for three texts
    exact = tiny_model.encode_code(many, adapter="text2code-python")
    assert _cos(folded, exact).min() >= 0.999 and _cos(few, exact[:3]).min() >= 0.999


def test_folded_adapter_is_the_adapter_not_the_base(tiny_model, tiny_bf16):
    """Each adapter's bf16 vectors sit nearer its own float32 vectors than any other adapter's."""
    names = ["base", *tiny_model.adapters]
    exact = {name: tiny_model.encode_code(TEXTS, adapter=name) for name in names}
    for name in names:
        fast = tiny_bf16.encode_code(TEXTS, adapter=name)
        own = np.abs(fast - exact[name]).max()
        for other in names:
            if other != name:
                assert np.abs(fast - exact[other]).max() > 5 * own, (name, other)


def test_bf16_routing_reaches_the_adapter(tiny_bf16):
    text = [CODE_SAMPLES[0]]
    np.testing.assert_array_equal(
        tiny_bf16.encode_code(text, languages="python"),
        tiny_bf16.encode_code(text, adapter="text2code-python"),
    )
    np.testing.assert_array_equal(
        tiny_bf16.encode_code(text, languages="ruby"), tiny_bf16.encode_code(text, adapter="text2code")
    )
    np.testing.assert_array_equal(
        tiny_bf16.encode_query(text, language="python", task="code2code"),
        tiny_bf16.encode_code(text, adapter="code2code"),
    )


def test_bf16_mixed_adapters_in_one_call_keep_order(tiny_model, tiny_bf16):
    langs = ["python", "go", "java", "python", None, "ruby", "python"]
    mixed = tiny_bf16.encode_code(TEXTS, languages=langs)
    exact = tiny_model.encode_code(TEXTS, languages=langs)
    assert _cos(mixed, exact).min() >= 0.999
    for i, (text, lang) in enumerate(zip(TEXTS, langs, strict=True)):
        assert _cos(mixed[i : i + 1], tiny_bf16.encode_code([text], languages=[lang]))[0] >= 0.9999


def test_a_call_leaves_the_base_weights_unchanged(tiny_bf16):
    query = tiny_bf16._st[0].model.encoder.layer[0].attention.self.query.get_base_layer()
    weight, before = query.weight, query.weight.detach().clone()
    base_first = tiny_bf16.encode_code(TEXTS, adapter="base")
    tiny_bf16.encode_code(TEXTS, languages=["python", "go"] * 3 + [None])
    assert query.weight is weight and torch.equal(query.weight, before)
    np.testing.assert_array_equal(tiny_bf16.encode_code(TEXTS, adapter="base"), base_first)


def test_float32_keeps_the_live_lora_branch(tiny_model):
    assert tiny_model._merged is None  # float32 vectors stay equal to sentence-transformers' own


def test_merged_adapters_refuse_unknown_adapter(tiny_bf16):
    merged = MergedAdapters(tiny_bf16._st[0].model)
    assert merged.can_merge("text2code") and not merged.can_merge("no-such-adapter")
    assert merged.merge("no-such-adapter") is False


def test_minilm_bf16_matches_float32(minilm):
    fast = LoRACodeModel.from_pretrained(device="cpu", dtype="bfloat16")
    assert (
        _cos(fast.encode_code(TEXTS, adapter="base"), minilm.encode_code(TEXTS, adapter="base")).min()
        >= 0.9995
    )
    queries = ["parse a json string", "def f(x):\n    return x * 2\n"]
    assert _cos(fast.encode_query(queries), minilm.encode_query(queries)).min() >= 0.9995


def test_dtype_is_validated_by_name():
    with pytest.raises(
        ValueError, match=r"dtype must be one of auto, float32, float16, bfloat16 .* got 'int8'"
    ):
        LoRACodeModel.from_base(TINY_BASE, device="cpu", dtype="int8")


def test_bf16_without_hardware_support_warns(monkeypatch, caplog):
    monkeypatch.setattr(precision_module, "cpu_supports_bfloat16", lambda: False)
    with caplog.at_level(logging.WARNING, logger="loracode_embed.precision"):
        assert precision_module.resolve_device_dtype("cpu", "bfloat16") == ("cpu", torch.bfloat16)
    assert "emulated" in caplog.text
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="loracode_embed.precision"):
        precision_module.resolve_device_dtype("cpu", None)
    assert caplog.text == ""
    assert precision_module.resolve_device_dtype("cpu", "auto") == ("cpu", torch.float32)  # no hardware bf16
    monkeypatch.setattr(precision_module, "cpu_supports_bfloat16", lambda: True)
    assert precision_module.resolve_device_dtype("cpu", "auto") == ("cpu", torch.bfloat16)
    assert precision_module.resolve_device_dtype("cuda", "auto") == ("cuda", torch.float16)


def test_eval_cache_key_separates_dtypes(tiny_model, tiny_bf16):
    assert cache_key(tiny_model) == tiny_model.fingerprint
    assert cache_key(tiny_bf16) == f"{tiny_model.fingerprint}/torch.bfloat16"


def test_embed_cli_dtype_flag(tiny_bundle, tiny_model, capsys):
    import json

    assert cli_main(["embed", "--model", str(tiny_bundle), "--device", "cpu", "--dtype", "bfloat16",
                     "--code", "--language", "python", CODE_SAMPLES[0]]) == 0  # fmt: skip
    vector = np.array([json.loads(capsys.readouterr().out)["vector"]], dtype=np.float32)
    exact = tiny_model.encode_code([CODE_SAMPLES[0]], languages="python")
    assert 0.999 <= _cos(vector, exact)[0] < 1 - 1e-7  # close to float32, but computed in bfloat16
    with pytest.raises(SystemExit):
        cli_main(["embed", "--dtype", "int8", "x"])
    assert "invalid choice: 'int8'" in capsys.readouterr().err


def test_eval_cli_dtype_reaches_the_model(tiny_bundle, tmp_path, monkeypatch, capsys):
    import json

    from loracode_embed.commands import eval as eval_cmd

    pairs = tmp_path / "pairs.jsonl"
    rows = [("add two numbers", CODE_SAMPLES[0]), ("read a yaml file", CODE_SAMPLES[4])]
    pairs.write_text(
        "".join(json.dumps({"query": q, "code": c, "language": "python"}) + "\n" for q, c in rows)
    )
    loaded = []
    original = eval_cmd.load_model
    monkeypatch.setattr(eval_cmd, "load_model", lambda *a: loaded.append(original(*a)) or loaded[-1])
    results = {}
    for dtype in ("float32", "bfloat16"):
        argv = ["eval", "--pairs", str(pairs), "--model", str(tiny_bundle), "--device", "cpu", "--json"]
        assert cli_main([*argv, "--dtype", dtype]) == 0
        results[dtype] = json.loads(capsys.readouterr().out)
    assert [str(m.dtype) for m in loaded] == ["torch.float32", "torch.bfloat16"]
    assert results["bfloat16"]["mrr"] == results["float32"]["mrr"]


def test_bf16_query_in_spaces_takes_one_batched_pass(tiny_model, tiny_bf16, monkeypatch):
    spaces = ["text2code-python", "text2code", "code2code", "base"]
    passes = []
    forward = tiny_bf16._forward
    monkeypatch.setattr(
        tiny_bf16, "_forward", lambda inputs: passes.append(len(inputs["input_ids"])) or forward(inputs)
    )
    query = tiny_bf16._st[0].model.encoder.layer[0].attention.self.query.get_base_layer()
    before = query.weight.detach().clone()
    got = tiny_bf16.encode_query_in_spaces("read a yaml file into a dict", spaces)
    assert passes == [4]  # one mixed pass, not one folded pass per adapter
    assert torch.equal(query.weight, before)  # the base weights, not a folded adapter
    exact = tiny_model.encode_query_in_spaces("read a yaml file into a dict", spaces)
    assert _cos(got, exact).min() >= 0.999


def test_bf16_mixed_pass_with_pefts_own_loop_also_runs_on_the_base_weights(
    tiny_model, tiny_bf16, monkeypatch
):
    from loracode_embed import adapters as adapters_module

    monkeypatch.setattr(adapters_module, "BATCHED_LORA", False)  # the fallback for non-plain LoRA
    spaces = ["text2code-python", "code2code", "base"]
    got = tiny_bf16.encode_query_in_spaces("read a yaml file into a dict", spaces)
    exact = tiny_model.encode_query_in_spaces("read a yaml file into a dict", spaces)
    assert _cos(got, exact).min() >= 0.999
