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


def test_help_lists_every_command():
    from importlib.metadata import entry_points

    from loracode_embed.cli import CORE_COMMANDS, PLUGIN_GROUP, build_parser

    out = subprocess.run(
        [sys.executable, "-m", "loracode_embed.cli", "--help"], capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr
    commands = set(build_parser()._subparsers._group_actions[0].choices)
    assert set(CORE_COMMANDS) <= commands
    assert {e.name for e in entry_points(group=PLUGIN_GROUP)} <= commands  # plugins name their commands
    for command in commands:
        assert f"    {command} " in out.stdout or f"    {command}\n" in out.stdout


def test_a_command_line_builds_only_its_command(monkeypatch):
    from importlib.metadata import EntryPoint

    import loracode_embed.cli as cli

    assert cli.command_name(["-v", "--verbose", "embed", "x"]) == "embed"
    assert cli.command_name(["--verb", "search"]) == "search"
    for argv in ([], ["--help"], ["-h", "embed"], ["--version"], ["-x", "embed"]):
        assert cli.command_name(argv) is None
    assert list(cli.build_parser("embed")._subparsers._group_actions[0].choices) == ["embed"]

    # A plugin whose entry-point name is not its command: found by building everything.
    registered = []

    def register(subparsers):
        registered.append(1)
        subparsers.add_parser("other")

    plugin = EntryPoint(name="misnamed", value="x:register", group=cli.PLUGIN_GROUP)
    monkeypatch.setattr(EntryPoint, "load", lambda self: register)
    monkeypatch.setattr(
        cli, "entry_points", lambda group: [plugin, plugin] if group == cli.PLUGIN_GROUP else []
    )
    choices = cli.build_parser("other")._subparsers._group_actions[0].choices
    assert set(choices) == {*cli.CORE_COMMANDS, "other"} and registered == [1]  # one value loads once


def test_a_broken_plugin_is_skipped_with_one_warning(monkeypatch, caplog):
    from importlib.metadata import EntryPoint

    import loracode_embed.cli as cli

    def broken(self):
        raise ImportError("no such module")

    plugin = EntryPoint(name="search", value="broken:register", group=cli.PLUGIN_GROUP)
    monkeypatch.setattr(EntryPoint, "load", broken)
    monkeypatch.setattr(cli, "entry_points", lambda group: [plugin] if group == cli.PLUGIN_GROUP else [])
    with pytest.raises(SystemExit):  # "invalid choice", from the whole parser
        cli.main(["search", "x"])
    assert [r.getMessage() for r in caplog.records].count(
        "Skipping loracode plugin 'search': no such module"
    ) == 1
