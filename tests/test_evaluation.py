"""Tests of loracode_embed.evaluation and ``loracode eval``: loaders on the real shared files, metrics
against hand computation, the runner's plumbing with small fake encoders, the CLI's JSON output, bad input.

No model weights are loaded here: the encoders below are tiny deterministic stand-ins with the core
model's encoding interface.
"""

from __future__ import annotations

import gzip
import json
import math
import re
import zlib
from pathlib import Path

import numpy as np
import pytest
from conftest import CODE_SAMPLES, SHARED_DATA

from loracode_embed.evaluation import corpus as corpus_mod
from loracode_embed.evaluation import shared_sets as ss
from loracode_embed.evaluation.metrics import gold_ranks, ranks_from_embeddings, retrieval_metrics
from loracode_embed.evaluation.pairs_file import read_pairs_jsonl
from loracode_embed.evaluation.presets import SHARED_PRESETS, load_preset
from loracode_embed.evaluation.records import EvalSet, Pair
from loracode_embed.evaluation.runner import combine, evaluate

DATA = SHARED_DATA
JSON_KEYS = {"mrr", "ndcg@10", "recall@1", "recall@5", "recall@10", "n_queries", "n_candidates", "adapters"}


# --------------------------------------------------------------------------- fake encoders


class HashingModel:
    """Bag-of-tokens hashing encoder with the core model's interface; records every encode call."""

    embedding_dim = 64
    fingerprint = "hashing-64"

    def __init__(self, adapters: tuple[str, ...] = ()) -> None:
        self.adapters = list(adapters)
        self.calls: list[tuple[str, dict]] = []

    def _vec(self, text: str) -> np.ndarray:
        v = np.zeros(self.embedding_dim, dtype=np.float32)
        for tok in re.findall(r"[a-z]+|\d+", text.lower()):
            v[zlib.crc32(tok.encode()) % self.embedding_dim] += 1.0
        n = np.linalg.norm(v)
        return v / n if n else v

    def route(self, task: str = "text2code", language: str | None = None) -> str | None:
        name = f"{task}-{language}"
        return name if name in self.adapters else None

    def encode_query(self, texts, language=None, task="auto", *, adapter="auto", batch_size=32, **kw):
        self.calls.append(
            ("query", {"n": len(texts), "language": language, "task": task, "adapter": adapter})
        )
        return (
            np.stack([self._vec(t) for t in texts])
            if texts
            else np.zeros((0, self.embedding_dim), np.float32)
        )

    def encode_code(
        self, texts, languages=None, paths=None, task="text2code", *, adapter="auto", batch_size=32, **kw
    ):
        self.calls.append(
            ("code", {"n": len(texts), "languages": list(languages), "task": task, "adapter": adapter})
        )
        return np.stack([self._vec(t) for t in texts])


class TableModel(HashingModel):
    """Looks each text up in a table of fixed 2-D vectors (for hand-computed rankings)."""

    embedding_dim = 2

    def __init__(self, table: dict[str, tuple[float, float]]) -> None:
        super().__init__()
        self.table = table

    def _vec(self, text: str) -> np.ndarray:
        return np.asarray(self.table[text], dtype=np.float32)


def _unit(deg: float) -> tuple[float, float]:
    return (math.cos(math.radians(deg)), math.sin(math.radians(deg)))


# --------------------------------------------------------------------------- metrics by hand


