"""Shared fixtures: the tiny committed model as a bundle, a small tree, a warm index, a live server.

The tiny model (a 2-layer RoBERTa with LoRA adapters that are not no-ops) ranks nothing meaningfully, so
tests find code by giving its exact text (a code-to-code search whose top hit is the chunk itself) and
compare with the in-process API rather than expecting semantic ranking.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from loracode_qdrant.testing import MAIN_GO, NET_PY, PARSE_PY, write_tree

FIXTURES = Path(__file__).resolve().parents[3] / "tests" / "fixtures"
ADAPTERS = ("text2code", "text2code-python", "code2code")


@pytest.fixture(scope="session")
def tiny_bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The committed tiny model saved as a bundle folder (what ``loracode serve --model`` loads)."""
    from loracode_embed import LoRACodeModel

    model = LoRACodeModel.from_base(
        FIXTURES / "tiny-roberta",
        adapters={n: FIXTURES / "tiny-adapters" / n for n in ADAPTERS},
        device="cpu",
    )
    return model.save_pretrained(tmp_path_factory.mktemp("tiny-bundle"))


@pytest.fixture(scope="session")
def tiny_model(tiny_bundle: Path):
    """The bundle loaded as ``loracode serve --model BUNDLE --device cpu --dtype float32`` loads it."""
    from loracode_embed import LoRACodeModel

    return LoRACodeModel.from_pretrained(tiny_bundle, device="cpu", dtype="float32")


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    return write_tree(tmp_path / "repo", {"net.py": NET_PY, "pkg/parse.py": PARSE_PY, "cmd/main.go": MAIN_GO})


@pytest.fixture
def warm(tree: Path, tiny_model) -> Iterator:
    from loracode_serve import WarmIndex

    index = WarmIndex(tree, model=tiny_model)
    index.refresh()
    yield index
    index.close()


@pytest.fixture
def live(warm) -> Iterator:
    """A real uvicorn server on 127.0.0.1 (free port) with HTTP routes and MCP at /mcp, announced."""
    from loracode_serve import HttpServer, create_app, create_mcp

    server = HttpServer(create_app(warm, mcp=create_mcp(warm)), warm, "127.0.0.1", 0).start()
    yield server
    server.stop()
