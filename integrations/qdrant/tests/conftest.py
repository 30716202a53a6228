"""Shared fixtures: a fake model (instant), the real default model (loaded once), small source trees."""

from __future__ import annotations

from importlib.metadata import EntryPoint
from pathlib import Path

import pytest

from loracode_qdrant.testing import MAIN_GO, NET_PY, PARSE_PY, FakeModel, write_tree


@pytest.fixture
def fake_model() -> FakeModel:
    return FakeModel()


@pytest.fixture
def small_tree(tmp_path: Path) -> Path:
    return write_tree(
        tmp_path / "repo",
        {"net.py": NET_PY, "pkg/parse.py": PARSE_PY, "cmd/main.go": MAIN_GO, "README.md": "# hi\n"},
    )


@pytest.fixture(scope="session")
def real_model():
    """The default bundle (MiniLM on CPU), loaded once per test run."""
    from loracode_embed import LoRACodeModel

    return LoRACodeModel.from_pretrained(device="cpu")


@pytest.fixture
def loracode_main(monkeypatch):
    """The core's ``loracode`` entry point, with this package's plugin registered as if installed."""
    import loracode_embed.cli as core_cli

    plugin = EntryPoint(name="index", value="loracode_qdrant.cli:register", group=core_cli.PLUGIN_GROUP)
    monkeypatch.setattr(
        core_cli, "entry_points", lambda group: [plugin] if group == core_cli.PLUGIN_GROUP else []
    )
    return core_cli.main
