"""One forward pass for a few texts routed to several adapters (PEFT's mixed-batch LoRA forward)."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import TINY_BASE

from loracode_embed import model as model_module


def test_query_in_spaces_equals_one_call_per_adapter(tiny_model):
    names = [*tiny_model.adapters, "base"]
    mixed = tiny_model.encode_query_in_spaces("read a yaml file into a dict", names)
    separate = np.stack(
        [tiny_model.encode_query(["read a yaml file into a dict"], adapter=n)[0] for n in names]
    )
    assert np.abs(mixed - separate).max() < 1e-5
    # the adapters are not no-ops: every space gives its own vector
    assert min(np.abs(mixed[i] - mixed[j]).max() for i in range(len(names)) for j in range(i)) > 1e-3


def test_small_mixed_code_call_takes_one_pass_and_matches_grouped_calls(tiny_model, monkeypatch):
    texts = [
        "def f(x):\n    return x + 1",
        "func F(x int) int { return x + 1 }",
        "def g(): pass",
        "fn main() {}",
    ]
    languages = ["python", "go", "python", None]
    passes = []
    forward = tiny_model._forward
    monkeypatch.setattr(
        tiny_model, "_forward", lambda inputs: passes.append(len(inputs["input_ids"])) or forward(inputs)
    )
    mixed = tiny_model.encode_code(texts, languages=languages)
    assert passes == [4]  # several adapters, one pass
    monkeypatch.setattr(model_module, "MIXED_BATCH_MAX_TEXTS", 0)  # force one pass per adapter
    passes.clear()
    grouped = tiny_model.encode_code(texts, languages=languages)
    assert len(passes) > 1
    assert np.abs(mixed - grouped).max() < 1e-5


def test_query_in_spaces_rejects_bad_adapters(tiny_model):
    with pytest.raises(ValueError, match="Unknown adapter 'nope'"):
        tiny_model.encode_query_in_spaces("q", ["base", "nope"])
    with pytest.raises(TypeError, match="adapters must be a list"):
        tiny_model.encode_query_in_spaces("q", "base")


def test_batched_lora_equals_pefts_own_mixed_batch(tiny_model, monkeypatch):
    import loracode_embed.adapters as adapters_module
    import loracode_embed.batched_lora as batched_module

    query = "read a yaml file into a dict"
    spaces = ["text2code-python", "base", "code2code", "text2code", "text2code-python"]
    calls = []
    real = batched_module.batched_rows
    monkeypatch.setattr(adapters_module, "batched_rows", lambda *a: calls.append(a[1]) or real(*a))
    batched = tiny_model.encode_query_in_spaces(query, spaces)
    assert calls == [["text2code-python", None, "code2code", "text2code", "text2code-python"]]
    monkeypatch.setattr(adapters_module, "BATCHED_LORA", False)
    peft_loop = tiny_model.encode_query_in_spaces(query, spaces)
    assert np.abs(batched - peft_loop).max() < 1e-5
    separate = np.vstack([tiny_model.encode_query([query], adapter=name) for name in spaces])
    assert np.abs(batched - separate).max() < 1e-5


def test_batched_lora_pads_smaller_ranks():
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModel

    from loracode_embed.adapters import mixed_adapter_rows
    from loracode_embed.batched_lora import batchable

    torch.manual_seed(0)
    model = get_peft_model(
        AutoModel.from_pretrained(str(TINY_BASE)),
        LoraConfig(r=4, lora_alpha=8, target_modules=["query", "value"], init_lora_weights=False),
        adapter_name="small",
    )
    model.add_adapter(
        "big", LoraConfig(r=8, lora_alpha=8, target_modules=["query", "value"], init_lora_weights=False)
    )
    model.eval()
    layers = [m for m in model.modules() if hasattr(m, "lora_A")]
    assert batchable(layers)
    inputs = {
        "input_ids": torch.tensor([[0, 5, 6, 7, 2]] * 3),
        "attention_mask": torch.ones(3, 5, dtype=torch.long),
    }
    names = ["big", "small", None]
    with torch.no_grad(), mixed_adapter_rows(model, names):
        mixed = model(**inputs).last_hidden_state
    for layer in layers:  # the block leaves adapter state to the caller (LoRACodeModel sets it per call)
        layer.enable_adapters(True)
    for row, name in enumerate(names):
        with torch.no_grad():
            if name is None:
                with model.disable_adapter():
                    alone = model(**inputs).last_hidden_state[row]
            else:
                model.set_adapter(name)
                alone = model(**inputs).last_hidden_state[row]
        assert torch.allclose(mixed[row], alone, atol=1e-5), name


def test_batched_rows_cache_follows_weight_changes(tiny_model):
    """The stacked LoRA rows are cached between calls; a change to an adapter's weights (in place, as an
    optimizer step, or a new tensor) is seen by the next call, which matches one call per adapter."""
    import torch

    query = "read a yaml file into a dict"
    names = [n for n in tiny_model.adapters][:3] + ["base"]
    first = tiny_model.encode_query_in_spaces(query, names)
    assert np.array_equal(tiny_model.encode_query_in_spaces(query, names), first)  # cached rows: same
    layer = next(
        m for m in tiny_model._st[0].model.modules() if hasattr(m, "lora_B") and names[0] in m.lora_B
    )
    weight = layer.lora_B[names[0]].weight
    original = weight.detach().clone()
    try:
        with torch.no_grad():
            weight.mul_(3.0)  # in place
        changed = tiny_model.encode_query_in_spaces(query, names)
        assert np.abs(changed[0] - first[0]).max() > 1e-4  # the edited adapter's row moved
        assert np.abs(changed[1:] - first[1:]).max() < 1e-6  # the others did not
        separate = np.vstack([tiny_model.encode_query([query], adapter=n) for n in names])
        assert np.abs(changed - separate).max() < 1e-5
        layer.lora_B[names[0]].weight = torch.nn.Parameter(
            original.clone(), requires_grad=False
        )  # new tensor
        assert np.abs(tiny_model.encode_query_in_spaces(query, names) - first).max() < 1e-6
    finally:
        with torch.no_grad():
            layer.lora_B[names[0]].weight.copy_(original)