def test_metrics_match_hand_computation_3x4():
    # 3 queries x 4 candidates, higher score = better.
    scores = np.array(
        [
            [0.9, 0.3, 0.2, 0.1],  # gold 0 (0.9): nothing scores higher            -> rank 1
            [0.5, 0.4, 0.8, 0.6],  # gold 1 (0.4): 0.5, 0.8, 0.6 are higher          -> rank 4
            [0.7, 0.7, 0.1, 0.2],  # gold 1 (0.7): candidate 0 ties; ties pessimistic -> rank 2
        ]
    )
    ranks = gold_ranks(scores, np.array([0, 1, 1]))
    assert ranks.tolist() == [1, 4, 2]
    m = retrieval_metrics(ranks)
    # MRR = (1/1 + 1/4 + 1/2) / 3 = 1.75 / 3 = 0.583333...
    assert m["mrr"] == pytest.approx(0.5833333333)
    # NDCG@10 = (1/log2(2) + 1/log2(5) + 1/log2(3)) / 3 = (1 + 0.4306766 + 0.6309298) / 3 = 0.6872021
    assert m["ndcg@10"] == pytest.approx(0.6872021, abs=1e-6)
    # Recall@1: only query 0 -> 1/3; Recall@5 and @10: ranks 1, 4, 2 are all <= 5 -> 1.0
    assert m["recall@1"] == pytest.approx(1 / 3)
    assert m["recall@5"] == 1.0 and m["recall@10"] == 1.0


def test_metrics_cutoffs_hand_computation():
    m = retrieval_metrics(np.array([7, 11]))
    # MRR over the full ranking, no cut-off: (1/7 + 1/11) / 2 = 0.1168831
    assert m["mrr"] == pytest.approx(0.1168831, abs=1e-6)
    # NDCG@10: rank 7 -> 1/log2(8) = 1/3; rank 11 > 10 -> 0; mean = 1/6
    assert m["ndcg@10"] == pytest.approx(1 / 6)
    assert (m["recall@1"], m["recall@5"], m["recall@10"]) == (0.0, 0.0, 0.5)


def test_all_equal_scores_give_worst_rank():
    assert gold_ranks(np.zeros((2, 5)), np.array([0, 4])).tolist() == [5, 5]


def test_blocked_ranking_equals_unblocked():
    rng = np.random.default_rng(0)
    q, c = rng.normal(size=(37, 8)), rng.normal(size=(50, 8))
    gold = rng.integers(0, 50, size=37)
    assert (ranks_from_embeddings(q, c, gold, block=5) == gold_ranks(q @ c.T, gold)).all()


def test_metrics_bad_input():
    with pytest.raises(ValueError, match="gold"):
        gold_ranks(np.zeros((2, 3)), np.array([0, 3]))
    with pytest.raises(ValueError, match="1-based"):
        retrieval_metrics(np.array([0, 1]))


def test_runner_hand_computed_case():
    # Unit vectors at known angles; cosine = cos(angle difference).
    table = {
        "A": _unit(0), "B": _unit(90), "C": _unit(180), "D": _unit(45),
        "q0": _unit(10), "q1": _unit(100), "q2": _unit(45),
    }  # fmt: skip
    pairs = [
        Pair("q0", "A", "python", "t", "0"),  # cos: A .985 > D .819 > B .174 > C -.985     -> rank 1
        Pair("q1", "C", "python", "t", "1"),  # cos: B .985 > D .574 > C .174 > A -.174     -> rank 3
        Pair("q2", "B", "python", "t", "2"),  # cos: D 1.0 > A .707 = B .707 (tie) > C -.707 -> rank 3
    ]
    # corpus repeats "A": candidates dedup to A, C, B, D = 4.
    result = evaluate(TableModel(table), EvalSet("hand", pairs, ["D", "A"], "text2code"), adapter="base")
    assert result["n_queries"] == 3 and result["n_candidates"] == 4
    assert result["mrr"] == pytest.approx((1 + 1 / 3 + 1 / 3) / 3, abs=1e-6)  # 0.5556
    assert result["ndcg@10"] == pytest.approx((1 + 0.5 + 0.5) / 3, abs=1e-6)  # 1/log2(4) = 0.5
    assert result["recall@1"] == pytest.approx(1 / 3)
    assert result["recall@5"] == 1.0
    assert result["adapters"] == {"python": "base"}


# --------------------------------------------------------------------------- runner plumbing


