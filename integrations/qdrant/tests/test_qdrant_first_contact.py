"""What a new user meets: the truth about an interrupted index, `status`, one hit per definition, clear
messages, and arguments refused before any model loads."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from loracode_qdrant import CodeIndex, RunRecord, group_hits
from loracode_qdrant import cli as qcli
from loracode_qdrant.index import definition_key
from loracode_qdrant.runlog import read_run_file
from loracode_qdrant.testing import FakeModel, write_tree

QDRANT_DIR = Path(__file__).resolve().parents[1]


@pytest.fixture
def loracode_main(loracode_main, monkeypatch):
    """The shared ``loracode`` entry point (conftest.py), with FakeModel as the model."""
    monkeypatch.setattr(qcli, "load_model", lambda *args, **kwargs: FakeModel())
    return loracode_main


def _many_files(root: Path, n: int) -> Path:
    files = {
        f"pkg/mod{i:03d}.py": f"def handler_{i}(request):\n    return respond(request, {i})\n\n\n"
        f"def helper_{i}(value):\n    return value * {i}\n"
        for i in range(n)
    }
    return write_tree(root, files)


# ---------------------------------------------------------------- an interrupted index, for real

_SLOW_INDEXER = textwrap.dedent(
    """
    import sys, time
    from loracode_qdrant import CodeIndex
    from loracode_qdrant.testing import FakeModel

    class SlowModel(FakeModel):
        def encode_code(self, texts, *args, **kwargs):
            time.sleep(0.2)  # slow enough to be killed mid-run
            return super().encode_code(texts, *args, **kwargs)

    CodeIndex(sys.argv[1], model=SlowModel(), batch_size=1, show_progress=False).index()
    """
)


def _start_slow_index(root: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", _SLOW_INDEXER, str(root)], cwd=QDRANT_DIR)


def _wait_for_progress(root: Path, files_done: int, proc: subprocess.Popen) -> RunRecord:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        run = read_run_file(root / ".loracode")
        if run is not None and run.files_done >= files_done and run.chunks_done > 0:
            return run
        assert proc.poll() is None, "the indexer ended before it could be killed"
        time.sleep(0.05)
    raise AssertionError("the indexer made no progress")


def test_search_after_kill_9_says_the_index_is_incomplete(loracode_main, tmp_path, capsys, monkeypatch):
    root = _many_files(tmp_path / "repo", 40)
    proc = _start_slow_index(root)
    try:
        _wait_for_progress(root, 3, proc)
        monkeypatch.chdir(root)
        # while it runs: the search says an index run is in progress (it cannot open the store)
        assert loracode_main(["search", "respond to the request"]) == 1
        err = capsys.readouterr().err
        assert "`loracode index` of" in err and "is running" in err and "Search again when" in err
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    assert proc.returncode == -signal.SIGKILL
    run = read_run_file(root / ".loracode")
    assert run is not None and run.state == "running" and 0 < run.files_done < 40

    assert loracode_main(["search", "respond to the request", "-k", "3"]) == 0
    captured = capsys.readouterr()
    assert "No results." not in captured.out and "handler_" in captured.out  # what is there is returned
    assert "the index is incomplete" in captured.err
    assert f"stopped after {run.files_done} of 40 files" in captured.err
    assert f"loracode index {root.resolve()}" in captured.err

    assert loracode_main(["status", "--json"]) == 0
    status = json.loads(capsys.readouterr().out)
    assert status["incomplete"] is True and status["in_progress"] is False
    # (a kill between a batch's writes and its progress record leaves more files than the record says)
    assert status["last_run"]["files_total"] == 40 and status["files"] >= run.files_done

    # the next run finishes the index, and the note goes away
    assert loracode_main(["index", str(root), "--no-progress"]) == 0
    capsys.readouterr()
    assert loracode_main(["search", "respond to the request"]) == 0
    assert "incomplete" not in capsys.readouterr().err
    assert loracode_main(["status"]) == 0
    out = capsys.readouterr().out
    assert "files: 40" in out and "last run: complete: 40 of 40 files" in out


def test_a_failed_run_is_recorded_and_reported(tmp_path: Path) -> None:
    root = _many_files(tmp_path / "repo", 12)

    class Broken(FakeModel):
        calls_left = 1  # the second embedding call fails: 12 files are 24 chunks, 16 a call

        def encode_code(self, texts, *args, **kwargs):  # type: ignore[no-untyped-def]
            Broken.calls_left -= 1
            if Broken.calls_left < 0:
                raise RuntimeError("out of memory")
            return super().encode_code(texts, *args, **kwargs)

    with CodeIndex(root, model=Broken(), batch_size=1) as index, pytest.raises(RuntimeError):
        index.index()
    run = read_run_file(root / ".loracode")
    assert run is not None and run.state == "failed" and "out of memory" in (run.error or "")
    note = qcli.incomplete_note(run, root, lock_free=True)
    assert note is not None and "run failed after" in note and "out of memory" in note


# ---------------------------------------------------------------- status


def test_status_reads_the_index_without_a_model(small_tree: Path) -> None:
    model = FakeModel(adapters=("text2code-python", "text2code", "code2code"))
    with CodeIndex(small_tree, model=model) as index:
        summary = index.index()
    with CodeIndex(small_tree) as index:
        status = index.status()
        assert index._model is None  # no model was loaded
    assert (status.files, status.chunks) == (3, summary.chunks_total)
    assert status.languages == ["go", "python"]
    assert status.spaces == ["base", "code2code", "text2code", "text2code-python"]
    assert status.adapters == ["code2code", "text2code", "text2code-python"]
    assert status.model_fingerprint == model.fingerprint
    assert status.store_bytes and status.store_bytes > 0
    assert status.last_run is not None and status.last_run.state == "complete"
    assert status.last_run.files_done == status.last_run.files_total == 3
    assert not status.incomplete and not status.in_progress
    assert json.loads(json.dumps(status.to_dict()))["last_run"]["duration"] >= 0


def test_status_without_an_index_says_what_to_run(loracode_main, tmp_path: Path, capsys, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert loracode_main(["status"]) == 1
    assert "Run `loracode index <path>` first" in capsys.readouterr().err


# ---------------------------------------------------------------- one hit per definition

LONG_PY = (
    "def transfer_funds(source, target, amount):\n"
    + "".join(f"    ledger.record(source, target, amount, step={i})\n" for i in range(30))
    + "\n\ndef audit_ledger(entries):\n    return [e for e in entries if e.amount]\n"
)


def test_parts_of_one_function_are_one_hit_and_k_counts_definitions(tmp_path: Path) -> None:
    others = {f"m{i}.py": f"def record_{i}(ledger):\n    return ledger.record({i})\n" for i in range(6)}
    root = write_tree(tmp_path / "repo", {"bank.py": LONG_PY, **others})
    with CodeIndex(root, model=FakeModel(max_seq_length=40)) as index:
        index.index()
        parts = [
            h
            for h in index.store.scroll("chunk", ["symbol", "kind"])
            if h.payload["symbol"] == "transfer_funds"
        ]
        assert len(parts) >= 3 and all(p.payload["kind"] == "function-part" for p in parts)
        for mode in ("per-language", "hybrid"):
            for k in (1, 3, 5):
                hits = index.search("ledger record source target amount step", k=k, mode=mode)
                keys = [definition_key(h) for h in hits]
                assert len(keys) == len(set(keys)) == k, mode  # k definitions, none twice
        best = index.search("ledger record source target amount step", k=5, mode="per-language")
        transfer = [h for h in best if h.symbol == "transfer_funds"]
        assert len(transfer) == 1 and transfer[0].parts >= 2
        # the hit is the best of the function's parts in the ungrouped ranking
        vec = index.model.encode_query(["ledger record source target amount step"], adapter="base")[0]
        chunks, _ = index._search_once([("base", vec.tolist(), None)], 50, None)
        assert transfer[0].score == max(h.score for h in chunks if h.symbol == "transfer_funds")


def test_group_hits_keeps_the_best_part_and_order() -> None:
    from loracode_qdrant import Hit

    def hit(path: str, line: int, symbol: str | None, kind: str, score: float) -> Hit:
        return Hit(path, line, line + 9, symbol, kind, "python", score, "", "base", score)

    hits = [hit("a.py", 20, "f", "function-part", 0.9), hit("a.py", 1, "g", "function", 0.8),
            hit("b.py", 5, "f", "function-part", 0.7), hit("a.py", 10, "f", "function-part", 0.6),
            hit("a.py", 30, None, "module", 0.5), hit("a.py", 40, None, "module", 0.4),
            hit("a.py", 50, "g", "function", 0.3)]  # fmt: skip
    grouped = group_hits(hits)
    # parts of a.py's f are one hit; two whole definitions named g (a getter and a setter) stay two
    assert [(h.path, h.start_line, h.parts) for h in grouped] == [
        ("a.py", 20, 2),
        ("a.py", 1, 1),
        ("b.py", 5, 1),
        ("a.py", 30, 1),
        ("a.py", 40, 1),
        ("a.py", 50, 1),
    ]
    assert hits[0].parts == 1  # the input is not changed


# ---------------------------------------------------------------- messages


def test_index_of_a_file_says_a_folder_is_expected(loracode_main, small_tree: Path, capsys) -> None:
    assert loracode_main(["index", str(small_tree / "net.py")]) == 1
    err = capsys.readouterr().err
    assert "is a file; loracode index takes a folder" in err
    assert f"run: loracode index {small_tree}" in err


def test_skipped_files_are_named_with_v_and_in_json(loracode_main, small_tree: Path, capsys) -> None:
    (small_tree / "big.py").write_text("x = 1\n" * 400)
    assert loracode_main(["index", str(small_tree), "--no-progress", "--max-file-kb", "1", "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert {"path": "README.md", "reason": "unknown-language"} in summary["skipped_files"]
    assert {"path": "big.py", "reason": "too-large"} in summary["skipped_files"]
    (small_tree / "big2.py").write_text("y = 2\n" * 400)
    assert loracode_main(["-v", "index", str(small_tree), "--no-progress", "--max-file-kb", "1"]) == 0
    out = capsys.readouterr().out
    assert "    README.md  (unknown-language)" in out and "    big2.py  (too-large)" in out
    assert loracode_main(["index", str(small_tree), "--no-progress", "--max-file-kb", "1"]) == 0
    assert "names each skipped file" in capsys.readouterr().out


def test_progress_counts_chunks(tmp_path: Path, capsys) -> None:
    root = _many_files(tmp_path / "repo", 5)
    with CodeIndex(root, model=FakeModel(), show_progress=True, batch_size=1) as index:
        summary = index.index()
    err = capsys.readouterr().err
    assert "Embedding" in err and f"{summary.chunks_embedded}/{summary.chunks_embedded}" in err
    assert "chunk" in err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["search", "x", "--language", "klingon"], "Unknown language 'klingon'"),
        (["search", "x", "-k", "0"], "must be a positive integer"),
        (["search", "x", "--lines", "-1"], "must be 0 or more"),
        (["index", ".", "--batch-size", "0"], "must be a positive integer"),
    ],
)
def test_bad_arguments_are_refused_by_the_parser(loracode_main, argv, message, capsys) -> None:
    with pytest.raises(SystemExit) as exit_info:
        loracode_main(argv)
    assert exit_info.value.code == 2 and message in capsys.readouterr().err


def test_search_arguments_are_checked_before_any_model_loads(tmp_path: Path) -> None:
    """A subprocess, as a user runs it: the refusal imports neither torch nor the numpy encoder."""
    code = textwrap.dedent(
        """
        import sys
        from loracode_embed.cli import main
        rc = [main(argv) for argv in (["search", "   "], ["search", "x", "--root", "/no/such/folder"])]
        heavy = {"torch", "loracode_embed.query_encoder"} & set(sys.modules)
        sys.exit(0 if rc == [1, 1] and not heavy else 3)
        """
    )
    assert subprocess.run([sys.executable, "-c", code], cwd=tmp_path).returncode == 0
