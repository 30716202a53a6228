"""Benchmark: index CPython's standard library with the default bundle, then re-index it unchanged.

Knobs at the top; run from the repository root:

    PYTHONPATH=.:integrations/qdrant python benchmarks/index_stdlib.py

Writes benchmarks/results/index_stdlib.json. The store goes to a temporary folder (the stdlib is not
written to). The figures in docs/benchmarks.md come from this script on the 2-core CPU dev machine.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import sysconfig
import tempfile
import time
from pathlib import Path

# ---- knobs
STDLIB = Path(os.environ.get("STDLIB", sysconfig.get_paths()["stdlib"]))
INDEX_DIR = Path(os.environ.get("INDEX_DIR", tempfile.mkdtemp(prefix="loracode-stdlib-")))
OUT = Path(__file__).resolve().parent / "results" / "index_stdlib.json"
BATCH_SIZE = int(os.environ.get("BATCH_SIZE", "64"))
KEEP_INDEX = os.environ.get("KEEP_INDEX", "0") == "1"
# float32 (the default) or bfloat16 (the CPU fast path: docs/benchmarks.md, "CPU fast path")
DTYPE = os.environ.get("DTYPE", "float32")
# A comma list of stdlib folders/modules to index instead of the whole stdlib (copied to a temp tree).
SUBSET = [s for s in os.environ.get("SUBSET", "").split(",") if s]
if SUBSET:
    subset_root = Path(tempfile.mkdtemp(prefix="stdlib-subset-")) / "Lib"
    for name in SUBSET:
        src = STDLIB / name
        if src.is_dir():
            shutil.copytree(src, subset_root / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            subset_root.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, subset_root / name)
    FULL_STDLIB, STDLIB = STDLIB, subset_root
OUT = OUT.with_name(
    f"index_stdlib{'_subset' if SUBSET else ''}{'' if DTYPE == 'float32' else '_' + DTYPE}.json"
)

from loracode_qdrant import CodeIndex  # noqa: E402
from loracode_qdrant.chunking import Chunker  # noqa: E402
from loracode_qdrant.walk import SkipFile, read_source, walk_tree  # noqa: E402
from machine_info import machine_description  # noqa: E402

from loracode_embed import LoRACodeModel  # noqa: E402

# ---- 1. the model (load time reported apart)
t0 = time.perf_counter()
model = LoRACodeModel.from_pretrained(device="cpu", dtype=DTYPE)
load_s = time.perf_counter() - t0

# ---- 2. walk + chunk only (no embedding), to separate their cost from the model's
t0 = time.perf_counter()
walk = walk_tree(STDLIB)
chunker = Chunker(model.count_tokens, model.max_seq_length)
n_chunks = 0
for f in walk.files:
    try:
        n_chunks += len(chunker.chunk(read_source(f).data, f.language))
    except SkipFile:
        pass
walk_chunk_s = time.perf_counter() - t0
print(f"walk+chunk: {len(walk.files)} files, {n_chunks} chunks in {walk_chunk_s:.1f}s", flush=True)

# ---- 3. first index, 4. unchanged re-index
shutil.rmtree(INDEX_DIR, ignore_errors=True)
with CodeIndex(STDLIB, model=model, index_dir=INDEX_DIR, batch_size=BATCH_SIZE, show_progress=True) as index:
    first = index.index()
    print(first, flush=True)
    second = index.index()
    print(second, flush=True)
result = {
    "machine": machine_description(),
    "python": sys.version.split()[0],
    "stdlib": str(FULL_STDLIB if SUBSET else STDLIB),
    "subset": SUBSET or "whole stdlib",
    "model": f"default bundle (all-MiniLM-L6-v2, adapters: {', '.join(model.adapters) or 'none'}), CPU",
    "dtype": DTYPE,
    "model_load_s": round(load_s, 2),
    "walk_and_chunk_s": round(walk_chunk_s, 2),
    "files": first.files,
    "indexed_files": first.added,
    "chunks": first.chunks_total,
    "skipped": first.skipped,
    "first_index_s": first.seconds,
    "files_per_s": round(first.added / first.seconds, 2),
    "chunks_per_s": round(first.chunks_total / first.seconds, 2),
    "reindex_unchanged_s": second.seconds,
    "reindex_ratio": round(second.seconds / first.seconds, 4),
    "reindex_embedded": second.chunks_embedded,
    "index_dir": str(INDEX_DIR),
    "load_average_at_end": os.getloadavg(),
}
OUT.parent.mkdir(parents=True, exist_ok=True)
OUT.write_text(json.dumps(result, indent=2) + "\n")
print(json.dumps(result, indent=2))
if not KEEP_INDEX:
    shutil.rmtree(INDEX_DIR, ignore_errors=True)
