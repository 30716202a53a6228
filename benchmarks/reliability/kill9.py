"""Reliability: `kill -9` the indexer at random moments, run it again, compare with a clean index.

For each trial (>= 20): an indexer process works on a copy of a source tree; it is killed with SIGKILL
after a random delay within the duration of a full run. The store is then checked *as the kill left
it* (every file record's chunks must all be present: no file marked done with chunks missing), the
indexer is run again to completion, and the store must equal a clean index of the same tree: same
chunk ids with the same payloads (0 lost, 0 duplicates, 0 stale points). Even trials first mutate the
tree (edit, delete, rename, add files) on top of the previous trial's store, so kills also land in
incremental runs that update and delete.

    PYTHONPATH=.:integrations/qdrant python benchmarks/reliability/kill9.py            # fake model (fast)
    MODEL=default TRIALS=20 PYTHONPATH=.:integrations/qdrant python benchmarks/reliability/kill9.py

KILL_AT=optimize kills each run as soon as Qdrant Edge starts an HNSW build instead (the tree must
then have more chunks than Qdrant Edge's indexing threshold, about 6.6k at 384-d; incremental runs that
build nothing run to the end):

    KILL_AT=optimize TRIALS=4 SOURCE_PACKAGES=asyncio,idlelib,tkinter,unittest,lib2to3,xml RESULTS=X.json
    (then PYTHONPATH and the script as above)

TARGET=serve kills `loracode serve`'s live index instead (a WarmIndex with its Watcher, as
`loracode serve --watch` runs them; needs loracode-serve installed): fresh trials kill it during its first
index pass; incremental trials let that pass finish, then edit the tree under the running watcher and kill
it during the re-index the edits start. The next start must repair the index (its first pass runs to the
end), which must then equal a clean index of the tree:

    TARGET=serve TRIALS=20 PYTHONPATH=.:integrations/qdrant:integrations/serve python benchmarks/reliability/kill9.py

MODEL=fake uses loracode_qdrant.testing.FakeModel (store behaviour does not depend on the model; the
run is short enough for many kills); MODEL=default uses the real default bundle (MiniLM, CPU).
Writes benchmarks/results/kill9_<model>.json (kill9_serve_<model>.json with TARGET=serve) (another name under benchmarks/results/ with RESULTS=NAME,
e.g. for a second batch with another SEED).
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import sys
import sysconfig
import tempfile
import time
from pathlib import Path

# ---- knobs
TRIALS = int(os.environ.get("TRIALS", "20"))
MODEL = os.environ.get("MODEL", "fake")
SOURCE_PACKAGES = os.environ.get("SOURCE_PACKAGES", "json,http,logging,urllib,email,concurrent").split(",")
SEED = int(os.environ.get("SEED", "0"))
KILL_AT = os.environ.get("KILL_AT", "random")  # "random" delay, or "optimize": once an HNSW build starts
TARGET = os.environ.get("TARGET", "index")  # "index": a loracode index run; "serve": the server's live index
WORK = Path(os.environ.get("WORKDIR", tempfile.mkdtemp(prefix="loracode-kill9-")))
_DEFAULT_OUT = f"kill9_{MODEL}.json" if TARGET == "index" else f"kill9_serve_{MODEL}.json"
OUT = Path(__file__).resolve().parents[1] / "results" / os.environ.get("RESULTS", _DEFAULT_OUT)
REPO = Path(__file__).resolve().parents[2]
ENV = {**os.environ, "PYTHONPATH": os.pathsep.join(
    [str(REPO), str(REPO / "integrations" / "qdrant"), str(REPO / "integrations" / "serve")])}  # fmt: skip

CHILD = """
import sys
from loracode_qdrant import CodeIndex
if sys.argv[3] == "fake":
    from loracode_qdrant.testing import FakeModel
    model = FakeModel(dim=384, max_seq_length=256)
else:
    from loracode_embed import LoRACodeModel
    model = LoRACodeModel.from_pretrained(device="cpu")
print("ready", flush=True)
with CodeIndex(sys.argv[1], model=model, index_dir=sys.argv[2], batch_size=16, show_progress=False) as index:
    print(index.index().to_dict(), flush=True)
