"""Shared fixtures: the tiny committed RoBERTa with three LoRA adapters, and the real MiniLM default.

Models load once per test session; LoRACodeModel keeps no per-call state, so tests share them.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

FIXTURES = Path(__file__).resolve().parent / "fixtures"
TINY_BASE = FIXTURES / "tiny-roberta"
TINY_ADAPTERS = FIXTURES / "tiny-adapters"
SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
ROOT = Path(__file__).resolve().parents[1]


def load_script(relative: str) -> ModuleType:
    """A script of the repository that is not in a package (``trainers/``, ``benchmarks/``) as a module.

    Registered in ``sys.modules`` under its file name, so that pickling and dataclasses can find it.
    """
    path = ROOT / relative
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[path.stem] = module
    spec.loader.exec_module(module)
    return module


def tiny_adapter_specs() -> dict[str, Path]:
    return {name: TINY_ADAPTERS / name for name in ("text2code", "text2code-python", "code2code")}


@pytest.fixture(scope="session")
def tiny_model():
    from loracode_embed import LoRACodeModel

    return LoRACodeModel.from_base(TINY_BASE, adapters=tiny_adapter_specs(), device="cpu")


@pytest.fixture(scope="session")
def tiny_bundle(tiny_model, tmp_path_factory) -> Path:
    return tiny_model.save_pretrained(tmp_path_factory.mktemp("tiny-bundle"))


@pytest.fixture(scope="session")
def minilm():
    from loracode_embed import LoRACodeModel

    return LoRACodeModel.from_pretrained(device="cpu")


CODE_SAMPLES = [
    "def add(a, b):\n    return a + b\n",
    "func Add(a, b int) int {\n\treturn a + b\n}\n",
    "public int add(int a, int b) {\n    return a + b;\n}\n",
    "const add = (a, b) => a + b;\n",
    "def read_yaml(path):\n    with open(path) as f:\n        return yaml.safe_load(f)\n",
    "",
]
