"""``loracode index --ray`` (:mod:`loracode_qdrant.ray_index`) on a local Ray instance with 2 CPUs.

One instance serves the whole module (starting Ray takes seconds). Every index is the embedded store;
each Ray run is compared point by point with a plain ``CodeIndex.index`` of the same tree.
"""

from __future__ import annotations

import argparse
import functools
import importlib.util
import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from loracode_qdrant import cli
from loracode_qdrant.index import CodeIndex
from loracode_qdrant.ray_index import index_on_ray, picklable_chunker
from loracode_qdrant.testing import MAIN_GO, NET_PY, PARSE_PY, CrashOnceModel, FakeModel, write_tree

ADAPTERS = ("text2code-python", "text2code", "code2code")  # three spaces for a Python chunk, two for Go
TINY = Path(__file__).resolve().parents[3] / "tests" / "fixtures"


@pytest.fixture(scope="module")
def ray_instance():
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    import ray

    ray.init(num_cpus=2, include_dashboard=False, configure_logging=False)
    yield ray
    ray.shutdown()


@pytest.fixture
def trees(tmp_path: Path) -> list[Path]:
    """Two trees; ``b/copy.py`` repeats ``a/net.py`` (one embedding serves both)."""
    a = write_tree(tmp_path / "a", {"net.py": NET_PY, "pkg/parse.py": PARSE_PY, "cmd/main.go": MAIN_GO,
                                    "README.md": "# hi\n", "data.bin": b"\0\1\2" * 100})  # fmt: skip
    b = write_tree(tmp_path / "b", {"copy.py": NET_PY, "lib/util.go": MAIN_GO.replace("Reverse", "Flip")})
    return [a, b]


def _points(root: Path, index_dir: Path | None = None, store: Any = None) -> dict[str, Any]:
    """Every chunk and file record of an index: id -> (vectors as lists, payload)."""
    with CodeIndex(root, model=FakeModel(adapters=ADAPTERS), index_dir=index_dir, store=store) as index:
        index._open(for_write=False)
        store = index.store
        ids = [h.id for h in store.scroll("chunk")] + [h.id for h in store.scroll("file")]
        out = {}
        for hit in store.retrieve(ids, with_vectors=True):
            vectors = {name: list(v) if isinstance(v, list) else (list(v.indices), list(v.values))
                       for name, v in (hit.vectors or {}).items()}  # fmt: skip
            out[hit.id] = (vectors, hit.payload)
    assert len(out) == len(ids)  # no id twice
    return out


def _assert_same(ray: dict[str, Any], plain: dict[str, Any]) -> None:
    """Same ids, payloads and sparse vectors; dense vectors equal to float rounding (BLAS kernels differ
    with the number of rows embedded together, and Ray's batches group other chunks)."""
    assert sorted(ray) == sorted(plain)
    for pid, (vectors, payload) in plain.items():
        assert ray[pid][1] == payload
        assert sorted(ray[pid][0]) == sorted(vectors)
        for name, vec in vectors.items():
            if isinstance(vec, tuple):  # sparse
                assert ray[pid][0][name] == vec
            else:
                assert np.allclose(ray[pid][0][name], vec, atol=1e-6), (pid, name)


def _plain(root: Path, index_dir: Path, model: Any = None) -> dict[str, Any]:
    with CodeIndex(root, model=model or FakeModel(adapters=ADAPTERS), index_dir=index_dir) as index:
        index.index()
    return _points(root, index_dir)


def _on_ray(roots: list[Path], dirs: list[Path], factory: Any, **kwargs: Any) -> list[Any]:
    indexes = [CodeIndex(r, model=factory(), index_dir=d) for r, d in zip(roots, dirs, strict=True)]
    try:
        return index_on_ray(indexes, factory, **kwargs)
    finally:
        for index in indexes:
            index.close()


