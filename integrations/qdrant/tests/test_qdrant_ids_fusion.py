from __future__ import annotations

import uuid

import pytest

from loracode_qdrant.fusion import reciprocal_rank_fusion
from loracode_qdrant.ids import chunk_ids_for_file, chunk_point_id, file_point_id


def test_ids_are_uuids_stable_and_content_derived() -> None:
    a = chunk_ids_for_file("src/a.py", ["h1", "h2", "h1"])
    assert a == chunk_ids_for_file("src/a.py", ["h1", "h2", "h1"])
    assert len(set(a)) == 3
    assert all(uuid.UUID(i).version == 5 for i in a)
    # inserting a chunk above does not renumber the others
    b = chunk_ids_for_file("src/a.py", ["h0", "h1", "h2", "h1"])
    assert b[1:] == a
    assert chunk_point_id("src/b.py", "h1") != a[0]
    assert file_point_id("src/a.py") not in a


def test_rrf_interleaves_and_sums() -> None:
    fused = reciprocal_rank_fusion([[("a", 0.9), ("b", 0.5)], [("c", 0.95), ("d", 0.1)]])
    assert [k for k, _ in fused] == ["c", "a", "b", "d"]  # tie at each rank broken by raw score
    assert fused[1][1] == pytest.approx(1 / 61)
    both = reciprocal_rank_fusion([[("a", 0.1), ("b", 0.2)], [("b", 0.3)]])
    assert both[0] == ("b", pytest.approx(1 / 62 + 1 / 61))
    with pytest.raises(ValueError, match="k must be"):
        reciprocal_rank_fusion([], k=-1)
