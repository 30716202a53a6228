"""Hybrid search: the identifier-aware tokenizer, BM25 vectors, and both stores' fused searches."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from qdrant_client import QdrantClient

from loracode_qdrant import CodeIndex, EdgeStore, ServerStore
from loracode_qdrant.hits import Hit
from loracode_qdrant.hybrid import SPARSE_SPACE, definitions_first, sparse_document
from loracode_qdrant.sparse import SparseEncoder, code_tokens, defined_names, identifier_names
from loracode_qdrant.store import HybridPlan, StoredPoint
from loracode_qdrant.testing import FakeModel, write_tree

ACCOUNTS_JS = """\
const ERR_ACCOUNT_LOCKED = 'account is locked after too many attempts';

function getUserById(userId) {
  return db.users.find(userId);
}

function lockAccount(user) {
  if (user.failures > 3) {
    throw new Error('account is locked after too many attempts');
  }
}
"""
CACHE_PY = """\
def cached_lookup(key, table):
    return table.get(key)


def purge_stale_entries(cache, max_age):
    for key in list(cache):
        if cache[key].age > max_age:
            del cache[key]
"""


# ------------------------------------------------------------------ tokenizer
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("getUserById", ["getuserbyid", "get", "user", "by", "id"]),
        ("HTTPServerError", ["httpservererror", "http", "server", "error"]),
        ("user_id", ["user_id", "user", "id"]),
        (
            "ERR_STREAM_WRITE_AFTER_END",
            ["err_stream_write_after_end", "err", "stream", "write", "after", "end"],
        ),
        ("max-retry-count", ["max-retry-count", "max", "retry", "count"]),
        ("os.path.join", ["os.path.join", "os", "path", "join"]),
        ("std::vector", ["std::vector", "std", "vector"]),
        ("src/http/client.py", ["src/http/client.py", "client.py", "src", "http", "client", "py"]),
        ("raise ValueError('bad port')", ["raise", "valueerror", "value", "error", "bad", "port"]),
        ("$scope.userName", ["$scope.username", "$scope", "scope", "username", "user", "name"]),
        ("parseJSON2XML", ["parsejson2xml", "parse", "json", "xml"]),
        ("x + y", ["x", "y"]),
        ("", []),
        ("... !!! ;;", []),
    ],
)
def test_code_tokens_keep_the_whole_name_and_its_parts(text: str, expected: list[str]) -> None:
    assert code_tokens(text) == expected


def test_code_tokens_rejects_non_text() -> None:
    with pytest.raises(TypeError, match="text must be a string, got bytes"):
        code_tokens(b"abc")  # type: ignore[arg-type]


def test_code_tokens_drops_data_blobs() -> None:
    blob = "a" * 200
    assert code_tokens(f"key = '{blob}'") == ["key"]


# ------------------------------------------------------------------ BM25 vectors
def test_query_and_document_vectors_share_term_ids() -> None:
    enc = SparseEncoder()
    doc = enc.encode_document("function getUserById(userId) { return db.users.find(userId); }")
    query = enc.encode_query("getUserById")
    assert set(query.indices) <= set(doc.indices)
    assert query.values == [1.0] * len(query.indices)
    assert doc.indices == sorted(set(doc.indices))


def test_document_weights_follow_term_frequency_not_the_corpus() -> None:
    enc = SparseEncoder()
    once = enc.encode_document("retry backoff")
    twice = enc.encode_document("retry retry backoff")
    term = enc.encode_query("retry").indices[0]
    weight = lambda v: dict(zip(v.indices, v.values, strict=True))[term]  # noqa: E731
    assert weight(twice) > weight(once)
    # the same chunk gets the same vector whatever else is indexed: IDF is the store's job
    assert SparseEncoder().encode_document("retry backoff") == once


def test_stop_words_and_punctuation_give_an_empty_query() -> None:
    enc = SparseEncoder()
    assert not enc.encode_query("the of and is")
    assert not enc.encode_query("  ;;; ")
    assert enc.encode_query("retries").indices == enc.encode_query("retry").indices  # stemmed


@pytest.mark.parametrize(
    ("arg", "value", "error"),
    [("b", 1.5, ValueError), ("k", -1, ValueError), ("avg_len", 0, ValueError), ("k", "1", TypeError)],
)
def test_encoder_arguments_are_checked(arg: str, value: object, error: type) -> None:
    with pytest.raises(error, match=f"{arg} must"):
        SparseEncoder(**{arg: value})  # type: ignore[arg-type]


def test_file_path_is_part_of_a_chunk_vector() -> None:
    query = SparseEncoder().encode_query("rate_limiter.py")
    assert set(query.indices) <= set(sparse_document("net/rate_limiter.py", "x = 1").indices)


# ------------------------------------------------------------------ index and stores
@pytest.fixture(params=["edge", "server"])
def hybrid_index(request, tmp_path: Path):
    root = write_tree(tmp_path / "repo", {"accounts.js": ACCOUNTS_JS, "cache.py": CACHE_PY})
    store = ServerStore(QdrantClient(":memory:"), "t") if request.param == "server" else None
    index = CodeIndex(root, model=FakeModel(), store=store, index_dir=tmp_path / "idx")
    index.index()
    yield index
    index.close()


@pytest.mark.parametrize("mode", ["hybrid", "sparse"])
def test_exact_identifiers_rank_first(hybrid_index: CodeIndex, mode: str) -> None:
    assert hybrid_index.search("getUserById", k=3, mode=mode)[0].symbol == "getUserById"
    assert hybrid_index.search("purge_stale_entries", k=3, mode=mode)[0].symbol == "purge_stale_entries"
    top = hybrid_index.search("ERR_ACCOUNT_LOCKED", k=3, mode=mode)[0]
    assert (top.path, top.start_line) == ("accounts.js", 1)


def test_default_mode_is_hybrid(hybrid_index: CodeIndex) -> None:
    hits = hybrid_index.search("getUserById", k=2)
    assert hits[0].symbol == "getUserById" and {h.space for h in hits} == {"hybrid"}


def test_hybrid_hits_carry_the_fused_score(hybrid_index: CodeIndex) -> None:
    hits = hybrid_index.search("lockAccount user failures", k=5, mode="hybrid")
    assert hits[0].symbol == "lockAccount"
    assert all(h.space == "hybrid" and h.score == h.rank_score for h in hits)
    assert [h.rank_score for h in hits] == sorted((h.rank_score for h in hits), reverse=True)
    sparse = hybrid_index.search("lock account after attempts", k=5, mode="sparse")
    assert all(h.space == SPARSE_SPACE for h in sparse)


def test_hybrid_respects_language_and_path_filters(hybrid_index: CodeIndex) -> None:
    for mode in ("hybrid", "sparse"):
        assert {h.language for h in hybrid_index.search("key table cache", mode=mode, language="python")} == {
            "python"
        }
        assert {h.path for h in hybrid_index.search("getUserById", mode=mode, path_glob="*.py")} <= {
            "cache.py"
        }
        assert hybrid_index.search("getUserById", mode=mode, language="go") == []


@pytest.mark.parametrize("mode", ["hybrid", "sparse", "per-language"])
def test_bad_queries_answer_or_fail_clearly(hybrid_index: CodeIndex, mode: str) -> None:
    with pytest.raises(ValueError, match="query must not be empty"):
        hybrid_index.search("   ", mode=mode)
    one_symbol = hybrid_index.search(".", k=3, mode=mode)
    stop_words = hybrid_index.search("the of and is", k=3, mode=mode)
    if mode == "sparse":  # nothing to match on: no hit, not an error
        assert one_symbol == [] and stop_words == []
    else:  # the dense legs still answer
        assert len(one_symbol) == 3 and len(stop_words) == 3
    long_query = ("def getUserById(user_id): return db.users.find(user_id)\n" * 200)[:10_000]
    assert len(long_query) == 10_000
    assert hybrid_index.search(long_query, k=3, mode=mode)[0].symbol == "getUserById"


def test_unknown_mode_names_the_choices(hybrid_index: CodeIndex) -> None:
    with pytest.raises(ValueError, match="mode must be one of .*'hybrid'.*got 'bm25'"):
        hybrid_index.search("x", mode="bm25")


def test_reindexing_stays_incremental_and_keeps_sparse_in_step(hybrid_index: CodeIndex) -> None:
    root = hybrid_index.root
    assert root is not None
    again = hybrid_index.index()
    assert (again.chunks_embedded, again.unchanged) == (0, 2)
    assert hybrid_index.search("getUserById", mode="sparse")[0].symbol == "getUserById"
    (root / "accounts.js").write_text(ACCOUNTS_JS.replace("getUserById", "findAccountByEmail"))
    changed = hybrid_index.index()
    assert changed.updated == 1 and changed.chunks_reused >= 1  # unchanged functions keep their vectors
    assert hybrid_index.search("findAccountByEmail", mode="sparse")[0].symbol == "findAccountByEmail"
    assert all(h.symbol != "getUserById" for h in hybrid_index.search("getUserById", mode="sparse"))


def test_adding_files_leaves_stored_sparse_weights_alone(hybrid_index: CodeIndex) -> None:
    def sparse_vectors() -> dict[str, object]:
        ids = [h.id for h in hybrid_index.store.scroll("chunk", ["path"]) if h.payload["path"] == "cache.py"]
        return {h.id: h.vectors[SPARSE_SPACE] for h in hybrid_index.store.retrieve(ids, with_vectors=True)}

    before = sparse_vectors()
    assert before
    root = hybrid_index.root
    assert root is not None
    (root / "more.py").write_text(
        "def cached_lookup_many(keys, table):\n    return [table.get(k) for k in keys]\n"
    )
    hybrid_index.index()
    after = sparse_vectors()
    assert {k: (list(v.indices), list(v.values)) for k, v in after.items()} == {
        k: (list(v.indices), list(v.values)) for k, v in before.items()
    }


def test_index_built_before_hybrid_search_is_upgraded_in_place(hybrid_index: CodeIndex) -> None:
    store = hybrid_index.store
    meta = store.read_meta()
    assert meta is not None
    store.write_meta({k: v for k, v in meta.items() if k != "sparse"})  # as an older loracode wrote it
    chunk_ids = [h.id for h in store.scroll("chunk", ["path"])]
    store.set_sparse({cid: SparseEncoder().encode_document("unrelated") for cid in chunk_ids}, SPARSE_SPACE)  # type: ignore[attr-defined]
    hybrid_index._meta = None
    with pytest.raises(ValueError, match="has no sparse vectors .*Run `loracode index` once"):
        hybrid_index.search("getUserById", mode="hybrid")
    assert {h.space for h in hybrid_index.search("getUserById")} == {"base"}  # default: dense until upgraded
    summary = hybrid_index.index()
    assert summary.chunks_embedded == 0  # the upgrade embeds nothing
    assert hybrid_index.search("getUserById", mode="sparse")[0].symbol == "getUserById"


def test_edge_store_gains_a_sparse_space(tmp_path: Path) -> None:
    store = EdgeStore(tmp_path / "idx")
    store.open(["base"], 3)  # an index created before hybrid search: no sparse vector declared
    store.upsert([StoredPoint("6f1b8d0e-0000-5000-8000-000000000001", {"base": [1.0, 0.0, 0.0]},
                              {"record": "chunk", "path": "a.py", "language": "python"})])  # fmt: skip
    assert not store.has_sparse(SPARSE_SPACE)
    store.add_sparse_space(SPARSE_SPACE)
    assert store.has_sparse(SPARSE_SPACE)
    enc = SparseEncoder()
    store.set_sparse(
        {"6f1b8d0e-0000-5000-8000-000000000001": enc.encode_document("getUserById")}, SPARSE_SPACE
    )
    plan = HybridPlan(dense=[], sparse_space=SPARSE_SPACE, sparse=enc.encode_query("getUserById"))
    assert [h.id for h in store.hybrid_search(plan, 5)] == ["6f1b8d0e-0000-5000-8000-000000000001"]
    assert store.retrieve(["6f1b8d0e-0000-5000-8000-000000000001"], with_vectors=True)[0].vectors["base"]
    store.close()


@pytest.mark.parametrize("fusion", ["rrf", "dbsf"])
def test_both_fusions_run_on_both_stores(hybrid_index: CodeIndex, monkeypatch, fusion: str) -> None:
    from loracode_qdrant import hybrid

    monkeypatch.setattr(hybrid, "FUSION", fusion)
    monkeypatch.setattr(hybrid, "SPARSE_WEIGHT", 2.0)
    assert hybrid_index.search("getUserById", k=2, mode="hybrid")[0].symbol == "getUserById"


def test_cli_search_mode_hybrid(loracode_main, tmp_path: Path, capsys, monkeypatch) -> None:
    root = write_tree(tmp_path / "repo", {"accounts.js": ACCOUNTS_JS, "cache.py": CACHE_PY})
    monkeypatch.setattr("loracode_qdrant.cli.load_model", lambda *a, **k: FakeModel())
    assert loracode_main(["index", str(root), "--no-progress"]) == 0
    monkeypatch.chdir(root)
    capsys.readouterr()
    assert loracode_main(["search", "getUserById", "--mode", "hybrid", "--json", "-k", "2"]) == 0
    hits = json.loads(capsys.readouterr().out)
    assert hits[0]["symbol"] == "getUserById" and hits[0]["space"] == "hybrid"
    assert loracode_main(["search", "getUserById", "--json", "-k", "1"]) == 0  # the default mode
    assert json.loads(capsys.readouterr().out)[0]["space"] == "hybrid"
    assert loracode_main(["search", "the of", "--mode", "sparse"]) == 0
    assert capsys.readouterr().out.strip() == "No results."
    assert loracode_main(["search", " ", "--mode", "hybrid"]) == 1  # a clear error, no traceback
    err = capsys.readouterr().err
    assert "the query is empty" in err and "Traceback" not in err


# ------------------------------------------------------------------ the chunk that defines a name
RETRY_PY = """\
def fetch_with_retry(url, attempts=3, backoff=0.5, timeout=10.0, session=None):
    session = session or make_session()
    delay = backoff
    for attempt in range(attempts):
        try:
            response = session.get(url, timeout=timeout)
            response.raise_for_status()
            return response
        except ConnectionError as error:
            log_warning(url, attempt, error)
            sleep_for(delay)
            delay = delay * 2
    raise GiveUp(url, attempts)
