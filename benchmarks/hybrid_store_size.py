"""Benchmark: how much the sparse (BM25) vectors add to an index on disk, and what re-indexing costs.

The same tree is indexed twice into Qdrant Edge stores laid out as the shipped bundle lays them out
(384-d vectors; a Python chunk in three spaces: ``text2code-python``, ``text2code``, ``code2code``),
once as this version writes it (dense spaces + the ``bm25-code`` sparse vector) and once with the sparse
vectors left out (the layout before hybrid search). Vector *values* do not change sizes, so the
dense vectors come from ``loracode_qdrant.testing.FakeModel`` (fast); the chunk texts, payloads and
sparse vectors are real. Sizes are allocated blocks on disk (Qdrant Edge's files are sparse: their
apparent size overstates) after the index run's flush and HNSW build.

Then one file is edited and the tree re-indexed, to check that the run stays incremental (only the
edited file's new chunks are embedded; no other chunk is rewritten).

    PYTHONPATH=.:integrations/qdrant python benchmarks/hybrid_store_size.py

Writes ``benchmarks/results/hybrid_store_size.json`` (``OUT=<name>.json``: another file there).
"""

from __future__ import annotations

import json
import os
import shutil
import sysconfig
import tempfile
from pathlib import Path

# ---- knobs
PACKAGES = os.environ.get("PACKAGES", "json,http,logging,urllib,email,concurrent,asyncio,xml").split(",")
WORKDIR = Path(os.environ.get("WORKDIR") or tempfile.mkdtemp(prefix="loracode-hybrid-size-"))
OUT = Path(__file__).resolve().parent / "results" / os.environ.get("OUT", "hybrid_store_size.json")

from loracode_qdrant import CodeIndex, hybrid  # noqa: E402
from loracode_qdrant.sparse import SparseVector  # noqa: E402
from loracode_qdrant.testing import FakeModel  # noqa: E402
from machine_info import machine_description  # noqa: E402

ADAPTERS = ("text2code-python", "text2code", "code2code")


def disk_usage(folder: Path) -> int:
    """Bytes allocated on disk under ``folder``."""
    return sum(p.stat().st_blocks * 512 for p in folder.rglob("*") if p.is_file())


def build(tree: Path, folder: Path, with_sparse: bool) -> dict:
    keep = hybrid.sparse_document
    if not with_sparse:
        hybrid.sparse_document = lambda path, text, symbol=None: SparseVector([], [])  # type: ignore[assignment]
    try:
        model = FakeModel(adapters=ADAPTERS, dim=384, max_seq_length=256)
        with CodeIndex(tree, model=model, index_dir=folder, show_progress=False) as index:
            summary = index.index()
        out = {"chunks": summary.chunks_total, "files": summary.files, "disk_bytes": disk_usage(folder)}
        if with_sparse:  # edit one file: only its new chunks are embedded and written
            victim = sorted(tree.rglob("*.py"))[0]
            victim.write_text(victim.read_text() + "\n\ndef added_for_the_check(x):\n    return x\n")
            with CodeIndex(tree, model=model, index_dir=folder, show_progress=False) as index:
                again = index.index()
            out["reindex_after_one_edit"] = {"updated": again.updated, "unchanged": again.unchanged,
                                             "chunks_embedded": again.chunks_embedded,
                                             "chunks_reused": again.chunks_reused}  # fmt: skip
        return out
    finally:
        hybrid.sparse_document = keep


def main() -> None:
    shutil.rmtree(WORKDIR, ignore_errors=True)
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    tree = WORKDIR / "tree"
    for name in PACKAGES:
        shutil.copytree(stdlib / name, tree / name, ignore=shutil.ignore_patterns("__pycache__", "test*"))
    dense = build(tree, WORKDIR / "dense-only", with_sparse=False)
    both = build(tree, WORKDIR / "with-sparse", with_sparse=True)
    result = {
        "packages": PACKAGES,
        "layout": "384-d, three dense spaces per Python chunk (as the shipped bundle), FakeModel vectors",
        "dense_only": dense,
        "with_sparse": both,
        "growth": round(both["disk_bytes"] / dense["disk_bytes"] - 1, 4),
        "machine": machine_description(),
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    shutil.rmtree(WORKDIR, ignore_errors=True)


if __name__ == "__main__":
    main()
