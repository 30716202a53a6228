"""Benchmark: `loracode index` in process against `loracode index --ray` with 1, 2... embedding actors.

Each mode indexes the same trees from scratch into fresh stores (temporary folders; the trees are
not written to), timed end to end as a command-line run pays for it: model loads included (for Ray:
the driver's model, the actors' models, the chunk tasks). Modes run interleaved, ``--repeats`` times,
and the median of each is reported with the ratios between them and the load average around each run.

    # the 2-core CPU dev machine: 1 against 2 Ray CPU workers, and the in-process path
    PYTHONPATH=.:integrations/qdrant python benchmarks/ray_index.py --device cpu \\
        --modes inprocess,ray:1,ray:2 --out benchmarks/results/ray_index_cpu.json
    # two GPUs: Ray against the in-process replica pool (--devices)
    PYTHONPATH=.:integrations/qdrant python benchmarks/ray_index.py --device cuda \\
        --modes inprocess,ray:2,pool:cuda:0+cuda:1 --out ray_index_2gpu.json
    # one GPU: the Ray path (one GPU actor) against the in-process path, same call
    PYTHONPATH=.:integrations/qdrant python benchmarks/ray_index.py --device cuda \\
        --modes inprocess,ray:1 --repeats 2 --out ray_index_1gpu.json

The default trees are the installed sources of a few libraries (``--libraries``); ``--trees`` takes
folders instead.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

DEFAULT_LIBRARIES = "click,jinja2,requests,yaml"


def library_trees(names: str) -> list[Path]:
    """The source folders of installed packages (``click`` -> .../site-packages/click)."""
    trees = []
    for name in names.split(","):
        spec = importlib.util.find_spec(name.strip())
        if spec is None or not spec.submodule_search_locations:
            raise SystemExit(f"--libraries: {name!r} is not an installed package")
        trees.append(Path(list(spec.submodule_search_locations)[0]))
    return trees


def run_inprocess(trees: list[Path], work: Path, args: argparse.Namespace, devices: str = "") -> list[Any]:
    """``loracode index`` without Ray; ``devices``: ``--devices`` (the in-process replica pool)."""
    from loracode_qdrant import CodeIndex

    from loracode_embed import LoRACodeModel
    from loracode_embed.multi_device import MultiDeviceModel

    if devices:
        model = MultiDeviceModel.from_pretrained(args.model, devices=devices.split(","), dtype=args.dtype)
    else:
        model = LoRACodeModel.from_pretrained(args.model, device=args.device, dtype=args.dtype)
    summaries = []
    for i, tree in enumerate(trees):
        with CodeIndex(tree, model=model, index_dir=work / f"tree{i}", batch_size=args.batch_size,
                       show_progress=False) as index:  # fmt: skip
            summaries.append(index.index())
    if devices:
        model.close()
    return summaries


def run_ray(trees: list[Path], work: Path, args: argparse.Namespace, workers: int) -> list[Any]:
    from loracode_qdrant import CodeIndex
    from loracode_qdrant.ray_index import ModelLoader, index_on_ray

    loader = ModelLoader(args.model, args.dtype)
    model = loader(device="cpu")  # the driver's copy: metadata, routing, tokenizer
    indexes = [CodeIndex(tree, model=model, index_dir=work / f"tree{i}", batch_size=args.batch_size,
                         show_progress=False) for i, tree in enumerate(trees)]  # fmt: skip
    try:
        return index_on_ray(indexes, loader, workers=workers, use_gpus=args.device.startswith("cuda"))
    finally:
        for index in indexes:
            index.close()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--device", default="cpu", help="cpu or cuda (the Ray actors get one GPU each)")
    parser.add_argument("--modes", default="inprocess,ray:1,ray:2",
                        help="comma list: inprocess, ray:N (N embedding actors), pool:DEV+DEV (--devices "
                        "DEV,DEV: the in-process replica pool, e.g. pool:cuda:0+cuda:1)")  # fmt: skip
    parser.add_argument("--trees", nargs="*", help="folders to index (default: --libraries' sources)")
    parser.add_argument("--libraries", default=DEFAULT_LIBRARIES, help=f"default: {DEFAULT_LIBRARIES}")
    parser.add_argument("--model", help="model bundle folder (default: the packaged default)")
    parser.add_argument("--dtype", default="auto")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--ray-cpus", type=int, default=os.cpu_count(), help="CPUs of the local Ray instance")
    parser.add_argument("--out", type=Path, required=True, help="JSON file to write")
    args = parser.parse_args()
    modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    for mode in modes:
        if (
            mode != "inprocess"
            and not (mode.startswith("ray:") and mode[4:].isdigit())
            and not (mode.startswith("pool:") and "+" in mode)
        ):
            raise SystemExit(f"--modes: {mode!r} is none of inprocess, ray:N, pool:DEV+DEV")
    trees = [Path(t).resolve() for t in args.trees] if args.trees else library_trees(args.libraries)

    import ray

    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    import torch

    gpus = torch.cuda.device_count() if args.device.startswith("cuda") else 0  # Ray gets them all
    t0 = time.perf_counter()
    ray.init(num_cpus=args.ray_cpus, num_gpus=gpus, include_dashboard=False, configure_logging=False)
    ray_init_s = time.perf_counter() - t0
    # Untimed: imports (torch, tree-sitter) and the weights into the page cache, which the first mode
    # would otherwise pay alone.
    from loracode_embed import LoRACodeModel

    LoRACodeModel.from_pretrained(args.model, device="cpu", dtype=args.dtype).encode_code(["def f(): pass"])
    runs: list[dict[str, Any]] = []
    for repeat in range(args.repeats):
        for mode in modes:
            work = Path(tempfile.mkdtemp(prefix="loracode-ray-bench-"))
            load_before = os.getloadavg()
            t0 = time.perf_counter()
            if mode == "inprocess":
                summaries = run_inprocess(trees, work, args)
            elif mode.startswith("pool:"):
                summaries = run_inprocess(trees, work, args, devices=mode[5:].replace("+", ","))
            else:
                summaries = run_ray(trees, work, args, int(mode[4:]))
            seconds = time.perf_counter() - t0
            chunks = sum(s.chunks_total for s in summaries)
            embedded = sum(s.chunks_embedded for s in summaries)
            run = {"mode": mode, "repeat": repeat, "seconds": round(seconds, 2), "chunks": chunks,
                   "chunks_embedded": embedded, "files": sum(s.added for s in summaries),
                   "chunks_per_s": round(chunks / seconds, 2), "load_average_before": load_before,
                   "load_average_after": os.getloadavg()}  # fmt: skip
            print(json.dumps(run), flush=True)
            runs.append(run)
            shutil.rmtree(work, ignore_errors=True)
    ray.shutdown()
    median = {m: statistics.median(r["chunks_per_s"] for r in runs if r["mode"] == m) for m in modes}
    ratios = {f"{a} / {b}": round(median[a] / median[b], 3) for a in modes for b in modes if a != b}
    result = {
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs"
        + (f", {gpus}x {torch.cuda.get_device_name(0)}" if gpus else ""),
        "device": args.device,
        "dtype": args.dtype,
        "batch_size": args.batch_size,
        "trees": [str(t) for t in trees],
        "ray": ray.__version__,
        "torch": torch.__version__,
        "ray_init_s": round(ray_init_s, 2),
        "note": "end to end per run: model loads, Ray actor start, chunking, embedding, writes",
        "median_chunks_per_s": median,
        "ratios": ratios,
        "runs": runs,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps({k: result[k] for k in ("median_chunks_per_s", "ratios")}, indent=2))


if __name__ == "__main__":
    main()
