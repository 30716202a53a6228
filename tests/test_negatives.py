"""Hard negatives on the CPU: the search, the false-negative guards, seeded sampling, consistency filtering,
the data step on the tiny model, the sampler with negative columns and a cached-loss training run.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import math
import os
import random
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import TINY_ADAPTERS, TINY_BASE, load_script

from loracode_embed.mining.dedup import MinHasher, code_sha
from loracode_embed.training.negatives import (
    MiningSettings,
    build_negatives_set,
    consistency_filter,
    consistency_keep,
    mine_negatives,
    search_neighbours,
)
from loracode_embed.training.negatives.guards import candidate_keys
from loracode_embed.training.negatives.mine import pair_keys

WORDS = "alpha beta gamma delta epsilon zeta eta theta iota kappa lambda sigma omega tau rho".split()


def _unit(rows: np.ndarray) -> torch.Tensor:
    return torch.nn.functional.normalize(torch.as_tensor(rows, dtype=torch.float32), dim=1)


def _body(seed: int, tokens: int = 60) -> str:
    rng = random.Random(seed)
    return "\n".join(f"    {rng.choice(WORDS)}_{i} = {rng.choice(WORDS)}({i}, x)" for i in range(tokens // 6))


def _read(path: Path) -> list[dict]:
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


# ---------------------------------------------------------------------------- search


def test_chunked_search_matches_the_full_score_matrix():
    gen = torch.Generator().manual_seed(0)
    queries = _unit(torch.randn(53, 16, generator=gen).numpy())
    codes = _unit((queries + 0.8 * torch.randn(53, 16, generator=gen)).numpy())
    found = search_neighbours(queries, codes, k=9, chunk_size=7)  # chunks that do not divide 53
    full = (queries @ codes.T).numpy()
    for i in range(53):
        others = np.delete(np.arange(53), i)
        best = others[np.argsort(-full[i, others], kind="stable")[:9]]
        assert found.indices[i].tolist() == best.tolist()
        np.testing.assert_allclose(found.scores[i], full[i, best], atol=1e-6)
        assert found.positive_ranks[i] == 1 + int((full[i] > full[i, i]).sum())
    assert i not in found.indices[i]
    with pytest.raises(ValueError, match="chunk_size"):
        search_neighbours(queries, codes, k=3, chunk_size=0)


# ---------------------------------------------------------------------------- guards


def _guard_case() -> tuple[list[dict], torch.Tensor, torch.Tensor, dict[str, int]]:
    """Record 0 and candidates placed at chosen scores for its query; each role names a record."""
    positive = "def total(items):\n" + _body(1, 240) + "\n    return x\n"
    roles = {  # role: (score for query 0, code, package, path, query)
        "pair": (0.50, positive, "pkg", "a.py", "sum the items"),
        "near_duplicate": (0.45, positive.replace("return x", "return y"), "other", "n.py", "q near"),
        "same_file": (0.44, "def helper(v):\n" + _body(2), "pkg", "a.py", "q same file"),
        "duplicate": (0.43, positive.replace("\n    ", "\n  "), "dup", "d.py", "q duplicate"),
        "above_margin": (0.90, "def far_above(v):\n" + _body(3), "x", "x.py", "q above"),
        "within_margin": (0.55, "def a_bit_above(v):\n" + _body(4), "y", "y.py", "q within"),
        "same_query": (0.42, "def another(v):\n" + _body(5), "z", "z.py", "Sum  the items"),
    }
    for k in range(5):
        roles[f"plain_{k}"] = (
            0.30 - 0.05 * k,
            f"def plain_{k}(v):\n" + _body(10 + k),
            f"p{k}",
            "p.py",
            f"q{k}",
        )
    dim = len(roles) + 2
    codes = np.zeros((len(roles), dim), dtype=np.float32)
    records, index = [], {}
    for i, (role, (score, code, package, path, query)) in enumerate(roles.items()):
        codes[i, 0], codes[i, i + 1] = score, math.sqrt(1 - score**2)
        records.append({"id": role, "query": query, "code": code, "package": package, "path": path})
        index[role] = i
    queries = np.zeros((len(roles), dim), dtype=np.float32)
    queries[0, 0] = 1.0  # the pair under test; every other query points at its own code's direction
    queries[np.arange(1, len(roles)), np.arange(2, len(roles) + 1)] = 1.0
    return records, _unit(queries), _unit(codes), index


def test_guards_keep_false_negatives_out():
    records, queries, codes, index = _guard_case()
    hasher = MinHasher()
    near = records[index["near_duplicate"]]["code"]
    assert MinHasher.similarity(hasher.signature(near), hasher.signature(records[0]["code"])) >= 0.8
    assert code_sha(records[index["duplicate"]]["code"]) == code_sha(records[0]["code"])

    found = search_neighbours(queries, codes, k=len(records) - 1)
    np.testing.assert_allclose(found.positive_scores[0], 0.5, atol=1e-6)
    keys = candidate_keys(records)
    settings = MiningSettings(num_negatives=6, rank_min=1, rank_max=len(records) - 1, margin=0.1)
    mined = mine_negatives(found, keys, settings, pair_keys(records), rows=[0])
    chosen = {records[c]["id"] for c in mined.indices[0]}
    assert chosen == {"within_margin", *(f"plain_{k}" for k in range(5))}
    assert mined.counts["pairs_short"] == 0
    for guard in ("same_file", "duplicate", "near_duplicate", "same_query", "margin"):
        assert mined.counts[f"rejected_{guard}"] >= 1, guard
    # listed by rank, hardest first, with the scores the search gave
    assert list(mined.ranks[0]) == sorted(mined.ranks[0])
    np.testing.assert_allclose(mined.scores[0][0], 0.55, atol=1e-6)

    # margin 0: nothing may score above the positive, so one eligible candidate fewer than asked for
    strict = mine_negatives(
        found, keys, MiningSettings(6, 1, len(records) - 1, margin=0.0), pair_keys(records), [0]
    )
    assert "within_margin" not in {records[c]["id"] for c in strict.indices[0]}
    assert strict.counts["pairs_short"] == 1 and len(strict.indices[0]) == 5


def test_missing_file_fields_fail_before_any_work():
    records = [{"query": "q", "code": "c", "package": "p"}]
    with pytest.raises(ValueError, match="record 0 has no string field 'path'"):
        candidate_keys(records)
    candidate_keys(records, file_fields=())  # the guard off: fine
    with pytest.raises(ValueError, match="rank_max"):
        MiningSettings(rank_min=20, rank_max=10).validate()
    with pytest.raises(ValueError, match="fewer than num_negatives"):
        MiningSettings(num_negatives=8, rank_min=1, rank_max=5).validate()


# ---------------------------------------------------------------------------- determinism


def _random_split(n: int, seed: int) -> tuple[list[dict], torch.Tensor, torch.Tensor]:
    gen = torch.Generator().manual_seed(seed)
    queries = torch.randn(n, 24, generator=gen)
    codes = queries + 1.2 * torch.randn(n, 24, generator=gen)
    records = [
        {"id": f"r{i}", "query": f"query {i}", "code": f"def f{i}():\n" + _body(100 + i), "package": f"p{i % 7}",
         "path": f"m{i % 3}.py"}
        for i in range(n)
    ]  # fmt: skip
    return records, _unit(queries.numpy()), _unit(codes.numpy())


def _mine_by_id(records, queries, codes, seed):
    found = search_neighbours(queries, codes, k=40, chunk_size=64)
    settings = MiningSettings(num_negatives=3, rank_min=5, rank_max=40, seed=seed)
    mined = mine_negatives(found, candidate_keys(records), settings, pair_keys(records), chunk_size=50)
    return {records[i]["id"]: [records[c]["id"] for c in mined.indices[i]] for i in range(len(records))}


def test_same_seed_same_negatives_whatever_the_order():
    records, queries, codes = _random_split(200, seed=3)
    first = _mine_by_id(records, queries, codes, seed=0)
    assert first == _mine_by_id(records, queries, codes, seed=0)
    assert all(len(v) == 3 for v in first.values())
    other = _mine_by_id(records, queries, codes, seed=1)
    assert sum(first[k] != other[k] for k in first) > 100  # another seed draws other negatives
    perm = np.random.default_rng(0).permutation(len(records))
    shuffled = _mine_by_id([records[i] for i in perm], queries[perm], codes[perm], seed=0)
    assert shuffled == first  # a draw depends on (seed, pair, candidate), not on positions or chunks


# ---------------------------------------------------------------------------- consistency


def test_consistency_filter_drops_pairs_whose_positive_is_not_in_the_top_k():
    gen = torch.Generator().manual_seed(1)
    codes = _unit(torch.randn(40, 16, generator=gen).numpy())
    queries = codes.clone()
    queries[:5] = codes[20:25]  # 5 noisy pairs: each query is exactly another pair's code
    kept = consistency_filter(queries, codes, k=3, chunk_size=9)
    assert kept.keep.tolist() == [False] * 5 + [True] * 35
    assert kept.counts["pairs"] == 40 and kept.counts["dropped"] == 5 and kept.counts["kept"] == 35
    assert consistency_keep(np.array([1, 50]), k=0).keep.all()  # 0: off
    at_k = consistency_keep(np.array([1, 2, 7, 60, 5000]), k=0).counts["kept_at_k"]
    assert (at_k["1"], at_k["2"], at_k["5"], at_k["10"], at_k["100"], at_k["1000"]) == (1, 2, 2, 3, 4, 4)
    with pytest.raises(ValueError, match="consistency k"):
        consistency_keep(np.array([1]), k=-1)


# ---------------------------------------------------------------------------- the step on the tiny model


def _write_split(folder: Path, n: int) -> None:
    rng = random.Random(7)
    rows = []
    for i in range(n):
        verb, noun = rng.choice(WORDS), rng.choice(WORDS)
        rows.append(
            {"id": f"id{i}", "query": f"{verb} the {noun} {i}", "code": f"def {verb}_{noun}_{i}(x):\n" + _body(i, 30),
             "language": "python", "package": f"pkg{i % 6}", "path": f"mod{i % 4}.py"}
        )  # fmt: skip
    rows.append({**rows[0], "id": "near0", "code": rows[0]["code"] + " ", "path": "copy.py"})  # a duplicate
    folder.mkdir(parents=True)
    for shard, part in enumerate((rows[: n // 2], rows[n // 2 :])):
        with gzip.open(folder / f"train-{shard:05d}.jsonl.gz", "wt", encoding="utf-8") as fh:
            fh.write("".join(json.dumps(r) + "\n" for r in part))
    (folder / "valid-00000.jsonl").write_text(json.dumps(rows[1]) + "\n", encoding="utf-8")


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("corpus")
    _write_split(root / "python", 48)
    return root


@pytest.fixture(scope="module")
def mined(corpus) -> dict:
    settings = MiningSettings(num_negatives=2, rank_min=2, rank_max=20, margin=1.0, seed=0)
    return build_negatives_set(
        corpus / "python", corpus / "python-hn", settings, base=TINY_BASE, device="cpu", chunk_size=16
    )


def test_step_writes_a_derived_set_with_guarded_negatives(corpus, mined):
    out = corpus / "python-hn"
    assert sorted(p.name for p in out.iterdir()) == [
        "negatives.json",
        "train-00000.jsonl.gz",
        "valid-00000.jsonl",
    ]
    source = [r for p in sorted((corpus / "python").glob("train-*")) for r in _read(p)]
    written = _read(out / "train-00000.jsonl.gz")
    assert len(written) == len(source) == 49 == mined["output"]["pairs"]
    by_code = {}
    for r in source:
        by_code.setdefault(r["code"], []).append(r)
    for record in written:
        assert len(record["negatives"]) == 2 and len(record["negative_ids"]) == 2
        assert record["hardness"] == pytest.approx(
            np.mean(record["negative_scores"]) - record["positive_score"], abs=2e-5
        )
        for negative, ident in zip(record["negatives"], record["negative_ids"], strict=True):
            origin = next(r for r in source if r["id"] == ident)
            assert origin["code"] == negative
            assert (origin["package"], origin["path"]) != (record["package"], record["path"])
            assert code_sha(negative) != code_sha(record["code"])
        assert 2 <= min(record["negative_ranks"]) and max(record["negative_ranks"]) <= 20
    report = json.loads((out / "negatives.json").read_text())
    assert report["settings"]["num_negatives"] == 2 and report["mining"]["negatives"] == 98
    assert report["mining"]["rejected_duplicate"] >= 1  # the copy of record 0 was a candidate and refused
    assert report["pairs_per_s"] > 0 and report["model"]["base_sha256"]
    assert len(report["source"]["train_files"]) == 2 and report["output"]["train_files"][0]["sha256"]
    # the same settings again: the same bytes
    again = build_negatives_set(
        corpus / "python", corpus / "python-hn-again", MiningSettings(2, 2, 20, margin=1.0), base=TINY_BASE,
        device="cpu",
    )  # fmt: skip
    assert again["output"]["train_files"][0]["sha256"] == mined["output"]["train_files"][0]["sha256"]


def test_step_consistency_counts_use_the_base_model_even_with_an_adapter(corpus):
    base_only = build_negatives_set(
        corpus / "python", corpus / "python-cf", None, 5, base=TINY_BASE, device="cpu"
    )
    with_adapter = build_negatives_set(
        corpus / "python", corpus / "python-hn-a", MiningSettings(1, 1, 10, margin=1.0), 5, base=TINY_BASE,
        adapter=f"text2code-python={TINY_ADAPTERS / 'text2code-python'}", device="cpu",
    )  # fmt: skip
    counts = base_only["consistency"]
    assert counts["pairs"] == 49 and counts["kept"] + counts["dropped"] == 49 and counts["dropped"] > 0
    assert with_adapter["consistency"] == counts
    assert with_adapter["model"]["adapter_sha256"] and with_adapter["output"]["pairs"] == counts["kept"]
    filtered = _read(corpus / "python-cf" / "train-00000.jsonl.gz")
    assert len(filtered) == counts["kept"] and "negatives" not in filtered[0]
    with pytest.raises(ValueError, match="nothing to do"):
        build_negatives_set(corpus / "python", corpus / "x", None, 0, base=TINY_BASE)


# ---------------------------------------------------------------------------- sampler


def test_sampler_keeps_negatives_apart_from_other_pairs_but_lets_them_repeat():
    from loracode_embed.training.sampler import NoDuplicatesLengthGroupedBatchSampler

    n = 64
    columns = {
        "anchor": [f"q{i}" for i in range(n)],
        "positive": [f"c{i}" for i in range(n)],
        "negative_1": [f"c{(i + 1) % n}" for i in range(n)],  # another pair's positive: a false negative
        "negative_2": ["shared hard negative"] * n,  # everybody's negative: fine to repeat
    }
    for replicas in (1, 2):
        sampler = NoDuplicatesLengthGroupedBatchSampler(
            columns, batch_size=8, drop_last=True, seed=0, group_factor=2, num_replicas=replicas
        )
        batches = list(sampler)
        # the shared negative blocks nothing (were negatives pair texts, no two rows could share a batch)
        assert len(batches) >= 3 * replicas
        for k in range(0, len(batches), replicas):
            group = [i for b in batches[k : k + replicas] for i in b]
            pair_texts = [columns[c][i] for c in ("anchor", "positive") for i in group]
            assert len(pair_texts) == len(set(pair_texts))
            assert not {columns["negative_1"][i] for i in group} & set(pair_texts)


def test_sampler_curriculum_runs_easy_batches_first():
    from loracode_embed.training.sampler import NoDuplicatesLengthGroupedBatchSampler

    n = 256
    columns = {"anchor": [f"q{i}" for i in range(n)], "positive": [f"c{i}" * (1 + i % 5) for i in range(n)]}
    difficulty = [float((i * 37) % n) for i in range(n)]

    def mean_difficulty(buckets: int) -> list[float]:
        sampler = NoDuplicatesLengthGroupedBatchSampler(
            columns, batch_size=16, drop_last=True, seed=1, difficulty=difficulty, curriculum_buckets=buckets
        )
        return [float(np.mean([difficulty[i] for i in b])) for b in sampler]

    ordered = mean_difficulty(4)
    quarters = [np.mean(ordered[k : k + 4]) for k in range(0, 16, 4)]
    assert quarters == sorted(quarters) and quarters[-1] - quarters[0] > n / 2
    shuffled = mean_difficulty(0)
    assert shuffled != sorted(shuffled)
    with pytest.raises(ValueError, match="difficulty has 3 values"):
        NoDuplicatesLengthGroupedBatchSampler(columns, 16, True, difficulty=[0.0] * 3, curriculum_buckets=2)


# ---------------------------------------------------------------------------- training


def test_cached_loss_trains_with_negatives_and_curriculum(tmp_path, corpus, mined):
    from loracode_embed.training import TrainConfig
    from loracode_embed.training.runner import build_trainer, run_training

    train_file = corpus / "python-hn" / "train-00000.jsonl.gz"
    config = TrainConfig(
        name="text2code-python", base=os.fspath(TINY_BASE), train_files=[os.fspath(train_file)],
        output_dir=os.fspath(tmp_path / "run"), batch_size=8, mini_batch_size=4, num_negatives=2,
        curriculum_buckets=2, max_steps=2, learning_rate=5e-3, lora_r=4, lora_alpha=8, logging_steps=1,
        eval_steps=100, device="cpu", max_seq_length=64,
    )  # fmt: skip
    run = build_trainer(config)
    assert run.trainer.train_dataset.column_names == ["anchor", "positive", "negative_1", "negative_2"]
    run_training(run)
    record = json.loads((run.output_dir / "training.json").read_text())
    assert record["steps"] == 2
    assert record["ranks"][0]["candidates_per_anchor"] == 8 * 3  # 8 positives + 16 hard negatives
    data = record["data"]
    assert data["num_negatives"] == 2 and data["curriculum_buckets"] == 2 and data["train_pairs"] == 49
    report_sha = hashlib.sha256((corpus / "python-hn" / "negatives.json").read_bytes()).hexdigest()
    assert data["negatives"]["sha256"] == report_sha  # found beside the training file
    assert data["negatives"]["report"]["settings"]["rank_max"] == 20

    with pytest.raises(ValueError, match="'negatives' must be a list of strings"):
        build_trainer(
            config.with_overrides({"train_files": [os.fspath(corpus / "python" / "train-00000.jsonl.gz")]})
        )


def test_script_flags_name_the_folder_and_reach_the_step(corpus):
    import argparse

    hard_negatives = load_script("trainers/data/hard_negatives.py")

    parser = argparse.ArgumentParser()
    hard_negatives.add_arguments(parser)
    args = parser.parse_args(
        "--num-negatives 1 --rank-min 3 --rank-max 12 --margin -0.05 --seed 2 --device cpu".split()
    )
    report = hard_negatives.run(args, corpus / "python", None, os.fspath(TINY_BASE))
    assert Path(report["output"]["folder"]).name == "python-hn1r3-12m-0.05s2"
    assert report["settings"] == {
        "num_negatives": 1, "rank_min": 3, "rank_max": 12, "margin": -0.05, "near_duplicate": 0.8,
        "file_fields": ["package", "path"], "seed": 2,
    }  # fmt: skip
    for record in _read(corpus / "python-hn1r3-12m-0.05s2" / "train-00000.jsonl.gz"):
        # a negative margin: every negative at least 0.05 below the positive
        assert all(s <= record["positive_score"] - 0.05 + 1e-5 for s in record["negative_scores"])
    with pytest.raises(ValueError, match="rank_max"):
        hard_negatives.settings_from_args(parser.parse_args("--rank-min 50 --rank-max 10".split()))


def test_training_dataset_fingerprint_is_a_hash_of_its_texts():
    # datasets would hash the Arrow table with dill (fails for pyarrow 26 on Python 3.12); ours is
    # deterministic and changes with any text
    from loracode_embed.training.data import to_dataset

    rows = [
        {"anchor": "a", "positive": "b", "negative_1": "c"},
        {"anchor": "x", "positive": "y", "negative_1": "z"},
    ]
    first, again = to_dataset(rows), to_dataset([dict(r) for r in rows])
    changed = to_dataset([rows[0], {**rows[1], "negative_1": "w"}])
    assert first._fingerprint == again._fingerprint != changed._fingerprint
    assert first.column_names == ["anchor", "positive", "negative_1"] and first[1]["negative_1"] == "z"
