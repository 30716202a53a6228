"""Evaluate the query-type classifier on a held-out mix and write benchmarks/results/query_type.json.

Held-out mix (files or parts of files that training never read; any text that also occurs verbatim in the
training mix is dropped and counted):
  natural language: StaQC dev titles, CoSQA cosqa-retrieval-test-500.json queries, CONCODE descriptions
                    of the held-out side of the hash split;
  code:             CodeXGLUE Java and C# test methods, CoSQA corpus functions (code_idx_map.txt keys) not
                    used in training, CodeSearchNet cloze code of all six languages (pl_tokens joined by
                    spaces, <mask> replaced by max), CONCODE code of the held-out side.
Reports accuracy overall and per source, both class recalls, the 2x2 confusion matrix, and the latency
of ``classify_query`` per query (median and p99, one call at a time over the whole held-out set).

Usage (from the repository root):
    PYTHONPATH=. python trainers/query_type/evaluate_query_type.py
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import qtype_data as qd  # noqa: E402

from loracode_embed.query_type import classify_query  # noqa: E402

# ---- knobs ----------------------------------------------------------------------------------------
OUT_PATH = qd.REPO_ROOT / "benchmarks" / "results" / "query_type.json"
LATENCY_REPEATS = 3  # timing passes over the whole held-out set; the median per query is kept
SHOW_ERRORS = 25
# ----------------------------------------------------------------------------------------------------


def training_texts() -> set[str]:
    """Texts the trainer read from the tuning splits (before derived variants), stripped."""
    staqc_nl, staqc_code = qd.staqc("train")
    cosqa_nl, cosqa_code = qd.cosqa_tuning()
    c_nl, c_code = qd.concode(heldout=False)
    items = staqc_nl + staqc_code + cosqa_nl + cosqa_code + c_nl + c_code + qd.java_cs("train")
    return {t.strip() for _, t in items}


seen = training_texts()
staqc_dev_nl, _ = qd.staqc("dev")
concode_nl, concode_code = qd.concode(heldout=True)
nl_all = staqc_dev_nl + qd.cosqa_test_queries() + concode_nl
code_all = qd.java_cs("test") + qd.cosqa_corpus() + qd.cloze_code() + concode_code

dropped: dict[str, int] = {}
mix: list[tuple[str, str, int]] = []
for label, items in ((0, nl_all), (1, code_all)):
    for src, text in items:
        if text.strip() in seen:
            dropped[src] = dropped.get(src, 0) + 1
        else:
            mix.append((src, text, label))

predictions = [1 if classify_query(text) == "code2code" else 0 for _, text, _ in mix]

# Latency: time every query one call at a time, several passes; keep each query's median.
times_ns: list[list[int]] = [[] for _ in mix]
for _ in range(LATENCY_REPEATS):
    for i, (_, text, _) in enumerate(mix):
        t = time.perf_counter_ns()
        classify_query(text)
        times_ns[i].append(time.perf_counter_ns() - t)
query_us = [statistics.median(ts) / 1000.0 for ts in times_ns]
per_query_us = sorted(query_us)
nl_median_us = statistics.median(us for us, (_, _, y) in zip(query_us, mix, strict=True) if y == 0)
code_median_us = statistics.median(us for us, (_, _, y) in zip(query_us, mix, strict=True) if y == 1)
median_us = statistics.median(per_query_us)
p99_us = per_query_us[min(len(per_query_us) - 1, int(0.99 * len(per_query_us)))]
max_us = per_query_us[-1]

tn = sum(1 for (_, _, y), p in zip(mix, predictions, strict=True) if y == 0 and p == 0)
fp = sum(1 for (_, _, y), p in zip(mix, predictions, strict=True) if y == 0 and p == 1)
fn = sum(1 for (_, _, y), p in zip(mix, predictions, strict=True) if y == 1 and p == 0)
tp = sum(1 for (_, _, y), p in zip(mix, predictions, strict=True) if y == 1 and p == 1)
n = len(mix)
accuracy = (tp + tn) / n
nl_recall = tn / (tn + fp)
code_recall = tp / (tp + fn)

per_source: dict[str, dict] = {}
for (src, _, y), p in zip(mix, predictions, strict=True):
    rec = per_source.setdefault(src, {"class": "code" if y else "natural language", "n": 0, "correct": 0})
    rec["n"] += 1
    rec["correct"] += int(p == y)
for rec in per_source.values():
    rec["accuracy"] = round(rec["correct"] / rec["n"], 4)

results = {
    "benchmark": "query-type classifier (natural language vs code), held-out mix",
    "command": "PYTHONPATH=. python trainers/query_type/evaluate_query_type.py",
    "machine": f"2-core CPU dev machine ({platform.machine()}, Python {platform.python_version()})",
    "n": n,
    "n_natural_language": tn + fp,
    "n_code": tp + fn,
    "accuracy": round(accuracy, 4),
    "balanced_accuracy": round((nl_recall + code_recall) / 2, 4),
    "recall_natural_language": round(nl_recall, 4),
    "recall_code": round(code_recall, 4),
    "confusion_matrix": {
        "rows_true_columns_predicted": ["natural language (text2code)", "code (code2code)"],
        "matrix": [[tn, fp], [fn, tp]],
    },
    "per_source": dict(sorted(per_source.items())),
    "dropped_as_seen_in_training": dict(sorted(dropped.items())),
    "latency_us_per_query": {
        "median": round(median_us, 1),
        "p99": round(p99_us, 1),
        "max": round(max_us, 1),
        "median_natural_language": round(nl_median_us, 1),
        "median_code": round(code_median_us, 1),
        "load_average_1min_after": round(os.getloadavg()[0], 2),
        "repeats": LATENCY_REPEATS,
        "note": "classify_query called once per query, single thread; per-query median over repeats",
    },
}
OUT_PATH.parent.mkdir(parents=True, exist_ok=True)
OUT_PATH.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")

print(f"held-out mix: {n} texts ({tn + fp} natural language, {tp + fn} code); dropped as seen: {dropped}")
print(
    f"accuracy {accuracy:.4f}  balanced {(nl_recall + code_recall) / 2:.4f}  "
    f"NL recall {nl_recall:.4f}  code recall {code_recall:.4f}"
)
print("confusion matrix (rows true NL/code, columns predicted NL/code):")
print(f"  NL   {tn:6d} {fp:6d}\n  code {fn:6d} {tp:6d}")
print("per source:")
for src, rec in sorted(per_source.items()):
    print(f"  {src:>22s} {rec['class']:>17s} n={rec['n']:5d} accuracy={rec['accuracy']:.4f}")
print(
    f"latency per query: median {median_us:.1f} us, p99 {p99_us:.1f} us, max {max_us:.1f} us "
    f"(median NL {nl_median_us:.1f} us, code {code_median_us:.1f} us; "
    f"load average {os.getloadavg()[0]:.2f})"
)
errors = [(src, text, y) for (src, text, y), p in zip(mix, predictions, strict=True) if p != y]
for src, text, y in errors[:SHOW_ERRORS]:
    print(f"  error [{src}, true {'code' if y else 'NL'}]: {text[:110]!r}")
print(f"wrote {OUT_PATH}")
