"""Idle adapters leave the compute device; the ones a call uses come back, with the same vectors."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from conftest import TINY_BASE, tiny_adapter_specs

from loracode_embed import LoRACodeModel
from loracode_embed.adapter_residency import AdapterResidency


def _devices_by_adapter(model: torch.nn.Module) -> dict[str, set[str]]:
    from peft.tuners.lora import LoraLayer

    found: dict[str, set[str]] = {}
    for layer in model.modules():
        if isinstance(layer, LoraLayer):
            for name, linear in layer.lora_A.items():
                found.setdefault(name, set()).add(linear.weight.device.type)
            for name, linear in layer.lora_B.items():
                found.setdefault(name, set()).add(linear.weight.device.type)
    return found


def test_use_moves_exactly_the_named_adapters():
    # "meta" stands in for host memory here: it shows where each tensor went without a GPU.
    model = LoRACodeModel.from_base(TINY_BASE, adapters=tiny_adapter_specs(), device="cpu")
    transformer = model._st[0].model
    residency = AdapterResidency(transformer, torch.device("cpu"), host=torch.device("meta"))
    residency.resident = set(model.adapters)  # as loaded: everything on the device
    residency.use(["text2code-python"])
    assert _devices_by_adapter(transformer) == {
        "text2code-python": {"cpu"},
        "text2code": {"meta"},
        "code2code": {"meta"},
    }
    residency.use([])
    assert set().union(*_devices_by_adapter(transformer).values()) == {"meta"}
    assert residency.resident == set()


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_on_cuda_idle_adapters_stay_in_host_memory_and_vectors_match():
    model = LoRACodeModel.from_base(TINY_BASE, adapters=tiny_adapter_specs(), device="cuda", dtype="float32")
    transformer = model._st[0].model
    assert set().union(*_devices_by_adapter(transformer).values()) == {"cpu"}  # nothing used yet
    texts = ["def f(x):\n    return x", "func F() {}", "read a file"]
    got = model.encode_code(texts, languages=["python", "go", None])
    assert _devices_by_adapter(transformer)["code2code"] == {"cpu"}
    reference = LoRACodeModel.from_base(TINY_BASE, adapters=tiny_adapter_specs(), device="cpu")
    want = reference.encode_code(texts, languages=["python", "go", None])
    assert np.abs(got - want).max() < 1e-4
