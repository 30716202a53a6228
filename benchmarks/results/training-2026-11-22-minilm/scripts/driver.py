"""Train LoRA adapters in one process (lr sweep) and evaluate them; run on the GPU machine.

    PYTHONPATH=.:/tmp/site python carry/scripts/driver.py train --jobs JOBSPEC... --deadline 480
    PYTHONPATH=.:/tmp/site python carry/scripts/driver.py eval --models LABEL=NAME:DIR ... --sets ... --out F

A job spec: NAME:DATA:LR[:EPOCHS]  (DATA = folder under carry/corpus, or 'c2c'/'c2canon')
Each job writes /tmp/runs/<NAME>__<DATA>__lr<LR>__e<EPOCHS>/{adapter,training.json}; one summary line per
job goes to /tmp/runs/summary.jsonl (dev metric = the trainer's best eval_dev_cosine_mrr@10 on the valid
split, max_eval_pairs=0 i.e. all valid pairs, or the dev files named below).
"""
from __future__ import annotations

import argparse
import gzip
import json
import logging
import math
import os
import sys
import time
from pathlib import Path

BASE = os.environ.get("BASE_DIR", "/tmp/base")
RUNS = Path(os.environ.get("RUNS_DIR", "/tmp/runs"))
CARRY = Path(os.environ.get("CORPUS_DIR", "/tmp/corpus"))
DEVICE = os.environ.get("DEVICE", "cuda")
EVAL = Path(os.environ.get("EVAL_DIR", "/tmp/eval"))


