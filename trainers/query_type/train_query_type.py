"""Train the query-type classifier (natural language vs code) and write its weights as JSON.

Reads ONLY tuning splits from ../shared/data:
  natural language: StaQC train titles, CoSQA cosqa-dev.json + cosqa-retrieval-dev-500.json queries,
                    CONCODE dev descriptions (text before the first ``concode_field_sep``) of the
                    training side of a hash split (the other 30% is held out for evaluation);
  code:             StaQC train snippets, CoSQA dev functions, CONCODE training-side code,
                    CodeXGLUE Java<->C# train methods; plus, derived from these same texts, short
                    fragments (first lines, 1-4 line windows, import lines), one-line collapses and
                    space-separated token versions (like CodeSearchNet tokens).
No test split is read. Fits an L2-regularised logistic regression (Newton's method, numpy) on the
standardised features of ``loracode_embed.query_type.extract_features``, with both classes weighted equally.

Usage (from the repository root):
    PYTHONPATH=. python trainers/query_type/train_query_type.py
"""

from __future__ import annotations

import json
import random
import re
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import qtype_data as qd  # noqa: E402

from loracode_embed.query_type import (  # noqa: E402
    _IMPORT_RE as IMPORT_RE,
)
from loracode_embed.query_type import (  # noqa: E402
    FEATURE_NAMES,
    WEIGHTS_FORMAT,
    WEIGHTS_PATH,
    extract_features,
)

# ---- knobs ----------------------------------------------------------------------------------------
SEED = 13
L2 = 1.0  # ridge penalty on the standardised coefficients (not on the intercept)
NEWTON_STEPS = 30
JAVA_CS_PER_LANGUAGE = 2500  # methods sampled from each of the Java and C# train files
TOKENISED_FRACTION = 0.5  # share of code texts that also get a space-separated token version
FRAGMENTS_PER_FUNCTION = 2  # short fragments drawn from each multi-line function
INTERNAL_DEV_PERCENT = 15  # share of the training mix kept aside to report a dev accuracy (then refit)
OUT_PATH = WEIGHTS_PATH
# ----------------------------------------------------------------------------------------------------

rng = random.Random(SEED)
t0 = time.perf_counter()

# 1. Natural language from tuning splits.
staqc_nl, staqc_code = qd.staqc("train")
cosqa_nl, cosqa_code = qd.cosqa_tuning()
concode_nl, concode_code = qd.concode(heldout=False)
nl_items = staqc_nl + cosqa_nl + concode_nl

# 2. Code from tuning splits.
java_cs = qd.java_cs("train")
java_cs_sample = []
for lang in ("java-train", "csharp-train"):
    pool = [item for item in java_cs if item[0] == lang]
    java_cs_sample += rng.sample(pool, min(JAVA_CS_PER_LANGUAGE, len(pool)))
code_items = staqc_code + cosqa_code + concode_code + java_cs_sample

# 3. Derived code variants: fragments, import lines, one-line collapses, CSN-style token strings.
derived = []
for src, code in staqc_code + cosqa_code:
    for frag in qd.short_fragments(code, rng, FRAGMENTS_PER_FUNCTION):
        derived.append((src + "-fragment", frag))
    imports = [ln.strip() for ln in code.splitlines() if IMPORT_RE.match(ln)]
    if imports:
        derived.append((src + "-import", rng.choice(imports)))
    if "\n" in code.strip():
        derived.append((src + "-oneline", re.sub(r"\s+", " ", code).strip()))
for src, code in staqc_code + cosqa_code + java_cs_sample:
    if rng.random() < TOKENISED_FRACTION:
        derived.append((src + "-tokens", qd.tokenise_like_csn(code)))
code_items += derived

nl_items = qd._unique(nl_items)
code_items = qd._unique(code_items)
nl_keys = {t.strip() for _, t in nl_items}
code_items = [(s, t) for s, t in code_items if t.strip() not in nl_keys]
print(f"training mix: {len(nl_items)} natural-language texts, {len(code_items)} code texts")
for name, items in (("NL", nl_items), ("code", code_items)):
    counts: dict[str, int] = {}
    for src, _ in items:
        counts[src] = counts.get(src, 0) + 1
    print(f"  {name}: " + ", ".join(f"{k}={v}" for k, v in sorted(counts.items())))