def test_ray_index_equals_plain_index_and_reruns_incrementally(ray_instance, trees, tmp_path: Path) -> None:
    factory = functools.partial(FakeModel, adapters=ADAPTERS)
    dirs = [tmp_path / "ray-a", tmp_path / "ray-b"]
    first = _on_ray(trees, dirs, factory)
    assert [(s.added, s.skipped) for s in first] == [(3, {"unknown-language": 2}), (2, {})]
    # Four chunks of b/copy.py repeat a/net.py: embedded once for both trees (same task, adapter, text).
    embedded, total = (sum(getattr(s, key) for s in first) for key in ("chunks_embedded", "chunks_total"))
    assert embedded == total
    for root, index_dir in zip(trees, dirs, strict=True):
        _assert_same(_points(root, index_dir), _plain(root, tmp_path / f"plain-{root.name}"))
    again = _on_ray(trees, dirs, factory)
    assert [(s.unchanged, s.updated, s.chunks_embedded) for s in again] == [(3, 0, 0), (2, 0, 0)]
    # Edit one function, delete a file, add a copy: only the new function is embedded.
    net = trees[0] / "net.py"
    net.write_text(NET_PY.replace("return self.data.get(key)", "return self.data.get(key, None)"))
    (trees[0] / "pkg" / "parse.py").unlink()
    (trees[1] / "again.go").write_text((trees[1] / "lib" / "util.go").read_text())
    third = _on_ray(trees, dirs, factory)
    assert [(s.updated, s.deleted, s.added) for s in third] == [(1, 1, 0), (0, 0, 1)]
    assert third[0].chunks_embedded == 1 and third[1].chunks_embedded == 0  # the copy reuses stored vectors
    for root, index_dir in zip(trees, dirs, strict=True):
        _assert_same(_points(root, index_dir), _plain(root, tmp_path / f"plain2-{root.name}"))


def test_killed_embedding_worker_is_retried_without_loss_or_duplicates(
    ray_instance, trees, tmp_path: Path
) -> None:
    """One actor process dies mid-batch; tree ``b`` goes to a server store (qdrant-client, in memory)."""
    from qdrant_client import QdrantClient

    from loracode_qdrant.store import ServerStore

    client = QdrantClient(":memory:")
    marker = tmp_path / "killed"
    factory = functools.partial(CrashOnceModel, marker, adapters=ADAPTERS)
    indexes = [CodeIndex(trees[0], model=factory(), index_dir=tmp_path / "ray-a"),
               CodeIndex(trees[1], model=factory(), store=ServerStore(client, "loracode-b"))]  # fmt: skip
    summaries = index_on_ray(indexes, factory)
    for index in indexes:
        index.close()
    assert marker.exists()  # an actor process was killed mid-batch
    assert int(marker.read_text()) != os.getpid()  # ... a Ray worker, not this process
    assert [s.added for s in summaries] == [3, 2]
    _assert_same(_points(trees[0], tmp_path / "ray-a"), _plain(trees[0], tmp_path / "plain-a"))
    on_server = _points(trees[1], store=ServerStore(client, "loracode-b"))
    _assert_same(on_server, _plain(trees[1], tmp_path / "plain-b"))


def test_more_workers_than_cpu_slots_is_refused_before_any_write(ray_instance, trees, tmp_path) -> None:
    with pytest.raises(ValueError, match=r"workers=3, but the Ray cluster has 2 CPU slot\(s\)"):
        _on_ray(trees, [tmp_path / "ra", tmp_path / "rb"], FakeModel, workers=3)
    assert not (tmp_path / "ra").exists()


@pytest.fixture(scope="module")
def tiny_bundle(tmp_path_factory) -> Path:
    from loracode_embed import LoRACodeModel

    adapters = {n: TINY / "tiny-adapters" / n for n in ADAPTERS}
    model = LoRACodeModel.from_base(TINY / "tiny-roberta", adapters=adapters, device="cpu")
    return model.save_pretrained(tmp_path_factory.mktemp("bundle"))