"""


# The server's live index: WarmIndex + Watcher, as `loracode serve --watch` runs them. Prints "ready" once
# the model is loaded and the watcher started, then "refreshed N" after each completed index pass; closing
# its stdin stops it cleanly.
SERVE_CHILD = """
import sys, threading, time
from loracode_serve import WarmIndex, Watcher
if sys.argv[3] == "fake":
    from loracode_qdrant.testing import FakeModel
    model = FakeModel(dim=384, max_seq_length=256)
else:
    from loracode_embed import LoRACodeModel
    model = LoRACodeModel.from_pretrained(device="cpu")
warm = WarmIndex(sys.argv[1], model=model, index_dir=sys.argv[2], batch_size=16)
watcher = Watcher(warm, quiet_ms=50).start()
print("ready", flush=True)
done = threading.Event()
threading.Thread(target=lambda: (sys.stdin.read(), done.set()), daemon=True).start()
seen = 0
while not done.wait(0.02):
    if warm.refreshes != seen:
        seen = warm.refreshes
        print(f"refreshed {seen}", flush=True)
watcher.stop()
warm.close()
"""


class ServerChild:
    """A SERVE_CHILD process."""

    def __init__(self, tree: Path, idx: Path) -> None:
        self.proc = subprocess.Popen([sys.executable, "-c", SERVE_CHILD, str(tree), str(idx), MODEL], env=ENV,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                     text=True)  # fmt: skip
        assert self.readline() == "ready"

    def readline(self) -> str:
        assert self.proc.stdout is not None
        return self.proc.stdout.readline().strip()

    def wait_refreshes(self, n: int) -> None:
        while (line := self.readline()) != f"refreshed {n}":
            assert line, "the server child exited"

    def kill_after(self, delay: float) -> bool:
        try:
            self.proc.wait(timeout=delay)
        except subprocess.TimeoutExpired:
            os.kill(self.proc.pid, signal.SIGKILL)
        return self.proc.wait() == -signal.SIGKILL

    def stop(self) -> int:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        return self.proc.wait()


def serve_trial(tree: Path, idx: Path, trial: int, rng: random.Random, estimate: dict[str, float]) -> dict:
    """Kill the live index mid-pass (first pass, or a watcher re-index after edits), restart, compare."""
    if trial % 2 == 0:
        shutil.rmtree(idx, ignore_errors=True)
        child = ServerChild(tree, idx)
        delay = rng.uniform(0.0, 0.9 * estimate["full"])
    else:
        child = ServerChild(tree, idx)
        child.wait_refreshes(1)  # the start-up pass is done: the index matches the tree
        mutate(tree, rng)  # edits under the running watcher start a re-index
        delay = rng.uniform(0.0, 0.9 * estimate["incremental"] + 0.05)
    t0 = time.perf_counter()
    killed = child.kill_after(delay)
    after_kill = snapshot(idx) if (idx / "shard" / "edge_config.json").exists() else None
    incomplete = check_done_files_complete(after_kill) if after_kill else 0
    t1 = time.perf_counter()
    restarted = ServerChild(tree, idx)
    restarted.wait_refreshes(1)  # the next start's first pass repairs the index
    repair_s = time.perf_counter() - t1
    rc = restarted.stop()
    clean_idx = WORK / "clean"
    shutil.rmtree(clean_idx, ignore_errors=True)
    assert run_indexer(tree, clean_idx)[0] == 0, "clean run failed"
    result = compare(snapshot(idx), snapshot(clean_idx))
    if trial % 2 == 0:
        estimate["full"] = max(0.2, repair_s)
    else:
        estimate["incremental"] = max(0.2, repair_s)
    return {"trial": trial, "kind": "incremental" if trial % 2 else "fresh", "kill_after_s": round(delay, 2),
            "killed": killed, "killed_run_s": round(t1 - t0, 2), "repair_s": round(repair_s, 2),
            "points_after_kill": after_kill["total"] if after_kill else 0,
            "done_files_with_missing_chunks": incomplete, "killed_during_optimize": False, **result,
            "ok": rc == 0 and incomplete == 0 and not any(result.values())}  # fmt: skip


def _building(idx: Path) -> bool:
    """Whether Qdrant Edge is building an optimized (HNSW) segment: shard/temp_segments is not empty."""
    temp = idx / "shard" / "temp_segments"
    return temp.is_dir() and any(temp.iterdir())


def run_indexer(tree: Path, idx: Path, kill_after: float | None = None) -> tuple[int, float]:
    """Run an indexer process; with kill_after, SIGKILL it that many seconds after its model is loaded.

    With KILL_AT=optimize, the kill comes instead as soon as an HNSW build has started (if one does).
    """
    proc = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(tree), str(idx), MODEL],
        env=ENV,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "ready"
    t0 = time.perf_counter()
    if kill_after is not None and KILL_AT == "optimize":
        while proc.poll() is None:
            if _building(idx):
                os.kill(proc.pid, signal.SIGKILL)
                break
            time.sleep(0.01)
    elif kill_after is not None:
        try:
            proc.wait(timeout=kill_after)
        except subprocess.TimeoutExpired:
            os.kill(proc.pid, signal.SIGKILL)
    rc = proc.wait()
    return rc, time.perf_counter() - t0


def snapshot(idx: Path) -> dict:
    """The store's chunks and file records, read directly from the shard."""
    from loracode_qdrant.store import EdgeStore

    store = EdgeStore(idx)
    store.acquire()
    store.read_only = True
    import json as _json

    dim = _json.loads((idx / "shard" / "edge_config.json").read_text())["vectors"]["base"]["size"]
    store.open(["base"], dim)
    chunks = {}
    for hit in store.scroll("chunk"):
        p = hit.payload
        chunks[hit.id] = (p["path"], p["start_byte"], p["end_byte"], p["start_line"], p["content_hash"])
    files = {h.payload["path"]: h.payload for h in store.scroll("file")}
    total = store.count()
    sparse = {}  # each chunk's BM25 vector (hybrid search), as stored
    ids = list(chunks)
    for start in range(0, len(ids), 512):
        for hit in store.retrieve(ids[start : start + 512], with_vectors=True):
            vec = (hit.vectors or {}).get("bm25-code")
            sparse[hit.id] = (tuple(vec.indices), tuple(round(v, 5) for v in vec.values)) if vec else None
    store.close()
    return {"chunks": chunks, "files": files, "total": total, "sparse": sparse}


