"""The `loracode` command line, and the package's import hygiene."""

import json
import subprocess
import sys

import numpy as np
import pytest

from loracode_embed.cli import main


def test_import_loads_no_model_and_no_heavy_modules():
    code = (
        "import sys, loracode_embed, loracode_embed.languages, loracode_embed.routing; "
        "heavy = [m for m in ('torch', 'transformers', 'sentence_transformers', 'langchain_core', "
        "'llama_index', 'qdrant_client') if m in sys.modules]; print(heavy)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_public_api_is_sorted_and_complete():
    import loracode_embed

    assert loracode_embed.__all__ == sorted(loracode_embed.__all__)
    for name in loracode_embed.__all__:
        assert getattr(loracode_embed, name) is not None


def test_embed_prints_json_lines(capsys, minilm):
    assert (
        main(["embed", "--task", "text2code", "--language", "python", "read a yaml file", "sort a list"]) == 0
    )
    lines = capsys.readouterr().out.strip().splitlines()
    records = [json.loads(line) for line in lines]
    assert [r["index"] for r in records] == [0, 1]
    assert all(r["adapter"] == "text2code-python" and r["task"] == "text2code" for r in records)
    vector = np.array(records[0]["vector"])
    expected = minilm.encode_query(["read a yaml file"], language="python", task="text2code")[0]
    assert vector.shape == (384,) and np.abs(vector - expected).max() < 1e-6


def test_embed_file_as_code(tmp_path, capsys):
    source = tmp_path / "a.py"
    source.write_text("def f():\n    return 1\n")
    assert main(["embed", "--code", "--file", str(source)]) == 0
    record = json.loads(capsys.readouterr().out)
    assert record["task"] == "text2code" and len(record["vector"]) == 384


def test_embed_bad_language_is_a_clean_error(capsys):
    with pytest.raises(SystemExit) as exit_info:  # refused by the parser, before any model loads
        main(["embed", "--language", "cobol", "x"])
    assert exit_info.value.code == 2
    assert "argument --language: Unknown language 'cobol'" in capsys.readouterr().err


def test_adapters_lists_routes(capsys, tiny_bundle):
    assert main(["adapters", "--model", str(tiny_bundle)]) == 0
    out = capsys.readouterr().out
    assert "text2code-python" in out and "python       -> text2code-python  (language)" in out
    assert main(["adapters", "--model", str(tiny_bundle), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["embedding_dim"] == 32
    routes = {(r["task"], r["language"]): r["adapter"] for r in data["routes"]}
    assert routes[("text2code", "ruby")] == "text2code" and routes[("code2code", "go")] == "code2code"