def test_runner_routes_languages_and_tasks():
    model = HashingModel(adapters=("code2code-java", "code2code-csharp"))
    s = ss.load_java_cs("valid", data_dir=DATA)
    r = evaluate(model, s, adapter="auto", batch_size=64)
    assert r["adapters"] == {"csharp": "code2code-csharp", "java": "code2code-java"}
    kinds = {kind: kw for kind, kw in model.calls}
    assert kinds["query"]["language"] == "java" and kinds["query"]["task"] == "code2code"
    assert set(kinds["code"]["languages"]) == {"csharp"} and kinds["code"]["n"] == r["n_candidates"]
    # a bag-of-tokens encoder retrieves translations far better than chance (MRR of random ~ 0.007)
    assert 0.2 < r["mrr"] <= 1.0
    base = evaluate(model, s, adapter="base")
    assert base["adapters"] == {"csharp": "base", "java": "base"}
    assert model.calls[-1][1]["adapter"] == "base"


def test_runner_rejects_unknown_adapter_and_empty_language():
    model = HashingModel()
    s = EvalSet("x", [Pair("q", "c", "python", "t", "0")], None, "text2code")
    with pytest.raises(ValueError, match="not in the model bundle"):
        evaluate(model, s, adapter="text2code-go")
    with pytest.raises(ValueError, match="no queries"):
        evaluate(model, s, language="go")


def test_combine_weights_by_queries():
    a = {"set": "a", "task": "text2code", "mrr": 1.0, "ndcg@10": 1.0, "recall@1": 1.0, "recall@5": 1.0,
         "recall@10": 1.0, "n_queries": 1, "n_candidates": 3, "adapters": {"go": "base"}}  # fmt: skip
    b = dict(a, set="b", mrr=0.25, n_queries=3, n_candidates=5, adapters={"ruby": "base"})
    c = combine([a, b], "ab")
    assert c["mrr"] == pytest.approx((1.0 + 3 * 0.25) / 4)
    assert c["n_candidates"] == 8 and set(c["per_set"]) == {"a", "b"}
    assert c["adapters"] == {"go": "base", "ruby": "base"}


# --------------------------------------------------------------------------- shared-set loaders (real files)


def test_cosqa_retrieval_sizes_and_gold_in_corpus():
    for split in ("dev", "test"):
        s = ss.load_cosqa_retrieval(split, DATA)
        assert len(s.pairs) == 500
        assert len(s.candidate_codes()) == 6267
        assert s.notes[0].startswith("500 of 500 gold codes are in the 6,267-function corpus")
        assert s.pairs[0].language == "python" and s.task == "text2code"
    assert ss.load_cosqa_retrieval("test", DATA).pairs[0].query == "sort by a token in string python"


def test_labelled_sets_sizes():
    staqc = ss.load_staqc("dev", DATA)
    assert len(staqc.pairs) == 421 and len(staqc.corpus) == 976 and len(staqc.candidate_codes()) == 975
    assert len(ss.load_staqc("train", DATA).pairs) == 1287
    cosqa = ss.load_cosqa_labelled(DATA)
    assert len(cosqa.pairs) == 313 and len(cosqa.corpus) == 604


def test_csn_cloze_sizes_and_text_rebuild():
    sizes = {"go": 152, "java": 482, "javascript": 272, "php": 407, "python": 1264, "ruby": 38}
    for lang, n in sizes.items():
        s = ss.load_csn_cloze(lang, DATA)
        assert len(s.pairs) == n and all(p.language == lang for p in s.pairs)
        assert not any("<mask>" in p.code for p in s.pairs)
    go = ss.load_csn_cloze("go", DATA).pairs[0]
    assert go.query.startswith("sets the struct pools max size")  # "SetMaxStructPoolSize" dropped
    assert go.code.startswith("func ( v * Validate ) SetMaxStructPoolSize ( max int ) {")
    kept = ss.load_csn_cloze("go", DATA, drop_leading_name=False).pairs[0]
    assert kept.query.startswith("SetMaxStructPoolSize sets")
    assert ss.cloze_query_text(["Returns", "x"], ["def", "f", "(", ")"]) == "Returns x"


