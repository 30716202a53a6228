"""CodeIndex with the fake model on both stores: Qdrant Edge, and qdrant-client's in-memory server."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from qdrant_client import QdrantClient

from loracode_qdrant import CodeIndex, EdgeStore, ServerStore, StoreLockedError
from loracode_qdrant.fusion import reciprocal_rank_fusion
from loracode_qdrant.ids import file_point_id
from loracode_qdrant.index import GROUP_FETCH
from loracode_qdrant.store import StoredPoint
from loracode_qdrant.testing import FakeModel, write_tree


@pytest.fixture(params=["edge", "server"])
def make_index(request, tmp_path: Path):
    """Build CodeIndex objects sharing one store of the parametrised kind."""
    client = QdrantClient(":memory:") if request.param == "server" else None
    made = []

    def make(root: Path, model=None, **kwargs) -> CodeIndex:
        store = ServerStore(client, "test") if client is not None else None
        index = CodeIndex(root, model=model or FakeModel(), store=store, index_dir=tmp_path / "idx", **kwargs)
        made.append(index)
        return index

    yield make
    for index in made:
        index.close()


def stored(index: CodeIndex) -> dict[str, dict]:
    """Every chunk point: id -> payload."""
    return {h.id: h.payload for h in index.store.scroll("chunk")}


def embedded(model: FakeModel) -> int:
    return sum(n for method, n, _ in model.calls if method == "encode_code")


def test_index_then_search(make_index, small_tree: Path) -> None:
    index = make_index(small_tree)
    summary = index.index()
    assert (summary.added, summary.updated, summary.unchanged, summary.deleted) == (3, 0, 0, 0)
    assert summary.skipped == {"unknown-language": 1}
    assert summary.chunks_total == summary.chunks_embedded == len(stored(index)) > 3
    hits = index.search("retry an http request with backoff", k=3)
    assert hits[0].path == "net.py" and hits[0].symbol == "fetch_with_retry" and hits[0].start_line == 5
    assert hits[0].score >= hits[1].score
    assert "def fetch_with_retry" in hits[0].snippet()
    assert index.search("reverse words", language="go", k=5)[0].symbol == "ReverseWords"
    assert {h.language for h in index.search("parse config", language="python", k=10)} == {"python"}
    assert {h.path for h in index.search("value", k=10, path_glob="pkg/*.py")} == {"pkg/parse.py"}
    assert index.search("value", k=10, path_glob="nothing/**") == []


def test_rerun_is_idempotent_and_embeds_nothing(make_index, small_tree: Path) -> None:
    index = make_index(small_tree)
    index.index()
    before = stored(index)
    model = index.model
    model.calls.clear()
    summary = index.index()
    assert (summary.added, summary.updated, summary.unchanged, summary.deleted) == (0, 0, 3, 0)
    assert embedded(model) == 0 and summary.chunks_embedded == 0
    assert stored(index) == before


def test_edit_rename_delete_leave_no_stale_points(make_index, small_tree: Path, tmp_path: Path) -> None:
    index = make_index(small_tree)
    index.index()
    model = index.model
    # edit one function in net.py: only that chunk is embedded again
    net = small_tree / "net.py"
    net.write_text(net.read_text().replace("return self.data.get(key)", "return self.data.get(key, None)"))
    (small_tree / "pkg" / "parse.py").rename(small_tree / "pkg" / "parsing.py")  # rename
    (small_tree / "cmd" / "main.go").unlink()  # delete
    model.calls.clear()
    summary = index.index()
    assert (summary.added, summary.updated, summary.unchanged, summary.deleted) == (1, 1, 0, 2)
    assert summary.chunks_embedded == 1  # the edited class; the rename reuses vectors by content
    assert embedded(model) == 1
    # the store equals a clean index of the same tree
    clean_tree = shutil.copytree(small_tree, tmp_path / "clean" / "repo")
    clean = CodeIndex(clean_tree, model=FakeModel(), index_dir=tmp_path / "clean-idx")
    clean.index()
    assert stored(index) == stored(clean)
    assert {h.payload["path"] for h in index.store.scroll("file")} == {"net.py", "pkg/parsing.py"}
    clean.close()


def test_file_record_lists_its_chunks(make_index, small_tree: Path) -> None:
    index = make_index(small_tree)
    index.index()
    record = index.store.retrieve([file_point_id("net.py")])[0].payload
    chunk_ids = {i for i, p in stored(index).items() if p["path"] == "net.py"}
    assert set(record["chunk_ids"]) == chunk_ids and record["chunk_count"] == len(chunk_ids)


def test_other_model_or_chunker_is_refused_before_any_write(
    make_index, small_tree: Path, monkeypatch
) -> None:
    index = make_index(small_tree)
    index.index()
    before = stored(index)
    meta = index.store.read_meta()
    index.close()
    other = make_index(small_tree, FakeModel(fingerprint="another-model"))
    (small_tree / "new.py").write_text("def added(): pass\n")
    with pytest.raises(ValueError, match="model fingerprint"):
        other.index()
    with pytest.raises(ValueError, match="model fingerprint"):
        other.search("anything")
    other.close()
    monkeypatch.setattr("loracode_qdrant.index.CHUNKER_VERSION", "999")
    third = make_index(small_tree)
    with pytest.raises(ValueError, match="chunker version"):
        third.index()
    third.close()
    monkeypatch.undo()
    check = make_index(small_tree)
    check._open(for_write=False)
    assert stored(check) == before and check.store.read_meta() == meta


def test_rebuild_replaces_a_store_of_another_model(make_index, small_tree: Path) -> None:
    first = make_index(small_tree)
    first.index()
    first.close()
    other = make_index(small_tree, FakeModel(fingerprint="another-model", dim=32))
    with pytest.raises(ValueError, match="embedding size"):
        other.index()
    summary = other.index(rebuild=True)
    assert summary.added == 3 and other.store.read_meta()["dim"] == 32


def test_adapter_spaces_fusion_and_unified_mode(make_index, small_tree: Path) -> None:
    adapters = ("text2code-python", "text2code-go", "text2code", "code2code")
    model = FakeModel(adapters=adapters)
    index = make_index(small_tree, model, spaces="all")
    index.index()
    point = next(iter(index.store.vectors_by_hash([next(iter(stored(index).values()))["content_hash"]])))
    lang = point.payload["language"]
    assert set(point.vectors) == {f"text2code-{lang}", "text2code", "code2code", "bm25-code"}  # + sparse
    model.calls.clear()
    searches: list[tuple[str, list[str] | None]] = []
    payload_wanted: list[bool] = []
    real_search = index.store.search

    def spy(space, vector, limit, languages=None, paths=None, *, with_payload=True):  # type: ignore[no-untyped-def]
        searches.append((space, languages))
        payload_wanted.append(with_payload)
        return real_search(space, vector, limit, languages=languages, paths=paths, with_payload=with_payload)

    real_many = index.store.search_many
    batches: list[int] = []

    def spy_many(items, limit, paths=None, *, with_payload=True):  # type: ignore[no-untyped-def]
        batches.append(len(items))
        searches.extend((space, languages) for space, _, languages in items)
        payload_wanted.extend([with_payload] * len(items))
        return real_many(items, limit, paths=paths, with_payload=with_payload)

    index.store.search = spy  # type: ignore[method-assign]
    index.store.search_many = spy_many  # type: ignore[method-assign]
    hits = index.search("reverse the words of a sentence", k=4, mode="per-language")
    # A language adapter's space holds only that language's chunks: no language filter needed there.
    assert sorted(searches) == [("text2code-go", None), ("text2code-python", None)]
    assert batches == [2]  # the spaces in one call
    assert payload_wanted == [False, False]  # fused: ids and scores only, payloads of the kept hits after
    queries = [adapter for method, _, adapter in model.calls if method == "encode_query"]
    assert sorted(queries) == ["text2code-go", "text2code-python"]  # one query per language space
    assert {h.space for h in hits} == {"text2code-go", "text2code-python"}
    assert hits[0].symbol == "ReverseWords"
    assert [h.rank_score for h in hits] == sorted((h.rank_score for h in hits), reverse=True)
    unified = index.search("reverse the words of a sentence", k=4, mode="unified")
    assert {h.space for h in unified} == {"text2code"} and unified[0].symbol == "ReverseWords"
    code = index.search("def parse(s): return json.loads(s)", language="python", k=1, mode="per-language")
    assert code[0].space == "code2code" and code[0].symbol == "parse_config"
    searches.clear()
    payload_wanted.clear()
    assert index.search("reverse the words", k=2, languages=["go"], mode="per-language")[0].language == "go"
    assert searches == [("text2code-go", None)] and payload_wanted == [True]  # one space: no retrieve
    searches.clear()
    unified_go = index.search("reverse the words", k=2, mode="unified", languages=["go"])
    assert searches == [("text2code", ["go"])] and {h.language for h in unified_go} == {"go"}


def test_search_argument_errors(make_index, small_tree: Path, tmp_path: Path) -> None:
    index = make_index(small_tree)
    index.index()
    with pytest.raises(TypeError, match="query must be a string"):
        index.search(None)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="query must not be empty"):
        index.search("  ")
    with pytest.raises(ValueError, match="k must be"):
        index.search("x", k=0)
    with pytest.raises(ValueError, match="Unknown language 'klingon'"):
        index.search("x", language="klingon")
    with pytest.raises(ValueError, match="mode must be"):
        index.search("x", mode="fast")


def test_missing_index_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="No index at"):
        CodeIndex(tmp_path, model=FakeModel()).search("anything")


def test_second_process_on_edge_store_fails_at_once(small_tree: Path, tmp_path: Path) -> None:
    first = CodeIndex(small_tree, model=FakeModel(), index_dir=tmp_path / "idx")
    first.index()
    first._open(for_write=True)
    second = CodeIndex(small_tree, model=FakeModel(), index_dir=tmp_path / "idx")
    with pytest.raises(StoreLockedError, match="in use by another loracode process"):
        second.index()
    with pytest.raises(StoreLockedError):
        EdgeStore(tmp_path / "idx").open(["base"], 64)
    before = stored(first)
    first.close()
    assert CodeIndex(small_tree, model=FakeModel(), index_dir=tmp_path / "idx").index().unchanged == 3
    reopened = CodeIndex(small_tree, model=FakeModel(), index_dir=tmp_path / "idx")
    reopened._open(for_write=False)
    assert stored(reopened) == before
    reopened.close()


def test_default_store_lives_in_the_tree(small_tree: Path) -> None:
    with CodeIndex(small_tree, model=FakeModel()) as index:
        index.index()
    assert (small_tree / ".loracode" / "shard").is_dir()
    with CodeIndex(small_tree, model=FakeModel()) as again:  # .loracode itself is never indexed
        assert again.index().unchanged == 3


def test_hostile_files_are_counted_not_fatal(tmp_path: Path) -> None:
    root = write_tree(tmp_path / "hostile", {
        "ok.py": "def fine():\n    return 1\n",
        "latin1.py": "s = 'caf\xe9'\n".encode("latin-1"),
        "utf16.py": "def wide():\n    return 'é'\n".encode("utf-16"),
        "nul.py": b"x = 1\x00\x00",
        "deep.py": b"x = " + b"[" * 100_000 + b"]" * 100_000 + b"\n",
        "huge.py": b"x = 1\n" * 400_000,
    })  # fmt: skip
    (root / "loop").symlink_to(root, target_is_directory=True)
    with CodeIndex(root, model=FakeModel(max_seq_length=64), index_dir=tmp_path / "idx") as index:
        summary = index.index()
        assert (summary.added, summary.lossy_utf8, summary.transcoded_utf16) == (3, 1, 1)
        assert summary.skipped == {"binary": 1, "minified": 1, "symlink": 1, "too-large": 1}
        assert index.search("wide", k=1)[0].symbol == "wide"


def test_query_threads_are_restored() -> None:
    import torch

    from loracode_qdrant.index import _torch_threads

    torch.set_num_threads(2)
    with _torch_threads(1):
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == 2
    with _torch_threads(None):
        assert torch.get_num_threads() == 2


def test_empty_tree_indexes_and_searches_to_nothing(make_index, tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "notes.txt").write_text("no code here\n")
    index = make_index(empty)
    summary = index.index()
    assert (summary.files, summary.chunks_total, summary.skipped) == (0, 0, {"unknown-language": 1})
    assert index.search("anything") == []
    assert index.search("anything", mode="unified") == []


def test_leftover_hnsw_build_of_a_killed_run_is_removed_on_write_open(tmp_path: Path) -> None:
    """A kill during an HNSW build leaves shard/temp_segments/<builder>; the next writer deletes it."""
    store = EdgeStore(tmp_path / "idx")
    store.open(["base"], 3)
    store.upsert([StoredPoint("6f1b8d0e-0000-5000-8000-000000000001", {"base": [1.0, 0.0, 0.0]},
                              {"record": "chunk", "path": "a.py", "language": "python"})])  # fmt: skip
    store.close()
    builder = tmp_path / "idx" / "shard" / "temp_segments" / "segment_builder_x"
    (builder / "vector_storage").mkdir(parents=True)
    (builder / "vector_storage" / "page_0.dat").write_bytes(b"\0" * 4096)
    reader = EdgeStore(tmp_path / "idx", read_only=True)
    reader.open(["base"], 3)  # a search leaves it alone
    reader.close()
    assert builder.exists()
    store = EdgeStore(tmp_path / "idx")
    store.open(["base"], 3)
    assert not builder.exists()
    assert [h.payload["path"] for h in store.search("base", [1.0, 0.0, 0.0], limit=5)] == ["a.py"]
    store.close()


@pytest.mark.parametrize("kind", ["edge", "server"])
def test_vector_search_returns_only_chunks(kind: str, tmp_path: Path) -> None:
    """File and meta records have no vectors: a search in a named space never returns them, even
    without a `record` filter, with a path or language filter they match, and with a limit larger than
    the number of chunks; before and after the store's optimize(). (The search relies on it.)"""
    store = EdgeStore(tmp_path / "idx") if kind == "edge" else ServerStore(QdrantClient(":memory:"), "t")
    store.open(["base", "other"], 3)
    chunks = [
        StoredPoint(f"6f1b8d0e-0000-5000-8000-00000000000{i}", {"base": [1.0, float(i), 0.0]},
                    {"record": "chunk", "path": "a.py", "language": "python", "text": f"chunk {i}"})
        for i in range(1, 4)
    ]  # fmt: skip
    only_other = StoredPoint("6f1b8d0e-0000-5000-8000-000000000009", {"other": [1.0, 0.0, 0.0]},
                             {"record": "chunk", "path": "a.py", "language": "python"})  # fmt: skip
    store.upsert([*chunks, only_other])
    record = {"record": "file", "path": "a.py", "language": "python"}
    store.upsert([StoredPoint(file_point_id("a.py"), {}, record)])
    store.write_meta({"languages": ["python"], "path": "a.py", "language": "python"})
    expected = {c.id for c in chunks}
    for _ in range(2):
        assert store.count() == 6
        for kwargs in ({}, {"paths": ["a.py"]}, {"languages": ["python"]}):
            hits = store.search("base", [1.0, 0.0, 0.0], limit=50, **kwargs)
            assert {h.id for h in hits} == expected, kwargs
            assert {h.payload["record"] for h in hits} == {"chunk"}
        bare = store.search("base", [1.0, 0.0, 0.0], limit=50, with_payload=False)
        assert {h.id for h in bare} == expected and all(h.payload == {} for h in bare)
        assert [h.id for h in store.search("other", [1.0, 0.0, 0.0], limit=50)] == [only_other.id]
        store.optimize()
    store.close()


