"""The one-request search's pieces that need no server: its hit fields, its answer check, index lookup.

Against a live server it is tested in ``integrations/serve/tests/test_fast_search.py``.
"""

from __future__ import annotations

import dataclasses
import json

from loracode_qdrant.defaults import nearest_indexed_folder
from loracode_qdrant.hit_text import HIT_FIELDS, format_hits
from loracode_qdrant.hits import Hit
from loracode_qdrant.server_search import _hits

HIT = {"path": "a.py", "start_line": 1, "end_line": 2, "symbol": "f", "kind": "function",
       "language": "python", "score": 0.5, "text": "def f():\n    pass", "space": "base", "rank_score": 0.5,
       "parts": 1}  # fmt: skip


def test_hit_fields_are_the_dataclass_fields():
    assert HIT_FIELDS == tuple(f.name for f in dataclasses.fields(Hit))


def test_format_hits_prints_a_hit_and_its_plain_twin_alike():
    from types import SimpleNamespace

    hit = Hit(**{**HIT, "parts": 3})
    assert format_hits([hit], 1) == format_hits([SimpleNamespace(**hit.to_dict())], 1)
    assert format_hits([hit], 1) == "a.py:1  f  0.500 [python, function, best of 3 parts]\n    def f():"


def _answer(body: bytes, status: bytes = b"200 OK", length: int | None = None) -> bytes:
    size = len(body) if length is None else length
    head = f"HTTP/1.1 {status.decode()}\r\ncontent-type: application/json\r\ncontent-length: {size}\r\n\r\n"
    return head.encode() + body


def test_only_a_complete_200_with_hits_is_accepted():
    body = json.dumps({"object": "list", "data": [{**HIT, "snippet": "def f():"}]}).encode()
    assert _hits(_answer(body)) == [{**HIT, "snippet": "def f():"}]
    assert _hits(_answer(json.dumps({"data": []}).encode())) == []
    assert _hits(_answer(body, b"409 Conflict")) is None
    assert _hits(_answer(body[:-5], length=len(body))) is None  # cut short
    assert _hits(_answer(json.dumps({"data": [{"path": "a.py"}]}).encode())) is None  # fields missing
    assert _hits(_answer(b"[]")) is None
    assert _hits(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n" + body) is None
    assert _hits(b"") is None


def test_nearest_indexed_folder(tmp_path):
    (tmp_path / "repo" / ".loracode" / "shard").mkdir(parents=True)
    (tmp_path / "repo" / "src" / "deep").mkdir(parents=True)
    assert nearest_indexed_folder(str(tmp_path / "repo" / "src" / "deep")) == str(tmp_path / "repo")
    (tmp_path / "other" / ".loracode").mkdir(parents=True)
    (tmp_path / "other" / ".loracode" / "last_run.json").write_text("{}")  # a first run still going
    assert nearest_indexed_folder(str(tmp_path / "other")) == str(tmp_path / "other")
    (tmp_path / "empty" / ".loracode").mkdir(parents=True)  # a folder without an index in it
    assert nearest_indexed_folder(str(tmp_path / "empty")) is None