def job_config(name, data, lr, epochs, batch):
    from loracode_embed.training import TrainConfig

    if data in ("code2code", "code2code_anon"):
        train_files = [str(CARRY / data / "train-00000.jsonl.gz")]
        eval_files = [str(CARRY / "code2code" / "valid-00000.jsonl.gz"), str(EVAL / "jcs-valid-anon.jsonl.gz")]
        task = "code2code"
    else:
        train_files = [str(CARRY / data / "train-00000.jsonl.gz")]
        eval_files = [str(CARRY / data / "valid-00000.jsonl.gz")]
        task = "text2code"
    n = sum(1 for _ in gzip.open(train_files[0], "rt"))
    steps = max(1, int(n // batch * epochs))
    out = RUNS / f"{name}__{data}__lr{lr}__e{epochs}"
    cfg = TrainConfig(
        name=name, task=task, base=BASE, output_dir=str(out), train_files=train_files, eval_files=eval_files,
        max_eval_pairs=0, max_seq_length=256, lora_r=16, lora_alpha=32, lora_dropout=0.1, batch_size=batch,
        learning_rate=float(lr), warmup_ratio=0.1, epochs=float(epochs), eval_steps=max(1, steps // 4),
        logging_steps=max(1, min(50, steps // 10)), seed=42, save_total_limit=2, max_steps=int(os.environ.get("MAX_STEPS", "0")),
    )
    return cfg, out, n, steps


def cmd_train(args):
    from loracode_embed.training import train

    RUNS.mkdir(parents=True, exist_ok=True)
    t0 = time.time()
    for spec in args.jobs:
        parts = spec.split(":")
        name, data, lr = parts[0], parts[1], parts[2]
        epochs = float(parts[3]) if len(parts) > 3 else 1.0
        cfg, out, n, steps = job_config(name, data, lr, epochs, args.batch)
        elapsed = time.time() - t0
        if elapsed > args.deadline:
            print(f"SKIP {spec}: deadline ({elapsed:.0f}s)", flush=True)
            continue
        if (out / "training.json").exists():
            print(f"DONE already {spec}", flush=True)
            continue
        s = time.time()
        print(f"=== {spec}: {n} pairs, ~{steps} steps", flush=True)
        try:
            train(cfg)
        except Exception as exc:  # keep going with the other jobs
            print(f"FAIL {spec}: {type(exc).__name__}: {exc}", flush=True)
            import traceback; traceback.print_exc()
            continue
        rec = json.loads((out / "training.json").read_text())
        line = {"spec": spec, "name": name, "data": data, "lr": float(lr), "epochs": epochs, "pairs": n,
                "batch": args.batch, "steps": rec["steps"], "seconds": rec["seconds"],
                "wall": round(time.time() - s, 1), "best_metric": rec["best_metric"],
                "best_checkpoint": rec["best_checkpoint"], "train_loss": rec["train_loss"],
                "evaluations": [{k: v for k, v in e.items() if k in ("step", "eval_dev_cosine_mrr@10", "eval_dev_cosine_ndcg@10", "eval_dev_cosine_accuracy@1")} for e in rec["evaluations"]],
                "dir": str(out)}
        print("RESULT " + json.dumps(line), flush=True)
        with open(RUNS / "summary.jsonl", "a") as fh:
            fh.write(json.dumps(line) + "\n")


# ---------------------------------------------------------------- evaluation
def read_jsonl(p):
    with gzip.open(p, "rt", encoding="utf-8") as fh:
        return [json.loads(l) for l in fh]


def pair_set(rows, qkey="query", ckey="code"):
    codes, index = [], {}
    gold = []
    for r in rows:
        c = r[ckey]
        if c not in index:
            index[c] = len(codes)
            codes.append(c)
        gold.append(index[c])
    return [r[qkey] for r in rows], codes, gold


def load_sets(names):
    sets = {}
    for s in names:
        kind, rest = s.split(":", 1)
        if kind == "t2c":  # t2c:python:valid
            lang, split = rest.split(":")
            p = CARRY / lang / "valid-00000.jsonl.gz" if split == "valid" else EVAL / f"{lang}-test.jsonl.gz"
            q, c, g = pair_set(read_jsonl(p))
            sets[s] = ("text2code", lang, q, c, g)
        elif kind == "cosqa":
            qs = json.loads(gzip.open(EVAL / "cosqa-retrieval-test-500.json.gz", "rt").read())
            m = json.loads(gzip.open(EVAL / "code_idx_map.txt.gz", "rt").read())
            codes = list(m.keys())
            pos = {c: i for i, c in enumerate(codes)}
            sets[s] = ("text2code", "python", [x["doc"] for x in qs], codes, [pos[x["code"]] for x in qs])
        elif kind == "jcs":  # jcs:test (plain Java -> C#), jcs:valid, jcs-anon via advdev file
            if rest == "test":
                j = gzip.open(EVAL / "test.java-cs.txt.java.gz", "rt").read().splitlines()
                c = gzip.open(EVAL / "test.java-cs.txt.cs.gz", "rt").read().splitlines()
                rows = [{"query": a, "code": b} for a, b in zip(j, c)]
            else:
                rows = read_jsonl(CARRY / "code2code" / "valid-00000.jsonl.gz")
            q, cc, g = pair_set(rows)
            sets[s] = ("code2code", None, q, cc, g)
        elif kind == "jcsanon":  # jcsanon:valid
            q, cc, g = pair_set(read_jsonl(EVAL / "jcs-valid-anon.jsonl.gz"))
            sets[s] = ("code2code", None, q, cc, g)
        elif kind == "advtest":  # advtest:java-csharp  (test)
            q, cc, g = pair_set(read_jsonl(EVAL / f"advtest-{rest}-test.jsonl.gz"))
            sets[s] = ("code2code", None, q, cc, g)
        elif kind == "advdev":  # advdev:python (valid)
            q, cc, g = pair_set(read_jsonl(EVAL / f"advdev-{rest}-valid.jsonl.gz"))
            sets[s] = ("code2code", None, q, cc, g)
    return sets


def metrics(Q, C, gold):
    import torch
    DEV = "cuda" if torch.cuda.is_available() else "cpu"

    q = torch.from_numpy(Q).to(DEV)
    c = torch.from_numpy(C).to(DEV)
    g = torch.tensor(gold, device=DEV)
    ranks = []
    for i in range(0, len(q), 2048):
        s = q[i:i + 2048] @ c.T
        gs = s.gather(1, g[i:i + 2048, None])
        ranks.append((s > gs).sum(1) + 1)
    r = torch.cat(ranks).double()
    return {"n_queries": len(gold), "n_candidates": int(C.shape[0]),
            "mrr": float((1 / r).mean()), "ndcg@10": float(torch.where(r <= 10, 1 / torch.log2(r + 1), torch.zeros_like(r)).mean()),
            "recall@1": float((r <= 1).double().mean()), "recall@10": float((r <= 10).double().mean())}


def cmd_eval(args):
    from loracode_embed import LoRACodeModel

    sets = load_sets(args.sets)
    results = json.loads(Path(args.out).read_text()) if Path(args.out).exists() else {}
    for spec in args.models:  # LABEL=NAME:DIR:SET1,SET2 ; NAME 'base' -> no adapter
        label, rest = spec.split("=", 1)
        name, d, wanted = rest.split(":", 2)
        if d.startswith("best/"):  # best run of (name, data) by the trainer's dev metric
            data = d[5:]
            runs = [json.loads(l) for l in open(RUNS / "summary.jsonl")]
            runs = [r for r in runs if r["name"] == name and r["data"] == data and r["best_metric"] is not None]
            if not runs:
                print(f"NO RUN for {spec}", flush=True)
                continue
            best = max(runs, key=lambda r: r["best_metric"])
            d = best["dir"] + "/adapter"
            results.setdefault("_selected", {})[label] = {"spec": best["spec"], "dev_mrr@10": best["best_metric"], "dir": d}
            print(f"SELECT {label}: {best['spec']} dev mrr@10 {best['best_metric']:.4f}", flush=True)
        wanted_sets = [s for s in sets if any(s.startswith(w) for w in wanted.split(","))]
        t = time.time()
        model = LoRACodeModel.from_base(BASE, adapters={} if name == "base" else {name: d}, device=DEVICE, dtype="float32")
        adapter = "base" if name == "base" else name
        print(f"[{label}: model dtype {model.dtype}, device {model.device}]", flush=True)
        for s in wanted_sets:
            task, lang, q, c, g = sets[s]
            Q = model.encode_query(q, task=task, adapter=adapter, batch_size=256)
            C = model.encode_code(c, task=task, adapter=adapter, batch_size=256)
            m = metrics(Q, C, g)
            results.setdefault(s, {})[label] = m
            print(f"{s:28} {label:28} MRR {m['mrr']:.4f} NDCG@10 {m['ndcg@10']:.4f} R@1 {m['recall@1']:.4f} R@10 {m['recall@10']:.4f} (q={m['n_queries']}, c={m['n_candidates']})", flush=True)
        print(f"[{label}: {time.time() - t:.1f}s]", flush=True)
        Path(args.out).write_text(json.dumps(results, indent=1))
        del model


def main():
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    t = sub.add_parser("train")
    t.add_argument("--jobs", nargs="+", required=True)
    t.add_argument("--deadline", type=float, default=1e9)
    t.add_argument("--batch", type=int, default=256)
    e = sub.add_parser("eval")
    e.add_argument("--models", nargs="+", required=True)
    e.add_argument("--sets", nargs="+", required=True)
    e.add_argument("--out", required=True)
    a = ap.parse_args()
    {"train": cmd_train, "eval": cmd_eval}[a.cmd](a)


if __name__ == "__main__":
    main()
