"""The one-request ``loracode search`` (``loracode_qdrant.server_search``) against a live server.

It must print exactly what the full command prints (through the server, and in-process once the server
is gone), answer only when the server holds the index it names, and otherwise print nothing and hand the
command line to the full command.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys

import httpx
import pytest
from loracode_embed import cli, console
from loracode_qdrant.server_link import ServerInfo, read_server_file, write_server_file
from loracode_qdrant.server_search import fast_search
from loracode_qdrant.testing import PARSE_PY

QUERY = "parse a json config"


def _out(capsys, run, argv):
    code = run(argv)
    out = capsys.readouterr()
    return code, out.out, out.err


#: Command lines (after ``search --root TREE``, before the query) that the one-request path answers.
ANSWERED = [
    [],
    ["--json", "-k", "5", "--task", "text2code"],
    ["--path", "cmd/**", "--lines=2", "--top=3"],
    ["-l", "golang", "--mode", "unified", "--json"],
    ["--task", "code2code", "--mode", "sparse", "--lines", "0"],
    ["--path", "pkg/*.py", "--path", "cmd/**", "--json"],
]


def test_same_output_as_the_full_command(live, warm, capsys):
    for extra in ANSWERED:
        argv = ["--root", str(warm.root), *extra, QUERY]
        assert _out(capsys, fast_search, argv) == (0, *_out(capsys, cli.main, ["search", *argv])[1:]), extra


def test_finds_the_index_upward_and_by_index_dir(live, warm, capsys, monkeypatch):
    full = _out(capsys, cli.main, ["search", "--root", str(warm.root), "--json", QUERY])
    monkeypatch.chdir(warm.root / "pkg")
    assert _out(capsys, fast_search, ["--json", QUERY]) == full
    monkeypatch.chdir(warm.root.parent)
    assert _out(capsys, fast_search, ["--index-dir", str(warm.index_dir), "--json", QUERY]) == full


def test_same_output_as_the_in_process_search(live, warm, tiny_bundle, capsys):
    argv = ["--root", str(warm.root), "-k", "4", "--path", "**/*.py", "--json", QUERY]
    fast_json = _out(capsys, fast_search, argv)
    fast_text = _out(capsys, fast_search, argv[:-2] + [QUERY])
    live.stop()
    warm.close()  # the store is free: the full command searches in-process, with the same model
    model = ["--model", str(tiny_bundle), "--devices", "cpu", "--dtype", "float32"]
    assert fast_json[0] == 0 and json.loads(fast_json[1])
    assert _out(capsys, cli.main, ["search", *model, *argv]) == fast_json
    assert _out(capsys, cli.main, ["search", *model, *argv[:-2], QUERY]) == fast_text


def test_server_refuses_a_search_for_another_index(live, warm, tmp_path):
    url = f"http://127.0.0.1:{live.port}/v1/search"
    other = tmp_path / "other" / ".loracode"
    other.mkdir(parents=True)
    refused = httpx.post(url, json={"query": QUERY, "index_dir": str(other)})
    assert refused.status_code == 409
    assert refused.json()["error"]["param"] == "index_dir"
    assert refused.json()["error"]["code"] == "index_mismatch"
    assert httpx.post(url, json={"query": QUERY, "index_dir": 3}).status_code == 400
    # its own folder, under another spelling (a symlink to the tree): answered
    link = tmp_path / "link"
    link.symlink_to(warm.root)
    answered = httpx.post(url, json={"query": QUERY, "index_dir": str(link / ".loracode")})
    assert answered.status_code == 200 and answered.json()["data"]


@pytest.fixture
def other_index(tmp_path, tiny_model):
    """A second indexed tree, nobody serving it."""
    from loracode_qdrant.testing import write_tree

    from loracode_serve import WarmIndex

    root = write_tree(tmp_path / "other", {"parse.py": PARSE_PY})
    with WarmIndex(root, model=tiny_model) as index:
        index.refresh()
    return root


@pytest.fixture
def full_command(monkeypatch):
    """Replaces the full command: the command lines handed to it."""
    calls: list[list[str]] = []
    monkeypatch.setattr(cli, "main", lambda argv: calls.append(list(argv)) or 7)
    return calls


def _falls_through(capsys, full_command, argv):
    assert console.main(argv) == 7
    assert full_command == [argv]
    assert capsys.readouterr().out == ""


def test_record_of_another_index_falls_through(live, warm, other_index, capsys, full_command):
    # A record naming the live server of another index (a copy, or a port reused): the server refuses it.
    shutil.copy(warm.index_dir / "server.json", other_index / ".loracode" / "server.json")
    _falls_through(capsys, full_command, ["search", "--root", str(other_index), QUERY])


def test_stale_and_silent_records_fall_through(other_index, capsys, full_command):
    index_dir = other_index / ".loracode"
    argv = ["search", "--root", str(other_index), QUERY]
    _falls_through(capsys, full_command, argv)  # no record
    write_server_file(index_dir, ServerInfo(2**22 + 7, "127.0.0.1", 1, str(other_index), str(index_dir)))
    full_command.clear()
    _falls_through(capsys, full_command, argv)  # dead pid
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))  # a port nobody listens on
        port = sock.getsockname()[1]
    write_server_file(index_dir, ServerInfo(os.getpid(), "127.0.0.1", port, str(other_index), str(index_dir)))
    full_command.clear()
    _falls_through(capsys, full_command, argv)  # live pid, nothing listening
    (index_dir / "server.json").write_text("{not json")
    full_command.clear()
    _falls_through(capsys, full_command, argv)


#: Command lines the one-request path leaves to the full command, which reads them or refuses them.
NOT_READ = [
    ["--model", "x"],  # options only the full command reads
    ["-v"],
    ["--help"],
    ["-k", "0"],  # values the full parser refuses
    ["-k", "three"],
    ["--lines", "-1"],
    ["--mode", "fastest"],
    ["-k5"],  # forms it does not read
    ["--js"],
    ["--path", ""],
    ["--", "-x"],
    ["second query"],
]


def test_unusual_command_lines_fall_through(live, warm, capsys, full_command):
    # with a live server for the tree, so that only the command line decides
    for extra in [*NOT_READ, ["-l", "klingon"], ["-k", "500"]]:  # the last two: refused by the server (400)
        full_command.clear()
        _falls_through(capsys, full_command, ["search", "--root", str(warm.root), *extra, QUERY])


def test_empty_query_and_qdrant_url_fall_through(live, warm, capsys, full_command, monkeypatch):
    _falls_through(capsys, full_command, ["search", "--root", str(warm.root), "  "])
    monkeypatch.setenv("QDRANT_URL", "http://127.0.0.1:6333")
    full_command.clear()
    _falls_through(capsys, full_command, ["search", "--root", str(warm.root), QUERY])


def test_token_server(warm, capsys, monkeypatch):
    from loracode_serve import HttpServer, create_app

    server = HttpServer(create_app(warm, token="s3cret"), warm, "127.0.0.1", 0).start()
    try:
        argv = ["--root", str(warm.root), "--json", QUERY]
        monkeypatch.delenv("LORACODE_SERVE_TOKEN", raising=False)
        assert _out(capsys, fast_search, argv) == (None, "", "")  # 401: the full command reports it
        code, _, err = _out(capsys, console.main, ["search", *argv])
        assert code == 1 and "401" in err and "LORACODE_SERVE_TOKEN" in err
        monkeypatch.setenv("LORACODE_SERVE_TOKEN", "s3cret")
        code, out, _ = _out(capsys, fast_search, argv)
        assert code == 0 and json.loads(out)
        monkeypatch.setenv("LORACODE_SERVE_TOKEN", "s3cret\r\nX-Injected: 1")
        assert _out(capsys, fast_search, argv) == (None, "", "")
    finally:
        server.stop()
    assert read_server_file(warm.index_dir) is None


#: What a shell search answered by the server must not import: the full command line and its plugin
#: discovery, the standard library's HTTP client, and everything heavy.
NOT_IMPORTED = (
    *("argparse", "importlib.metadata", "email", "http.client", "urllib.request", "dataclasses", "logging"),
    *("inspect", "typing", "torch", "numpy", "transformers", "tree_sitter", "qdrant_edge", "qdrant_client"),
    *("loracode_qdrant.cli", "loracode_qdrant.server_link", "loracode_qdrant.hits", "loracode_qdrant.index"),
    *("loracode_serve", "loracode_embed.cli", "loracode_embed.commands"),
)


def _imported(command: list[str], cwd: str) -> tuple[subprocess.CompletedProcess[str], set[str]]:
    env = {**os.environ, "PYTHONPROFILEIMPORTTIME": "1"}
    done = subprocess.run(command, capture_output=True, text=True, env=env, cwd=cwd, timeout=120)
    lines = [line for line in done.stderr.splitlines() if line.startswith("import time:")]
    return done, {line.rsplit("|", 1)[1].strip() for line in lines}


def test_shell_search_imports_only_the_fast_path(live, warm):
    # A new process, as from the shell (the console script's module); minus what the interpreter itself
    # imports at start-up (site-packages' .pth files, e.g. editable installs' finders).
    _, startup = _imported([sys.executable, "-c", "pass"], str(warm.root))
    done, names = _imported([sys.executable, "-m", "loracode_embed.console", "search", "--json", QUERY],
                            str(warm.root / "pkg"))  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    assert "loracode_qdrant.server_search" in names  # the search ran here, through the server
    extra = names - startup
    assert sorted(m for m in extra if m.split(".")[0] in NOT_IMPORTED or m.startswith(NOT_IMPORTED)) == []
    expected = warm.search(QUERY, k=10)
    assert [(h["path"], h["start_line"]) for h in json.loads(done.stdout)] == [
        (h.path, h.start_line) for h in expected
    ]


def test_console_script_is_the_fast_entry_point():
    from pathlib import Path

    import tomllib

    pyproject = tomllib.loads((Path(cli.__file__).parents[1] / "pyproject.toml").read_text())
    assert pyproject["project"]["scripts"]["loracode"] == "loracode_embed.console:main"