@pytest.mark.parametrize("query", ["reverse the words of a sentence", "parse a config value", "retry"])
def test_fused_search_gives_the_hits_of_full_payload_searches(
    make_index, small_tree: Path, query: str
) -> None:
    """The fused search (ids and scores per space, then one retrieve of the kept hits) returns exactly
    what searching every space with full payloads and fusing those lists gives."""
    model = FakeModel(adapters=("text2code-python", "text2code-go", "text2code", "code2code"))
    index = make_index(small_tree, model)
    index.index()
    retrieved: list[list[str]] = []
    real_retrieve = index.store.retrieve

    def spy(ids, with_vectors=False):  # type: ignore[no-untyped-def]
        retrieved.append(list(ids))
        return real_retrieve(ids, with_vectors=with_vectors)

    index.store.retrieve = spy  # type: ignore[method-assign]
    for k in (1, 3, 10):
        retrieved.clear()
        hits = index.search(query, k=k, mode="per-language")
        # the reference: each language space searched with full payloads (as before), fused by RRF;
        # GROUP_FETCH chunks per hit wanted are fetched (no chunk of this tree is a part, so none merge)
        lists, payloads = [], {}
        limit = k * GROUP_FETCH
        for space in ("text2code-go", "text2code-python"):
            vec = model.encode_query([query], adapter=space)[0].tolist()
            full = index.store.search(space, vec, limit)
            lists.append([(h.id, h.score) for h in full])
            for h in full:
                payloads.setdefault(h.id, (h, space))
        fetched = reciprocal_rank_fusion(lists)[:limit]
        want = fetched[:k]
        assert [(h.path, h.start_line, h.symbol, h.text, h.space, h.score, h.rank_score) for h in hits] == [
            (payloads[i][0].payload["path"], payloads[i][0].payload["start_line"],
             payloads[i][0].payload.get("symbol"), payloads[i][0].payload["text"], payloads[i][1],
             round(payloads[i][0].score, 6), round(float(r), 6))
            for i, r in want
        ]  # fmt: skip
        assert len(hits) == min(k, index.store.count("chunk"))
        assert retrieved == [[i for i, _ in fetched]]  # one retrieve, of the fused candidates only