def check_done_files_complete(snap: dict) -> int:
    """Files whose record exists but some of whose chunks are missing (or lack their sparse vector)."""
    return sum(
        1
        for rec in snap["files"].values()
        if not set(rec["chunk_ids"]) <= set(snap["chunks"])
        or any(snap["sparse"].get(i) is None for i in rec["chunk_ids"])
    )


def compare(got: dict, clean: dict) -> dict:
    lost = set(clean["chunks"]) - set(got["chunks"])
    stale = set(got["chunks"]) - set(clean["chunks"])
    changed = {i for i in set(got["chunks"]) & set(clean["chunks"]) if got["chunks"][i] != clean["chunks"][i]}
    spans = [v[:3] for v in got["chunks"].values()]
    return {
        "lost": len(lost),
        "stale": len(stale),
        "payload_mismatch": len(changed),
        "duplicates": len(spans) - len(set(spans)),
        "stale_file_records": len(set(got["files"]) - set(clean["files"])),
        "missing_file_records": len(set(clean["files"]) - set(got["files"])),
        "extra_points": got["total"] - clean["total"],
        # hybrid search: every chunk's sparse vector present and equal to the clean index's
        "sparse_missing": sum(
            1 for i in got["chunks"] if got["sparse"].get(i) is None and clean["sparse"].get(i)
        ),
        "sparse_mismatch": sum(
            1
            for i in set(got["chunks"]) & set(clean["chunks"])
            if got["sparse"].get(i) != clean["sparse"].get(i)
        ),
    }