"""
# Short chunks that only mention the name: BM25 alone ranks them above the longer definition.
CALLERS_PY = """\
def load_feed(url):
    return fetch_with_retry(url) or fetch_with_retry(url, attempts=5)


def load_page(url):
    return fetch_with_retry(url)
"""


def test_defined_names_of_a_symbol() -> None:
    assert defined_names("Client.fetchWithRetry") == ["client.fetchwithretry", "fetchwithretry"]
    assert defined_names("parse") == ["parse"]
    assert defined_names(None) == [] and defined_names("") == []


@pytest.mark.parametrize(
    ("query", "names"),
    [
        ("fetch_with_retry", ["fetch_with_retry"]),
        ("getUserById", ["getuserbyid"]),
        ("Client.fetch", ["client.fetch", "client", "fetch"]),
        ("ERR_ACCOUNT_LOCKED", ["err_account_locked"]),
        ("parse", ["parse"]),  # a plain word too
        ("  Parse ", ["parse"]),
        ("fetch with retry", []),  # nor does prose
        ("account is locked after too many attempts", []),
        ("fetch_with_retry(url)", []),  # code, not a name
    ],
)
def test_identifier_queries_ask_for_definitions(query: str, names: list[str]) -> None:
    assert identifier_names(query) == names


def test_defines_terms_are_their_own_family() -> None:
    enc = SparseEncoder()
    plain = enc.encode_document("def fetch_with_retry(url): pass")
    defining = enc.encode_document("def fetch_with_retry(url): pass", defines=["fetch_with_retry"])
    asks = enc.encode_query("fetch_with_retry", defines=3.0)
    (term,) = set(asks.indices) - set(enc.encode_query("fetch_with_retry").indices)
    assert term in defining.indices and term not in plain.indices
    assert dict(zip(asks.indices, asks.values, strict=True))[term] == 3.0
    # no word of a text makes a defines term: "def:" is not a name
    assert term not in enc.encode_document("def: fetch_with_retry def:fetch_with_retry").indices
    with pytest.raises(ValueError, match="defines must be a number >= 0, got -1"):
        enc.encode_query("x", defines=-1)


@pytest.fixture(params=["edge", "server"])
def callers_index(request, tmp_path: Path):
    root = write_tree(tmp_path / "repo", {"net/retry.py": RETRY_PY, "feeds.py": CALLERS_PY})
    store = ServerStore(QdrantClient(":memory:"), "t") if request.param == "server" else None
    index = CodeIndex(root, model=FakeModel(), store=store, index_dir=tmp_path / "idx")
    index.index()
    yield index
    index.close()


@pytest.mark.parametrize("mode", ["sparse", "hybrid"])
def test_the_definition_outranks_its_call_sites(callers_index: CodeIndex, monkeypatch, mode: str) -> None:
    from loracode_qdrant import hybrid

    top = callers_index.search("fetch_with_retry", k=3, mode=mode)[0]
    assert (top.path, top.symbol) == ("net/retry.py", "fetch_with_retry")
    monkeypatch.setattr(hybrid, "DEFINES_WEIGHT", 0.0)  # as before: a caller wins
    monkeypatch.setattr(hybrid, "DEFINITIONS_FIRST", False)
    assert callers_index.search("fetch_with_retry", k=3, mode=mode)[0].path == "feeds.py"


def test_older_sparse_vectors_are_upgraded_in_place(callers_index: CodeIndex, monkeypatch) -> None:
    from loracode_qdrant import hybrid

    monkeypatch.setattr(hybrid, "DEFINITIONS_FIRST", False)  # the sparse vectors alone decide
    store = callers_index.store
    meta = store.read_meta()
    assert meta is not None and meta["sparse"] == hybrid.SPARSE_VERSION
    # as version 1 wrote them: text and path, no defines terms
    chunks = list(store.scroll("chunk", ["path", "text"]))
    store.set_sparse(  # type: ignore[attr-defined]
        {h.id: SparseEncoder().encode_document(f"{h.payload['path']}\n{h.payload['text']}") for h in chunks},
        SPARSE_SPACE,
    )
    store.write_meta({**meta, "sparse": "1"})
    callers_index._meta = None
    hits = callers_index.search("fetch_with_retry", k=3, mode="sparse")  # still searchable
    assert hits[0].path == "feeds.py" and callers_index.search("fetch_with_retry")[0].space == "hybrid"
    summary = callers_index.index()
    assert summary.chunks_embedded == 0 and summary.unchanged == 2  # recomputed, nothing embedded
    assert store.read_meta()["sparse"] == hybrid.SPARSE_VERSION  # type: ignore[index]
    assert callers_index.search("fetch_with_retry", k=3, mode="sparse")[0].path == "net/retry.py"


def _hit(path: str, symbol: str | None, text: str) -> Hit:
    return Hit(path, 1, 2, symbol, "function", "python", 0.5, text, "hybrid", 0.5)


@pytest.mark.parametrize(
    "line",
    [
        "MAX_RETRIES = 3",
        "    public static final int MAX_RETRIES = 3;",
        "export const MAX_RETRIES = 3;",
        "  MAX_RETRIES: 3,",
        "    define('MAX_RETRIES', 3);",
        "\tMAX_RETRIES time.Duration = 3",
    ],
)
def test_a_line_assigning_a_constant_defines_it(line: str) -> None:
    use = _hit("client.py", "connect", "for _ in range(MAX_RETRIES):\n    if MAX_RETRIES == 0: pass")
    assign = _hit("settings.py", None, f"# limits\n{line}\n")
    assert definitions_first("MAX_RETRIES", [use, assign]) == [assign, use]
    assert definitions_first("MAX_RETRIES_TOTAL", [use, assign]) == [use, assign]
    assert definitions_first("how many MAX_RETRIES", [use, assign]) == [use, assign]  # prose: fused order


def test_definitions_first_keeps_each_group_in_fused_order() -> None:
    calls = [_hit(f"c{i}.py", "main", "fetch_user(1)") for i in range(3)]
    defs = [_hit("a.py", "Repo.fetch_user", "def fetch_user(self): ..."), _hit("b.py", "fetch_user", "...")]
    mixed = [calls[0], defs[0], calls[1], defs[1], calls[2]]
    assert definitions_first("fetch_user", mixed) == [defs[0], defs[1], calls[0], calls[1], calls[2]]
    assert definitions_first("Repo.fetch_user", mixed)[:2] == defs
    assert definitions_first("fetch user", mixed) == mixed


def test_definitions_as_typed_come_before_other_cases() -> None:
    go = _hit("flags/string.go", "GetString", "func GetString() string { ... }")
    java = _hit("MapUtils.java", "MapUtils.getString", "static String getString(Map m) { ... }")
    call = _hit("main.go", "main", "GetString()")
    assert definitions_first("GetString", [java, call, go]) == [go, java, call]
    assert definitions_first("getString", [go, call, java]) == [java, go, call]
