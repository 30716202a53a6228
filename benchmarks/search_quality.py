"""Benchmark: search quality (MRR@10) on natural-language queries made from stripped docstrings.

How the labelled set is built:

1. Copy the source of real Python projects (by default ``marshmallow`` and ``python-dateutil`` as
   installed in the environment; both are held out from adapter training, see shared/HOLDOUT.md).
2. With ``ast``, find every function, method and class with a docstring. The query is the docstring's
   first sentence (first paragraph, cut at the first ". "), kept if it has at least 4 words and is not
   shared with another definition. The relevant chunk is any chunk of the same file whose lines cover
   the definition's ``def``/``class`` line.
3. Every docstring is replaced by ``pass`` lines (line numbers unchanged) in the copy, so the answer
   text is never in the index; then the copy is indexed and each query searched (k=10).

MRR@10 and recall@1/@10 are reported for the default per-language search (fused) and for the unified
space, with one hit per definition (the default) and, as before, one hit per chunk (``group=False``);
and how many queries' top 10 show one definition twice. A hit is relevant if its lines include the
definition's ``def`` line (the rule used so far); the ``_definition`` figures also count a later part
of the definition (a grouped hit shows its best part, which need not hold the ``def`` line). Run from the repository root:

    PYTHONPATH=.:integrations/qdrant python benchmarks/search_quality.py

Writes benchmarks/results/search_quality.json (``OUT=name.json`` for another name; ``PACKAGES=a,b`` for
other installed projects; ``DTYPE=bfloat16`` for a faster run on CPUs with hardware bfloat16;
``SPACES=language`` for the index as ``loracode index`` builds it by default, which has no unified space:
the unified rows are then left out; the default ``all`` stores every space, so both modes are measured).
"""

from __future__ import annotations

import ast
import importlib
import json
import os
import random
import shutil
import tempfile
import time
from pathlib import Path

# ---- knobs
PACKAGES = os.environ.get("PACKAGES", "marshmallow,dateutil").split(",")
MAX_QUERIES = int(os.environ.get("MAX_QUERIES", "400"))
K = 10
SEED = 0
WORKDIR = Path(os.environ.get("WORKDIR", tempfile.mkdtemp(prefix="loracode-quality-")))
OUT = Path(__file__).resolve().parent / "results" / os.environ.get("OUT", "search_quality.json")
DTYPE = os.environ.get("DTYPE", "float32")  # bfloat16: a faster index on CPUs that have it
SPACES = os.environ.get("SPACES", "all")  # CodeIndex(spaces=...): "all" (both modes) or "language"

from loracode_qdrant import CodeIndex  # noqa: E402
from loracode_qdrant.index import definition_key  # noqa: E402
from machine_info import machine_description  # noqa: E402

from loracode_embed import LoRACodeModel  # noqa: E402


def first_sentence(doc: str) -> str:
    para = " ".join(doc.strip().split("\n\n")[0].split())
    cut = para.find(". ")
    return (para[: cut + 1] if cut != -1 else para).strip()


def strip_and_label(src_root: Path, dst_root: Path) -> list[dict]:
    """Copy .py files with docstrings blanked; return the labelled queries."""
    labels = []
    for path in sorted(src_root.rglob("*.py")):
        rel = path.relative_to(src_root.parent).as_posix()
        text = path.read_text(encoding="utf-8")
        try:
            tree = ast.parse(text)
        except SyntaxError:
            continue
        lines = text.splitlines(keepends=True)
        for node in ast.walk(tree):
            if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Module)):
                continue
            body = node.body
            if not (
                body
                and isinstance(body[0], ast.Expr)
                and isinstance(getattr(body[0], "value", None), ast.Constant)
                and isinstance(body[0].value.value, str)
            ):
                continue
            doc = body[0]
            indent = " " * doc.col_offset
            for i in range(doc.lineno - 1, doc.end_lineno):
                lines[i] = (indent + "pass\n") if i == doc.lineno - 1 else "\n"
            if isinstance(node, ast.Module):
                continue
            query = first_sentence(doc.value.value)
            if len(query.split()) >= 4:
                labels.append({"query": query, "path": rel, "line": node.lineno, "end_line": node.end_lineno,
                               "name": node.name})  # fmt: skip
        out = dst_root / rel
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text("".join(lines), encoding="utf-8")
        ast.parse(out.read_text(encoding="utf-8"))  # still valid Python
    counts: dict[str, int] = {}
    for label in labels:
        counts[label["query"]] = counts.get(label["query"], 0) + 1
    return [label for label in labels if counts[label["query"]] == 1]