def test_java_cs_and_concode():
    s = ss.load_java_cs("test", data_dir=DATA)
    assert len(s.pairs) == 1000 and len(s.candidate_codes()) == 995 and s.task == "code2code"
    assert s.pairs[0].query.startswith("public void serialize(LittleEndianOutput out)")
    assert s.pairs[0].code.startswith("public override void Serialize(")
    assert s.pairs[0].query_lang == "java" and s.pairs[0].language == "csharp"
    rev = ss.load_java_cs("test", "cs-java", DATA)
    assert rev.pairs[0].query_lang == "csharp" and len(rev.candidate_codes()) == 997
    assert len(ss.load_java_cs("valid", data_dir=DATA).pairs) == 499
    assert len(ss.load_java_cs("train", data_dir=DATA).pairs) == 10295
    c = ss.load_concode(DATA)
    assert len(c.pairs) == 2000 and len(c.candidate_codes()) == 1935
    assert all("concode_field_sep" not in p.query and p.query for p in c.pairs)


def test_every_shared_preset_loads(monkeypatch):
    monkeypatch.setenv(ss.DATA_DIR_ENV, str(DATA))
    for name in SHARED_PRESETS:
        sets = load_preset(name)
        assert sets and all(s.pairs for s in sets)
    assert len(load_preset("csn-cloze")) == 6
    with pytest.raises(ValueError, match="unknown preset 'cosqa'.*cosqa-test"):
        load_preset("cosqa")


# --------------------------------------------------------------------------- mined corpus