@pytest.mark.parametrize("kind", ["edge", "server"])
def test_search_many_equals_one_search_each(kind: str, tmp_path: Path) -> None:
    """search_many gives, per item, exactly what search gives, filters and payload choice included."""
    import numpy as np

    store = EdgeStore(tmp_path / "idx") if kind == "edge" else ServerStore(QdrantClient(":memory:"), "t")
    store.open(["a", "b"], 8)
    rng = np.random.default_rng(0)
    points = []
    for i in range(60):
        language, path = ("python", f"p{i % 4}.py") if i % 2 else ("go", f"g{i % 3}.go")
        vectors = {"a": rng.standard_normal(8).tolist()}
        if i % 3:
            vectors["b"] = rng.standard_normal(8).tolist()
        payload = {"record": "chunk", "path": path, "language": language, "i": i}
        points.append(StoredPoint(f"6f1b8d0e-0000-5000-8000-{i:012d}", vectors, payload))
    store.upsert(points)
    searches = [
        ("a", rng.standard_normal(8).tolist(), None),
        ("b", rng.standard_normal(8).tolist(), ["go"]),
        ("a", rng.standard_normal(8).tolist(), ["python", "go"]),
    ]
    for paths in (None, ["p1.py", "g2.go"]):
        for with_payload in (True, False):
            many = store.search_many(searches, 7, paths=paths, with_payload=with_payload)
            one = [store.search(s, v, 7, languages=langs, paths=paths, with_payload=with_payload)
                   for s, v, langs in searches]  # fmt: skip
            assert [[(h.id, round(h.score, 5), h.payload) for h in hits] for hits in many] == [
                [(h.id, round(h.score, 5), h.payload) for h in hits] for hits in one
            ]
            assert all(len(hits) > 0 for hits in many)
    assert store.search_many([], 5) == []
    store.close()


def test_identical_chunks_in_one_run_are_embedded_once(make_index, tmp_path: Path) -> None:
    body = "def same(value):\n    return value * 2\n"
    root = tmp_path / "repo"
    root.mkdir()
    for name, text in {"a.py": body, "b.py": body, "c.py": "def other():\n    return 3\n"}.items():
        (root / name).write_text(text)
    model = FakeModel()
    index = make_index(root, model)
    summary = index.index()
    assert (summary.chunks_embedded, summary.chunks_reused, summary.chunks_total) == (2, 1, 3)
    assert sum(n for method, n, _ in model.calls if method == "encode_code") == 2
    points = {h.payload["path"]: h.id for h in index.store.scroll("chunk", ["path"])}
    retrieved = index.store.retrieve(list(points.values()), with_vectors=True)
    vectors = {h.id: h.vectors["base"] for h in retrieved}
    assert vectors[points["a.py"]] == vectors[points["b.py"]] != vectors[points["c.py"]]
