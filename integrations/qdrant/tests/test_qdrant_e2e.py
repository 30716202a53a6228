"""End to end with real models: the default bundle (MiniLM, CPU) and the core's tiny RoBERTa with LoRA."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import tomllib

from loracode_qdrant import CodeIndex

REPO = Path(__file__).resolve().parents[3]
TINY = REPO / "tests" / "fixtures"


def test_minilm_index_search_and_incremental_rerun(real_model, small_tree: Path) -> None:
    with CodeIndex(small_tree, model=real_model) as index:
        first = index.index()
        assert first.added == 3 and first.chunks_embedded == first.chunks_total > 3
        hits = index.search("retry an http request with backoff", k=3)
        assert (hits[0].path, hits[0].symbol, hits[0].start_line) == ("net.py", "fetch_with_retry", 5)
        code = index.search("def parse(s): return json.loads(s)", language="python", k=1)
        assert code[0].symbol == "parse_config"
        go = index.search("reverse the order of words in a string", k=1)
        assert go[0].symbol == "ReverseWords" and go[0].language == "go"
        second = index.index()
        assert (second.unchanged, second.chunks_embedded) == (3, 0)


def test_chunks_fit_the_real_tokenizer(real_model, tmp_path: Path) -> None:
    body = "".join(
        f"    total_{i} = accumulate(total_{i - 1}, weights[{i}], 'label {i}')\n" for i in range(1, 120)
    )
    (tmp_path / "long.py").write_text(
        f"def long_function(weights):\n    total_0 = 0\n{body}    return total_119\n"
    )
    with CodeIndex(tmp_path, model=real_model, index_dir=tmp_path / "idx") as index:
        index.index()
        texts = [h.payload["text"] for h in index.store.scroll("chunk")]
    assert len(texts) > 2
    assert max(real_model.count_tokens(texts)) <= real_model.max_seq_length


def test_adapter_spaces_with_real_lora_adapters(small_tree: Path) -> None:
    from loracode_embed import LoRACodeModel

    adapters = {
        name: TINY / "tiny-adapters" / name for name in ("text2code", "text2code-python", "code2code")
    }
    model = LoRACodeModel.from_base(TINY / "tiny-roberta", adapters=adapters, device="cpu")
    with CodeIndex(small_tree, model=model, spaces="all") as index:
        index.index()
        spaces = _stored_spaces(index)
        assert spaces == {  # and every chunk's sparse (BM25) vector for hybrid search
            "python": {"text2code-python", "text2code", "code2code", "bm25-code"},
            "go": {"text2code", "code2code", "bm25-code"},
        }
        hits = index.search("reverse words", k=10, mode="per-language")
        assert {h.space for h in hits} == {"text2code-python", "text2code"}  # two lists, fused
        assert {h.space for h in index.search("reverse words", k=10, mode="unified")} == {"text2code"}
        assert {
            h.space for h in index.search("def f(x): return x", language="go", k=3, mode="per-language")
        } == {"code2code"}
    with pytest.raises(ValueError, match="adapter set"):
        CodeIndex(small_tree, model=LoRACodeModel.from_base(TINY / "tiny-roberta", device="cpu")).index()


def _stored_spaces(index: CodeIndex) -> dict[str, set[str]]:
    """Language -> the named vectors of every chunk of that language (asserted equal within one language)."""
    spaces: dict[str, set[str]] = {}
    ids = [hit.id for hit in index.store.scroll("chunk", ["language"])]
    for hit in index.store.retrieve(ids, with_vectors=True):
        have = set(hit.vectors)
        assert spaces.setdefault(hit.payload["language"], have) == have
    return spaces


def _tiny_lora_model():
    from loracode_embed import LoRACodeModel

    adapters = {
        name: TINY / "tiny-adapters" / name for name in ("text2code", "text2code-python", "code2code")
    }
    return LoRACodeModel.from_base(TINY / "tiny-roberta", adapters=adapters, device="cpu")


def test_default_index_stores_the_language_space_alone(small_tree: Path) -> None:
    with CodeIndex(small_tree, model=_tiny_lora_model()) as index:
        summary = index.index()
        assert index.space_kinds == ("language",)
        assert _stored_spaces(index) == {
            "python": {"text2code-python", "bm25-code"},  # one embedding per chunk, not three
            "go": {"text2code", "bm25-code"},  # go has no language adapter: its space is the unified one
        }
        hits = index.search("reverse words", k=10, mode="per-language")
        assert {h.space for h in hits} == {"text2code-python", "text2code"}
        # code2code without the code2code space: each language's own space, the query embedded as code
        code = index.search("def f(x): return x", k=10, task="code2code", mode="per-language")
        assert {h.space for h in code} == {"text2code-python", "text2code"}
        assert {h.space for h in index.search("def f(x): return x", language="go", k=3)} == {"hybrid"}
        with pytest.raises(ValueError, match="does not store the unified space 'text2code'.*--spaces all"):
            index.search("reverse words", mode="unified")
        # unified over go alone is fine: go's language space is the unified one
        assert {h.space for h in index.search("reverse", language="go", mode="unified")} == {"text2code"}
        assert index.status().space_kinds == ["language"]
    assert summary.chunks_embedded == summary.chunks_total


def test_spaces_of_an_existing_index_are_kept_unless_rebuilt(small_tree: Path) -> None:
    model = _tiny_lora_model()
    with CodeIndex(small_tree, model=model) as index:
        before = index.index().chunks_total
    net = small_tree / "net.py"
    net.write_text(net.read_text() + "\n\ndef added():\n    return 2\n")
    with CodeIndex(small_tree, model=model, spaces="all") as index:
        with pytest.raises(ValueError, match=r"stores the spaces \['language'\].*--rebuild --spaces"):
            index.index()
    status = CodeIndex(small_tree).status()  # refused before any write
    assert (status.chunks, status.space_kinds, status.last_run.state) == (before, ["language"], "complete")
    with CodeIndex(small_tree, model=model) as index:  # spaces left out: the index keeps its own
        assert index.index().updated == 1
        assert _stored_spaces(index)["python"] == {"text2code-python", "bm25-code"}
    with CodeIndex(small_tree, model=model, spaces=["language", "code2code"]) as index:
        summary = index.index(rebuild=True)
        assert summary.added == 3 and index.space_kinds == ("language", "code2code")
        assert _stored_spaces(index)["python"] == {"text2code-python", "code2code", "bm25-code"}
        code = index.search("def f(x): return x", k=10, task="code2code", mode="per-language")
        assert {h.space for h in code} == {"code2code"}


def test_index_from_before_space_kinds_keeps_all_three(small_tree: Path) -> None:
    """An index written before ``space_kinds`` was recorded has all three spaces; a re-index keeps them."""
    model = _tiny_lora_model()
    with CodeIndex(small_tree, model=model, spaces="all") as index:
        index.index()
        meta = index.store.read_meta()
        del meta["space_kinds"]
        index.store.write_meta(meta)
    (small_tree / "pkg" / "parse.py").write_text("def parse_again(s):\n    return s.split()\n")
    with CodeIndex(small_tree, model=model) as index:
        assert index.index().updated == 1
        assert index.space_kinds == ("language", "unified", "code2code")
        assert _stored_spaces(index)["python"] == {"text2code-python", "text2code", "code2code", "bm25-code"}
        assert {h.space for h in index.search("reverse words", mode="unified")} == {"text2code"}
        assert "space_kinds" not in index.store.read_meta()


def test_spaces_argument_is_checked_before_any_work(tmp_path: Path) -> None:
    from loracode_qdrant.testing import FakeModel

    with pytest.raises(ValueError, match="unknown space 'code'"):
        CodeIndex(tmp_path, model=FakeModel(), spaces=["language", "code"])
    with pytest.raises(ValueError, match="must include 'language'"):
        CodeIndex(tmp_path, model=FakeModel(), spaces="unified")


def test_cli_index_and_search(loracode_main, small_tree: Path, capsys, monkeypatch) -> None:
    assert loracode_main(["index", str(small_tree), "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "3 added" in out and "1 unknown-language" in out
    monkeypatch.chdir(small_tree / "pkg")  # search finds the index in a parent folder
    assert loracode_main(["search", "retry an http request with backoff", "-k", "2"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0].startswith("net.py:5  fetch_with_retry  ")
    assert "    def fetch_with_retry(url, attempts=3):" in out
    assert loracode_main(["search", "parse json config", "--json", "--path", "pkg/**", "-l", "python"]) == 0
    hits = json.loads(capsys.readouterr().out)
    assert hits and {h["path"] for h in hits} == {"pkg/parse.py"}
    assert set(hits[0]) >= {"path", "start_line", "end_line", "symbol", "score", "text", "language", "kind"}
    assert loracode_main(["index", str(small_tree), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["unchanged"] == 3


def test_cli_errors_are_clear(loracode_main, tmp_path: Path, capsys, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert loracode_main(["search", "anything"]) == 1
    assert "No loracode index in" in capsys.readouterr().err
    assert loracode_main(["index", str(tmp_path / "missing")]) == 1
    assert "No such folder to index" in capsys.readouterr().err


def test_entry_point_is_declared() -> None:
    project = tomllib.loads((REPO / "integrations" / "qdrant" / "pyproject.toml").read_text())
    register = "loracode_qdrant.cli:register"  # one entry per command name: `loracode search` loads only this
    assert project["project"]["entry-points"]["loracode_embed.commands"] == {
        "index": register,
        "search": register,
        "status": register,
    }


def test_public_api_and_dependency_direction() -> None:
    import subprocess
    import sys

    import loracode_qdrant

    assert loracode_qdrant.__all__ == sorted(loracode_qdrant.__all__)
    assert all(hasattr(loracode_qdrant, name) for name in loracode_qdrant.__all__)
    code = (
        "import sys, loracode_embed.cli; sys.exit(any(m.startswith('loracode_qdrant') for m in sys.modules))"
    )
    assert subprocess.run([sys.executable, "-c", code], cwd=REPO).returncode == 0


@pytest.mark.parametrize("command", ["index", "search", "status"])
def test_cli_help_in_docs_is_current(loracode_main, command: str, capsys, monkeypatch) -> None:
    monkeypatch.setenv("COLUMNS", "100")
    with pytest.raises(SystemExit):
        loracode_main([command, "--help"])
    help_text = capsys.readouterr().out.strip()
    docs = (REPO / "docs" / "indexing.md").read_text()
    assert help_text in docs, (
        f"docs/indexing.md has stale `loracode {command} --help` (run tests/cli_help.py)"
    )


def test_cli_dtype_flag_loads_the_cpu_fast_path(loracode_main, small_tree: Path, capsys, monkeypatch) -> None:
    """`--dtype bfloat16` reaches the model of both commands, and search still finds the right chunk."""
    from loracode_embed import LoRACodeModel

    loaded = []
    original = LoRACodeModel.from_pretrained.__func__

    def spy(cls, *args, **kwargs):
        model = original(cls, *args, **kwargs)
        loaded.append(str(model.dtype))
        return model

    monkeypatch.setattr(LoRACodeModel, "from_pretrained", classmethod(spy))
    assert loracode_main(["index", str(small_tree), "--no-progress", "--dtype", "bfloat16"]) == 0
    assert "3 added" in capsys.readouterr().out
    monkeypatch.chdir(small_tree)
    query = "retry an http request with backoff"
    assert loracode_main(["search", query, "--dtype", "bfloat16", "--json"]) == 0
    hits = json.loads(capsys.readouterr().out)
    assert hits[0]["symbol"] == "fetch_with_retry"
    assert loaded == ["torch.bfloat16", "torch.bfloat16"]


def test_cli_default_dtype_is_auto(loracode_main, small_tree: Path, capsys, monkeypatch) -> None:
    """With no `--dtype`, index and search load the model with dtype "auto" (bfloat16 if the CPU has it)."""
    from loracode_embed import LoRACodeModel
    from loracode_embed.precision import resolve_device_dtype

    loaded = []
    original = LoRACodeModel.from_pretrained.__func__

    def spy(cls, *args, **kwargs):
        model = original(cls, *args, **kwargs)
        loaded.append((kwargs.get("dtype"), str(model.dtype)))
        return model

    monkeypatch.setattr(LoRACodeModel, "from_pretrained", classmethod(spy))
    assert loracode_main(["index", str(small_tree), "--no-progress"]) == 0
    capsys.readouterr()
    monkeypatch.chdir(small_tree)
    assert loracode_main(["search", "retry an http request with backoff", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)[0]["symbol"] == "fetch_with_retry"
    expected = str(resolve_device_dtype("cpu", "auto")[1])
    # search embeds its one query with the numpy QueryEncoder (float32): no torch model is loaded
    assert loaded == [("auto", expected)]
