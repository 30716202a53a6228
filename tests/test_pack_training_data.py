"""trainers/gpu/pack_training_data.py: what a packed record keeps."""

from __future__ import annotations

from conftest import load_script

pack = load_script("trainers/gpu/pack_training_data.py")


def test_packed_record_keeps_what_eval_and_mining_read():
    record = {"id": "python-1", "query": "q" * 1500, "code": "x" * 2000, "language": "python",
              "package": "pkg", "path": "pkg/a.py", "line": 3, "func_name": "f", "code_sha": "abc"}  # fmt: skip
    trimmed = pack.trim(record, 1200)
    assert trimmed == {"id": "python-1", "query": "q" * 1000, "code": "x" * 1200, "language": "python",
                       "package": "pkg", "path": "pkg/a.py"}  # fmt: skip
    assert pack.trim({"query": "q", "code": "c", "language": "go"}, 10) == {
        "query": "q",
        "code": "c",
        "language": "go",
    }
