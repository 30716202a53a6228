"""One forward pass for a few texts routed to several adapters (PEFT's mixed-batch LoRA forward)."""

from __future__ import annotations

import numpy as np
import pytest

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