texts = [t for _, t in nl_items] + [t for _, t in code_items]
y = np.array([0.0] * len(nl_items) + [1.0] * len(code_items))
X = np.array([extract_features(t) for t in texts], dtype=np.float64)
print(f"features: {X.shape[1]} per text, extracted in {time.perf_counter() - t0:.1f}s")


# 4. Logistic regression (class-balanced, L2) by Newton's method.
def fit(X: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    mean = X.mean(axis=0)
    scale = X.std(axis=0)
    scale[scale < 1e-9] = 1.0
    Z = np.hstack([(X - mean) / scale, np.ones((len(X), 1))])
    sw = np.where(y == 1, 0.5 / y.sum(), 0.5 / (1 - y).sum()) * len(y)  # each class weighs half
    penalty = np.full(Z.shape[1], L2)
    penalty[-1] = 0.0
    w = np.zeros(Z.shape[1])
    for _ in range(NEWTON_STEPS):
        p = 1.0 / (1.0 + np.exp(-(Z @ w)))
        grad = Z.T @ (sw * (p - y)) + penalty * w
        hess = (Z * (sw * p * (1 - p))[:, None]).T @ Z + np.diag(penalty)
        step = np.linalg.solve(hess, grad)
        w -= step
        if np.abs(step).max() < 1e-8:
            break
    return mean, scale, w[:-1], float(w[-1])


def predict(X: np.ndarray, mean: np.ndarray, scale: np.ndarray, coef: np.ndarray, b: float) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-(((X - mean) / scale) @ coef + b)))


# 5. Internal dev check (a hash-free random split of the training mix), then refit on everything.
idx = np.arange(len(y))
np.random.default_rng(SEED).shuffle(idx)
n_dev = len(idx) * INTERNAL_DEV_PERCENT // 100
dev, trn = idx[:n_dev], idx[n_dev:]
m, s, c, b = fit(X[trn], y[trn])
pred = predict(X[dev], m, s, c, b) >= 0.5
acc = float((pred == (y[dev] == 1)).mean())
nl_rec = float((~pred[y[dev] == 0]).mean())
code_rec = float(pred[y[dev] == 1].mean())
print(f"internal dev ({n_dev} texts): accuracy {acc:.4f}, NL recall {nl_rec:.4f}, code recall {code_rec:.4f}")
for i in dev[pred != (y[dev] == 1)][:15]:
    print(f"   dev error (true {'code' if y[i] else 'NL'}): {texts[i][:100]!r}")

mean, scale, coef, intercept = fit(X, y)
train_acc = float(((predict(X, mean, scale, coef, intercept) >= 0.5) == (y == 1)).mean())
print(f"final fit on all {len(y)} texts: training accuracy {train_acc:.4f}")

payload = {
    "format": WEIGHTS_FORMAT,
    "description": "Logistic regression NL-vs-code query classifier for loracode_embed.query_type",
    "features": list(FEATURE_NAMES),
    "mean": [round(float(v), 8) for v in mean],
    "scale": [round(float(v), 8) for v in scale],
    "coef": [round(float(v), 8) for v in coef],
    "intercept": round(intercept, 8),
    "threshold": 0.5,
    "training": {
        "script": "trainers/query_type/train_query_type.py",
        "seed": SEED,
        "l2": L2,
        "natural_language_texts": len(nl_items),
        "code_texts": len(code_items),
        "sources": [
            "staqc/train_staqc.json",
            "cosqa/cosqa-dev.json",
            "cosqa/cosqa-retrieval-dev-500.json",
            f"concode/dev.json (training side of hash split, {100 - qd.CONCODE_HELDOUT_PERCENT}%)",
            "codexglue-java-cs/train.java-cs.txt.{java,cs}",
        ],
        "internal_dev_accuracy": round(acc, 4),
    },
}
Path(OUT_PATH).write_text(json.dumps(payload, indent=1) + "\n", encoding="utf-8")
print(f"wrote {OUT_PATH}")
print("largest standardised coefficients:")
for j in np.argsort(-np.abs(coef))[:12]:
    print(f"  {FEATURE_NAMES[j]:>22s} {coef[j]:+.3f}")