def _covers_def_line(hit, label: dict) -> bool:
    """The metric used so far: the hit's lines include the definition's ``def``/``class`` line."""
    return hit.path == label["path"] and hit.start_line <= label["line"] <= hit.end_line


def _same_definition(hit, label: dict) -> bool:
    """The hit is the labelled definition or one of its parts (a long function is stored in parts, and a
    grouped hit shows its best part, which need not hold the ``def`` line)."""
    if _covers_def_line(hit, label):
        return True
    symbol = (hit.symbol or "").rsplit(".", 1)[-1]
    return (
        hit.path == label["path"]
        and symbol == label["name"]
        and hit.kind.endswith("-part")
        and label["line"] <= hit.start_line <= label["end_line"]
    )


def evaluate(index: CodeIndex, labels: list[dict], mode: str, group: bool = True) -> dict:
    """MRR@10, recall@1/@10 (by both relevance rules), and how many top-k lists show a definition twice."""
    rr = {"def_line": [], "definition": []}
    r1 = {"def_line": 0, "definition": 0}
    r10 = {"def_line": 0, "definition": 0}
    times, repeated = [], 0
    for label in labels:
        t0 = time.perf_counter()
        hits = index.search(label["query"], k=K, mode=mode, task="text2code", group=group)
        times.append(time.perf_counter() - t0)
        keys = [definition_key(h) for h in hits]
        repeated += len(keys) != len(set(keys))
        for rule, relevant in (("def_line", _covers_def_line), ("definition", _same_definition)):
            rank = next((i + 1 for i, h in enumerate(hits) if relevant(h, label)), None)
            rr[rule].append(1.0 / rank if rank else 0.0)
            r1[rule] += rank == 1
            r10[rule] += rank is not None
    n = len(labels)
    return {
        "mrr@10": round(sum(rr["def_line"]) / n, 4),
        "recall@1": round(r1["def_line"] / n, 4),
        "recall@10": round(r10["def_line"] / n, 4),
        "mrr@10_definition": round(sum(rr["definition"]) / n, 4),
        "recall@10_definition": round(r10["definition"] / n, 4),
        "queries_with_a_definition_twice": repeated,
        "mean_search_ms": round(1000 * sum(times) / n, 1),
    }


def main() -> None:
    shutil.rmtree(WORKDIR, ignore_errors=True)
    tree = WORKDIR / "tree"
    labels: list[dict] = []
    sources = {}
    for name in PACKAGES:
        module = importlib.import_module(name)
        src = Path(module.__file__).parent
        sources[name] = str(src)
        labels += strip_and_label(src, tree)
    random.Random(SEED).shuffle(labels)
    labels = labels[:MAX_QUERIES]
    model = LoRACodeModel.from_pretrained(device="cpu", dtype=DTYPE)
    with CodeIndex(tree, model=model, index_dir=WORKDIR / "idx", spaces=SPACES) as index:
        summary = index.index()
        kinds = list(index.space_kinds)  # read while open: a closed index no longer knows its metadata
        has_unified = "unified" in kinds
        per_language = evaluate(index, labels, "per-language")
        unified = evaluate(index, labels, "unified") if has_unified else None
        per_language_chunks = evaluate(index, labels, "per-language", group=False)
        unified_chunks = evaluate(index, labels, "unified", group=False) if has_unified else None
    result = {
        "packages": sources,
        "files": summary.added,
        "chunks": summary.chunks_total,
        "queries": len(labels),
        "model": f"default bundle (all-MiniLM-L6-v2, adapters: {', '.join(model.adapters) or 'none'}), CPU, {DTYPE}",
        "spaces": kinds,
        "per_language_fused": per_language,
        "unified_space": unified,
        "ungrouped_chunks_as_before": {
            "per_language_fused": per_language_chunks,
            "unified_space": unified_chunks,
        },
        "examples": labels[:5],
        "machine": machine_description(),
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