def mutate(tree: Path, rng: random.Random) -> None:
    files = sorted(p for p in tree.rglob("*.py"))
    for p in rng.sample(files, 3):  # edit
        text = p.read_text(encoding="utf-8", errors="replace")
        p.write_text(text + f"\n\ndef added_{rng.randrange(10**6)}(x):\n    return x * 2\n", encoding="utf-8")
    victim = rng.choice(files)
    if victim.exists():
        victim.unlink()  # delete
    mover = rng.choice([p for p in files if p.exists()])
    mover.rename(mover.with_name(f"renamed_{rng.randrange(10**6)}_{mover.name}"))  # rename
    (tree / f"new_{rng.randrange(10**6)}.py").write_text("def fresh(a, b):\n    return a + b\n")  # add


def main() -> None:
    rng = random.Random(SEED)
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    tree = WORK / "tree"
    shutil.rmtree(WORK, ignore_errors=True)
    for name in SOURCE_PACKAGES:
        shutil.copytree(stdlib / name, tree / name, ignore=shutil.ignore_patterns("__pycache__"))
    idx = WORK / "idx"
    trials = []
    incremental_s = 1.0  # running estimate of an incremental run's length, for kill delays
    estimate = {"full": 5.0, "incremental": 1.0}  # TARGET=serve: the same, for the server's passes
    for trial in range(TRIALS):
        if TARGET == "serve":
            trials.append(serve_trial(tree, idx, trial, rng, estimate))
            print(json.dumps(trials[-1]), flush=True)
            continue
        if trial % 2 == 1:
            mutate(tree, rng)  # incremental: on top of the previous trial's store
        else:
            shutil.rmtree(idx, ignore_errors=True)  # from scratch
        clean_idx = WORK / "clean"
        shutil.rmtree(clean_idx, ignore_errors=True)
        rc, full_s = run_indexer(tree, clean_idx)
        assert rc == 0, "clean run failed"
        clean = snapshot(clean_idx)
        delay = rng.uniform(0.0, 0.9 * (full_s if trial % 2 == 0 else incremental_s))
        rc_killed, killed_run_s = run_indexer(tree, idx, kill_after=delay)
        killed_in_optimize = _building(idx)  # a left-over temp segment: killed during an HNSW build
        after_kill = snapshot(idx) if (idx / "shard" / "edge_config.json").exists() else None
        incomplete = check_done_files_complete(after_kill) if after_kill else 0
        rc_rerun, rerun_s = run_indexer(tree, idx)
        if trial % 2 == 1:
            incremental_s = max(0.2, rerun_s)
        result = compare(snapshot(idx), clean)
        ok = rc_rerun == 0 and incomplete == 0 and not any(result.values())
        trials.append(
            {
                "trial": trial,
                "kind": "incremental" if trial % 2 else "fresh",
                "kill_after_s": round(delay, 2) if KILL_AT == "random" else None,
                "killed_run_s": round(killed_run_s, 2),  # from model loaded to the kill (or the run's end)
                "killed": rc_killed == -signal.SIGKILL,
                "killed_during_optimize": killed_in_optimize,
                "clean_run_s": round(full_s, 2),
                "points_after_kill": after_kill["total"] if after_kill else 0,
                "done_files_with_missing_chunks": incomplete,
                **result,
                "ok": ok,
            }
        )
        print(json.dumps(trials[-1]), flush=True)
    summary = {
        "target": TARGET,
        "model": MODEL,
        "trials": len(trials),
        "killed_mid_run": sum(t["killed"] for t in trials),
        "killed_during_optimize": sum(t["killed_during_optimize"] for t in trials),
        "all_ok": all(t["ok"] for t in trials),
        "totals": {
            k: sum(t[k] for t in trials)
            for k in (
                "lost",
                "stale",
                "duplicates",
                "payload_mismatch",
                "done_files_with_missing_chunks",
                "extra_points",
            )
        },
        "seed": SEED,
        "kill_at": KILL_AT,
        "tree": {"packages": SOURCE_PACKAGES, "files": len(list(tree.rglob("*.py")))},
        "machine": f"{os.cpu_count()} CPUs (2-core CPU dev machine, shared)",
        "load_average_at_end": os.getloadavg(),
        "trials_detail": trials,
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(summary, indent=2) + "\n")
    print(json.dumps({k: v for k, v in summary.items() if k != "trials_detail"}, indent=2))
    if not summary["all_ok"]:
        sys.exit(1)


if __name__ == "__main__":
    main()