def _write_shard(path: Path, records: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with gzip.open(path, "wt", encoding="utf-8") as fh:
        for r in records:
            fh.write(json.dumps(r) + "\n")


def _rec(i: int, lang: str = "python") -> dict:
    return {"id": f"{lang}-{i}", "query": f"compute value {i}", "code": f"def f{i}(x):\n    return x + {i}",
            "language": lang, "package": "pkg", "version": "1.0", "path": "pkg/m.py", "line": 10 + i,
            "func_name": f"f{i}", "code_sha": f"sha{i}"}  # fmt: skip


def test_corpus_to_dataset_and_mined_preset(tmp_path, monkeypatch):
    monkeypatch.delenv(corpus_mod.CORPUS_ENV, raising=False)
    _write_shard(tmp_path / "python" / "train-00000.jsonl.gz", [_rec(i) for i in range(3)])
    _write_shard(tmp_path / "python" / "train-00001.jsonl.gz", [_rec(3)])
    _write_shard(tmp_path / "python" / "test-00000.jsonl.gz", [_rec(i) for i in range(10, 14)])
    _write_shard(tmp_path / "go" / "train-00000.jsonl.gz", [_rec(0, "go")])
    assert corpus_mod.corpus_languages(tmp_path) == ["go", "python"]
    ds = corpus_mod.to_dataset(tmp_path, "train")
    assert ds.num_rows == 5
    assert {"anchor", "positive", "language", "package", "code_sha", "line"} <= set(ds.column_names)
    assert ds[0]["language"] == "go" and ds[1]["anchor"] == "compute value 0" and ds[1]["line"] == 10
    assert corpus_mod.to_dataset(tmp_path, "train", languages=["python"], limit=2).num_rows == 2
    (s,) = load_preset("mined-python-test", corpus_dir=tmp_path)
    assert len(s.pairs) == 4 and s.pairs[0].source == "mined-python-test"
    monkeypatch.setenv(corpus_mod.CORPUS_ENV, str(tmp_path))
    assert len(load_preset("mined-py-test")[0].pairs) == 4  # alias through canonical_language


def test_corpus_errors(tmp_path, monkeypatch):
    monkeypatch.delenv(corpus_mod.CORPUS_ENV, raising=False)
    with pytest.raises(FileNotFoundError, match="--corpus-dir"):
        load_preset("mined-python-test")
    with pytest.raises(FileNotFoundError, match="--corpus-dir"):
        load_preset("code2code-anon-python")
    bad = dict(_rec(1))
    del bad["code"]
    _write_shard(tmp_path / "python" / "train-00000.jsonl.gz", [_rec(0), bad])
    with pytest.raises(ValueError, match=r"line 2 has no 'code' field"):
        list(corpus_mod.iter_corpus(tmp_path, "train"))


def test_code2code_anon_presets(tmp_path):
    rows = [
        {"id": str(i), "query": f"def func(arg_0): return arg_0.{w}()", "code": f"def g(x): return x.{w}()",
         "language": "python", "package": "p", "path": "m.py", "line": i}
        for i, w in enumerate(["alpha", "bravo", "charlie"])
    ]  # fmt: skip
    _write_shard(tmp_path / "code2code" / "advtest-python-test.jsonl.gz", rows)
    (s,) = load_preset("code2code-anon-python", corpus_dir=tmp_path)
    assert s.task == "code2code" and len(s.pairs) == 3
    r = evaluate(HashingModel(), s)
    assert (
        r["n_candidates"] == 3 and r["recall@1"] == 1.0
    )  # each query shares its method name with its gold only
    jcs = [{"id": "jcs-test-0", "query": "public void func(int arg_0) {}", "code": "public void F(int x) {}",
            "query_language": "java", "code_language": "csharp"}]  # fmt: skip
    _write_shard(tmp_path / "code2code" / "advtest-java-csharp-test.jsonl.gz", jcs)
    (s,) = load_preset("code2code-anon-java-csharp", data_dir=DATA, corpus_dir=tmp_path)
    assert len(s.pairs) == 1 and s.pairs[0].query_lang == "java" and s.pairs[0].language == "csharp"
    assert len(s.candidate_codes()) == 996  # 995 distinct C# test lines + the fixture's own gold
    with pytest.raises(FileNotFoundError, match="advtest-go-test"):
        load_preset("code2code-anon-go", corpus_dir=tmp_path)


# --------------------------------------------------------------------------- pairs files and the CLI


def _write_pairs(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def test_pairs_line_without_query_names_line_and_field(tmp_path):
    path = _write_pairs(
        tmp_path / "p.jsonl",
        [{"query": "a", "code": "x", "language": "python"}, {"code": "y", "language": "python"}],
    )
    with pytest.raises(ValueError, match=r"line 2 has no 'query' field"):
        read_pairs_jsonl(path)
    path.write_text('{"query": "a", "code": "x", "language": "klingon"}\n')
    with pytest.raises(ValueError, match=r"line 1: .*klingon"):
        read_pairs_jsonl(path)


def test_cli_eval_json(tmp_path, monkeypatch, capsys):
    from loracode_embed import cli
    from loracode_embed.commands import eval as eval_cmd

    model = HashingModel(adapters=("text2code-python",))
    monkeypatch.setattr(eval_cmd, "load_model", lambda path, device=None, dtype=None: model)
    pairs = _write_pairs(
        tmp_path / "pairs.jsonl",
        [
            {
                "query": "parse json file",
                "code": "def load_json(p): return json.load(open(p))",
                "language": "python",
            },
            {
                "query": "sum numbers list",
                "code": "def total(numbers): return sum(numbers)",
                "language": "py",
            },
            {
                "query": "reverse string",
                "code": "func Reverse(s string) string { return s }",
                "language": "go",
            },
        ],
    )
    corpus = _write_pairs(
        tmp_path / "corpus.jsonl",
        [
            {"code": "def other(): pass", "language": "python"},
            {"code": "def total(numbers): return sum(numbers)", "language": "python"},
        ],
    )
    assert cli.main(["eval", "--pairs", str(pairs), "--corpus", str(corpus), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert JSON_KEYS <= set(out)
    assert out["n_queries"] == 3 and out["n_candidates"] == 4  # the repeated corpus code counts once
    assert out["adapters"] == {"go": "base", "python": "text2code-python"}
    assert 0 < out["mrr"] <= 1 and out["recall@10"] == 1.0

    assert cli.main(["eval", "--pairs", str(pairs), "--language", "go", "--adapter", "base", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["n_queries"] == 1 and out["n_candidates"] == 1 and out["adapters"] == {"go": "base"}

    assert cli.main(["eval", "--pairs", str(pairs)]) == 0
    text = capsys.readouterr().out
    assert "MRR" in text and "NDCG@10" in text and "R@10" in text and "python=text2code-python" in text

    bad = _write_pairs(
        tmp_path / "bad.jsonl", [{"query": "q", "code": "c", "language": "python"}, {"code": "c"}]
    )
    assert cli.main(["eval", "--pairs", str(bad), "--json"]) == 1
    assert "line 2 has no 'query' field" in capsys.readouterr().err


def test_cli_eval_preset_with_limit(monkeypatch, capsys):
    from loracode_embed import cli
    from loracode_embed.commands import eval as eval_cmd

    monkeypatch.setattr(eval_cmd, "load_model", lambda path, device=None, dtype=None: HashingModel())
    argv = ["eval", "--preset", "csn-cloze", "--data-dir", str(DATA), "--limit", "5", "--json"]
    assert cli.main(argv) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["n_queries"] == 6 * 5 and len(out["per_set"]) == 6 and out["limit"] == 5
    assert set(out["adapters"]) == set(ss.CLOZE_LANGUAGES)
    argv = ["eval", "--preset", "csn-cloze", "--data-dir", str(DATA), "--language", "ruby", "--json"]
    assert cli.main(argv) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["n_queries"] == 38 and out["n_candidates"] == 38 and out["set"] == "csn-cloze-ruby"


# --------------------------------------------------------------------------- the core model (tiny fixture)


def test_runner_with_core_model_matches_direct_computation(tiny_model):
    codes = [c for c in CODE_SAMPLES if c]
    langs = ["python", "go", "java", "javascript", "python"]
    queries = [
        "add two numbers",
        "add ints in go",
        "java add method",
        "arrow function add",
        "load a yaml file",
    ]
    pairs = [
        Pair(q, c, lang, "t", str(i))
        for i, (q, c, lang) in enumerate(zip(queries, codes, langs, strict=True))
    ]
    s = EvalSet("tiny", pairs, [Pair("", "x = 1", "python", "t", "extra")], "text2code")
    r = evaluate(tiny_model, s, adapter="auto", batch_size=2)
    assert r["adapters"] == {
        "go": "text2code",
        "java": "text2code",
        "javascript": "text2code",
        "python": "text2code-python",
    }
    # Independent computation: encode directly, rank each gold with argsort.
    cands = codes + ["x = 1"]
    cand_langs = langs + ["python"]
    cv = tiny_model.encode_code(cands, languages=cand_langs, task="text2code")
    rr = []
    for i, p in enumerate(pairs):
        qv = tiny_model.encode_query([p.query], language=p.language, task="text2code")[0]
        order = np.argsort(-(cv @ qv), kind="stable")
        rr.append(1.0 / (int(np.where(order == i)[0][0]) + 1))
    assert r["n_candidates"] == 6
    assert r["mrr"] == pytest.approx(float(np.mean(rr)), abs=1e-6)
    base = evaluate(tiny_model, s, adapter="base")
    assert set(base["adapters"].values()) == {"base"}


def test_embedding_cache_gives_same_result_and_skips_encoding(tmp_path):
    model = HashingModel()
    s = ss.load_csn_cloze("ruby", DATA)
    plain = evaluate(model, s)
    first = evaluate(model, s, cache_dir=tmp_path)
    n_calls = len(model.calls)
    second = evaluate(model, s, cache_dir=tmp_path)
    assert plain == first == second
    assert [kind for kind, _ in model.calls[n_calls:]] == ["query"]  # candidates came from the cache
    # "auto" routed to the base model above (no adapters): "base" and the code2code task share those vectors
    evaluate(model, s, adapter="base", task="code2code", cache_dir=tmp_path)
    assert model.calls[-1][0] == "query"
    routed = HashingModel(adapters=("text2code-ruby",))  # same fingerprint, but auto now picks an adapter
    evaluate(routed, s, cache_dir=tmp_path)
    assert routed.calls[-1][0] == "code"
    assert len(list(tmp_path.glob("*.npz"))) == 1