def test_cli_ray_indexes_a_list_of_trees_like_the_plain_path(
    ray_instance, loracode_main, tiny_bundle: Path, trees, tmp_path: Path, capsys
) -> None:
    from loracode_embed import LoRACodeModel

    listing = tmp_path / "repos.txt"
    listing.write_text(f"# the trees\n{trees[1]}  # the small one\n\n")
    command = ["index", str(trees[0]), "--from-file", str(listing), "--model", str(tiny_bundle),
               "--dtype", "float32", "--json", "--ray", "--ray-workers", "2"]  # fmt: skip
    assert loracode_main(command) == 0
    summaries = json.loads(capsys.readouterr().out)
    assert [(s["root"], s["added"]) for s in summaries] == [(str(trees[0]), 3), (str(trees[1]), 2)]
    model = LoRACodeModel.from_pretrained(tiny_bundle, device="cpu", dtype="float32")
    for root in trees:
        with CodeIndex(root, model=model) as index:
            index._open(for_write=False)
            ray_ids = sorted(h.id for h in index.store.scroll("chunk"))
            ray_vectors = {h.id: h.vectors for h in index.store.retrieve(ray_ids, with_vectors=True)}
        with CodeIndex(root, model=model, index_dir=tmp_path / f"plain-{root.name}") as index:
            index.index()
            plain_ids = sorted(h.id for h in index.store.scroll("chunk"))
            plain_vectors = {h.id: h.vectors for h in index.store.retrieve(plain_ids, with_vectors=True)}
        assert ray_ids == plain_ids
        for pid in plain_ids:  # batches differ (Ray's are grouped over both trees): float rounding only
            for space, vec in plain_vectors[pid].items():
                if isinstance(vec, list):
                    assert np.allclose(ray_vectors[pid][space], vec, atol=1e-5), (pid, space)
    assert loracode_main(command) == 0
    assert [s["chunks_embedded"] for s in json.loads(capsys.readouterr().out)] == [0, 0]


def test_token_counter_of_the_chunk_tasks_counts_as_the_model(tiny_bundle: Path) -> None:
    import pickle

    from loracode_embed import LoRACodeModel

    model = LoRACodeModel.from_pretrained(tiny_bundle, device="cpu")
    with CodeIndex(model=model, index_dir=tiny_bundle.parent / "unused") as index:
        chunker = picklable_chunker(index._chunker(), model)
    texts = ["def f(x):\n    return x", "", "ünïcode ✓ " * 50]
    shipped = pickle.loads(pickle.dumps(chunker))  # what a Ray task receives
    assert shipped.count_tokens(texts) == model.count_tokens(texts)
    assert len(pickle.dumps(chunker)) < 5_000_000  # the tokenizer, not the weights


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser()
    cli.register(parser.add_subparsers(dest="command"))
    return parser


def test_ray_flag_takes_an_optional_address() -> None:
    assert _parser().parse_args(["index", "a", "b", "--ray"]).ray == ""
    assert _parser().parse_args(["index", "a", "--ray=auto"]).ray == "auto"
    assert _parser().parse_args(["index", "--ray", "ray://head:10001", "a"]).ray == "ray://head:10001"
    assert _parser().parse_args(["index", "a"]).ray is None


def test_ray_flag_refuses_a_folder_as_its_address(capsys) -> None:
    with pytest.raises(SystemExit):
        _parser().parse_args(["index", "--ray", "repos/app"])
    assert "'repos/app' is not a Ray address" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("extra", "error", "message"),
    [
        (["--index-dir", "x"], ValueError, "--index-dir names one index, but several folders are given"),
        (["{a}"], ValueError, r"'.*' \(path\) is listed twice \(also as '.*'\)"),
        (["--ray-workers", "2"], ValueError, "--ray-workers needs --ray"),
        (["--from-file", "{a}/nope.txt"], FileNotFoundError, "--from-file '.*nope.txt': no such file"),
        (["{a}/net.py"], ValueError, r"net.py' \(path\) is a file"),
    ],
)
def test_bad_index_arguments_are_refused_before_any_work(
    trees, extra: list[str], error: type, message: str, monkeypatch
) -> None:
    monkeypatch.setattr(cli, "load_model", lambda *a, **k: pytest.fail("the model must not load"))
    argv = ["index", str(trees[0]), str(trees[1]), *[e.format(a=trees[0]) for e in extra]]
    args = _parser().parse_args(argv)
    with pytest.raises(error, match=message):
        args.func(args)


def test_ray_missing_names_the_extra(trees, monkeypatch) -> None:
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "ray" else real(name))
    args = _parser().parse_args(["index", str(trees[0]), "--ray"])
    with pytest.raises(ImportError, match=r"\(missing: ray\)\. Install the extra: .*loracode-qdrant\[ray\]"):
        args.func(args)


def test_several_trees_on_a_server_get_one_collection_each(tmp_path: Path) -> None:
    app, other_app = tmp_path / "app", tmp_path / "x" / "app"
    assert cli.collection_for("code", app, several=True) == "code-app"
    assert cli.collection_for("code", app, several=False) == "code"
    args = argparse.Namespace(qdrant_url="http://127.0.0.1:6333", collection="code")
    with pytest.raises(ValueError, match="would share the collection 'code-app'"):
        cli._check_collections(args, [app, other_app])
