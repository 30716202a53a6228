"""``loracode search`` / ``loracode index`` on a tree a server holds: they go through the server."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from loracode_embed.cli import main
from loracode_qdrant.server_link import ServerInfo, find_server, read_server_file, write_server_file


def test_server_announces_itself(live, warm):
    info = read_server_file(warm.index_dir)
    assert (info.pid, info.port, info.root) == (os.getpid(), live.port, str(warm.root))
    assert find_server(warm.index_dir) == info


def test_search_goes_through_the_server(live, warm, capsys):
    # The store's lock is held by the server, so an in-process search would fail: this one must use it.
    expected = warm.search("parse a json config", k=5, task="text2code")
    code = main(
        [
            "search",
            "--root",
            str(warm.root),
            "--json",
            "-k",
            "5",
            "--task",
            "text2code",
            "parse a json config",
        ]
    )
    assert code == 0
    hits = json.loads(capsys.readouterr().out)
    assert [(h["path"], h["start_line"], h["score"]) for h in hits] == [
        (h.path, h.start_line, h.score) for h in expected
    ]


#: What a search answered by the server must not import (the point of asking a warm server).
HEAVY = ("torch", "numpy", "transformers", "tree_sitter", "qdrant_edge", "qdrant_client",
         "loracode_qdrant.index", "loracode_serve", "loracode_embed.commands")  # fmt: skip


def test_full_command_search_via_the_server_stays_light(live, warm):
    # The full command line (what the console script runs when its one-request path does not answer, see
    # test_fast_search.py) in a new process; PYTHONPROFILEIMPORTTIME lists every module it imports.
    command = [sys.executable, "-m", "loracode_embed.cli"]
    env = {**os.environ, "PYTHONPROFILEIMPORTTIME": "1"}
    query = "parse a json config"
    done = subprocess.run([*command, "search", "--root", str(warm.root), "--json", "-k", "5", query],
                          capture_output=True, text=True, env=env, timeout=120)  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    imported = {
        line.rsplit("|", 1)[1].strip() for line in done.stderr.splitlines() if line.startswith("import time:")
    }
    assert "loracode_qdrant.hits" in imported  # the search ran here, through the server
    assert sorted(m for m in imported if m.split(".")[0] in HEAVY or m.startswith(HEAVY)) == []
    expected = warm.search(query, k=5)
    assert [(h["path"], h["start_line"]) for h in json.loads(done.stdout)] == [
        (h.path, h.start_line) for h in expected
    ]


def test_search_filters_reach_the_server(live, warm, capsys):
    assert main(["search", "--root", str(warm.root), "--json", "--path", "cmd/**", "words"]) == 0
    hits = json.loads(capsys.readouterr().out)
    assert hits and {h["path"] for h in hits} == {"cmd/main.go"}


def test_index_defers_to_the_server(live, warm, tree, capsys):
    (tree / "extra.py").write_text("def added_later():\n    return 1\n")
    before = warm.refreshes
    assert main(["index", str(tree), "--json"]) == 0
    out = capsys.readouterr()
    assert json.loads(out.out)["added"] == 1
    assert "loracode serve" in out.err
    assert warm.refreshes == before + 1  # the server did the work


def test_index_rebuild_is_refused_while_served(live, tree, capsys):
    assert main(["index", str(tree), "--rebuild"]) == 1
    err = capsys.readouterr().err
    assert "loracode serve" in err and "only writer" in err


def test_second_server_on_the_same_index_is_refused(live, warm, tiny_model):
    from loracode_qdrant import StoreLockedError

    from loracode_serve import WarmIndex

    with pytest.raises(StoreLockedError, match="already served by pid"):
        WarmIndex(warm.root, model=tiny_model)


def test_stale_record_is_ignored(tmp_path):
    write_server_file(
        tmp_path, ServerInfo(pid=2**22 + 7, host="127.0.0.1", port=1, root="/x", index_dir=str(tmp_path))
    )
    assert find_server(tmp_path) is None


def test_record_of_a_live_pid_that_does_not_answer_is_ignored(tmp_path):
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))  # a port nobody listens on
        port = sock.getsockname()[1]
    write_server_file(
        tmp_path, ServerInfo(pid=os.getpid(), host="127.0.0.1", port=port, root="/x", index_dir=str(tmp_path))
    )
    assert find_server(tmp_path, timeout=2) is None


def test_record_goes_when_the_server_stops(warm):
    from loracode_serve import HttpServer, create_app

    server = HttpServer(create_app(warm), warm, "127.0.0.1", 0).start()
    assert read_server_file(warm.index_dir) is not None
    server.stop()
    assert read_server_file(warm.index_dir) is None
