"""Choose each language's v2 adapter on its dev split (valid), then compute the test numbers once.

1. dev: ``mined-<lang>-valid`` for the shipped (v1) adapter and every v2 run of the language;
2. choice: the best v2 run by dev MRR; it replaces v1 only where its dev MRR is higher;
3. report, after the choice: ``mined-<lang>-test`` for base, v1 and the chosen-by-dev v2 run,
   ``csn-cloze-<lang>`` for v1 and v2, ``cosqa-test`` for the Python adapters.

Everything in float32 on the GPU from the float16 transport copy of the base (as v1's table). Writes
``$OUT/eval.jsonl`` (one line per model and preset) and ``$OUT/choice.json``.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from loracode_embed import LoRACodeModel
from loracode_embed.evaluation.presets import load_preset
from loracode_embed.evaluation.runner import combine, evaluate

BASE = "/tmp/base"
RUNS = Path("/tmp/runs")
BUNDLE = Path("loracode_embed/bundles/default/adapters")
OUT = Path(os.environ.get("OUT", "/tmp/out"))
LANGS = os.environ.get("LANGS", "python,go,java,javascript,php,ruby").split(",")
DEVICE = os.environ.get("DEVICE", "cuda")
out = open(OUT / "eval.jsonl", "a")


def run(label: str, name: str, directory: Path | None, presets: list[str]) -> dict[str, float]:
    adapters = {} if directory is None else {name: str(directory)}
    model = LoRACodeModel.from_base(BASE, adapters=adapters, device=DEVICE, dtype="float32")
    scores = {}
    for preset in presets:
        started = time.time()
        sets = load_preset(preset, data_dir="/tmp/shared", corpus_dir="/tmp/evalcorpus")
        adapter = "base" if directory is None else name
        result = combine([evaluate(model, s, adapter=adapter, batch_size=256) for s in sets], preset)
        result.update(preset=preset, label=label, run=str(directory), seconds=round(time.time() - started, 1))
        out.write(json.dumps(result) + "\n")
        out.flush()
        print(f"EVAL {label:34} {preset:22} MRR {result['mrr']:.4f} R@1 {result['recall@1']:.4f}", flush=True)
        scores[preset] = result["mrr"]
    return scores


choice = {}
for lang in LANGS:
    name = f"text2code-{lang}"
    v2_runs = sorted(RUNS.glob(f"{name}__*"))
    dev = {"v1": run(f"{lang}/v1", name, BUNDLE / name, [f"mined-{lang}-valid"])[f"mined-{lang}-valid"]}
    for d in v2_runs:
        if (d / "adapter" / "adapter_config.json").exists():
            tag = d.name.split("__")[-1]
            dev[f"v2{tag}"] = run(f"{lang}/v2{tag}", name, d / "adapter", [f"mined-{lang}-valid"])[
                f"mined-{lang}-valid"
            ]
    v2 = max((k for k in dev if k != "v1"), key=dev.get, default=None)
    chosen = v2 if v2 is not None and dev[v2] > dev["v1"] else "v1"
    choice[lang] = {"dev_mrr": dev, "best_v2": v2, "chosen": chosen,
                    "v2_run": str(next(d for d in v2_runs if d.name.endswith("__" + v2[2:]))) if v2 else None}  # fmt: skip
    print("CHOICE", lang, json.dumps(choice[lang]), flush=True)
(OUT / "choice.json").write_text(json.dumps(choice, indent=1))

for lang in LANGS:  # the test numbers, once, after every choice is made
    name = f"text2code-{lang}"
    extra = ["cosqa-test"] if lang == "python" else []
    run(f"{lang}/base", name, None, [f"mined-{lang}-test"])
    run(f"{lang}/v1", name, BUNDLE / name, [f"mined-{lang}-test", f"csn-cloze-{lang}", *extra])
    if choice[lang]["v2_run"]:
        run(f"{lang}/v2", name, Path(choice[lang]["v2_run"]) / "adapter",
            [f"mined-{lang}-test", f"csn-cloze-{lang}", *extra])  # fmt: skip
print("eval done", flush=True)
