"""The second v2 session on one H100: mine with the shipped (v1) adapters, then train two recipes per language.

Started detached (setsid) by call 3; later calls wait and copy logs (the first session's wait.sh).
What changed from the first attempt (training-2026-12-06-minilm-hn), one thing per recipe:
- mining with the language's v1 adapter, not the base; window ranks 10-100; margin 0; 1 negative;
  no consistency filter (a pair whose positive ranks past 100 has no eligible negative and drops out);
- Python from ``python-webq`` (v1's training set), not ``python``;
- every run at v1's batch of 256 pairs with the plain MNRL loss (no GradCache);
- recipe S ("second stage"): start from the v1 adapter (``--init-adapter``), 1 epoch, lr 5e-4;
  Python also at lr 2e-4 (S2);
- recipe H: fresh LoRA, v1's learning rate and epochs, with the mined negative.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

DRY = os.environ.get("DRY") == "1"  # the same pipeline on a few hundred pairs on the CPU
RUNS = Path(os.environ.get("RUNS_DIR", "/tmp/runs"))
LOGS = RUNS / "logs"
CORPUS = Path(os.environ.get("CORPUS_DIR", "/tmp/corpus"))
BASE = Path(os.environ.get("BASE_DIR", "/tmp/base"))
V1 = Path("loracode_embed/bundles/default/adapters")
SOURCE = {"python": "python-webq"}  # v1's Python set; the others train on <lang>
V1_LR = {"python": "1e-3", "go": "2e-3", "java": "2e-3", "javascript": "2e-3", "php": "2e-3", "ruby": "2e-3"}
V1_EPOCHS = {"python": 2, "go": 1, "java": 1, "javascript": 2, "php": 2, "ruby": 2}
ORDER = os.environ.get("LANGS", "php,ruby,javascript,python,go,java").split(",")
MAX_RUNNING = int(os.environ.get("MAX_RUNNING", 2 if DRY else 14))
TAGS = ("S", "H", "S2")  # the order runs start in
COMMON = ["--workers", "0", "--batch-size", "16"] if DRY else ["--workers", "1", "--batch-size", "256"]
MINE = ["--num-negatives", "1", "--rank-min", "10", "--rank-max", "100", "--margin", "0",
        "--consistency-k", "0", "--dtype", "float32" if DRY else "bfloat16", "--batch-size", "512"]  # fmt: skip
if DRY:
    MINE += ["--max-pairs", "300"]


def mined(lang: str) -> str:
    return f"{SOURCE.get(lang, lang)}-hn1r10-100m0-atext2code-{lang}"


def jobs(lang: str) -> list[tuple[str, list[str]]]:
    data, v1 = mined(lang), str(V1 / f"text2code-{lang}")
    stage = ["--init-adapter", v1, *COMMON]
    epochs = 1 if DRY else V1_EPOCHS[lang]
    out = [(f"text2code-{lang}:{data}:5e-4:1:all", [*stage, "--tag", "S"])]
    if lang == "python":
        out.append((f"text2code-{lang}:{data}:2e-4:1:all", [*stage, "--tag", "S2"]))
    out.append((f"text2code-{lang}:{data}:{V1_LR[lang]}:{epochs}:all", [*COMMON, "--tag", "H"]))
    return out


def main() -> None:
    LOGS.mkdir(parents=True, exist_ok=True)
    sweep = [sys.executable, "trainers/gpu/sweep.py"]
    pending: list[tuple[str, list[str], str]] = []
    running: list[tuple[subprocess.Popen, str]] = []
    done: set[str] = set()
    while len(done) < len(ORDER) or pending or running:
        for lang in ORDER:  # mine the next language whose data and the base are here
            if lang in done or not (CORPUS / SOURCE.get(lang, lang)).is_dir() or not (BASE / "config.json").exists():
                continue
            if not (CORPUS / mined(lang) / "negatives.json").exists():
                t0 = time.time()
                adapter = f"text2code-{lang}={V1 / f'text2code-{lang}'}"
                with open(LOGS / f"mine-{lang}.log", "w") as log:
                    rc = subprocess.call([*sweep, "negatives", SOURCE.get(lang, lang), "--adapter", adapter, *MINE],
                                         stdout=log, stderr=subprocess.STDOUT)  # fmt: skip
                print(f"mined {lang} rc={rc} in {time.time() - t0:.0f}s", flush=True)
            done.add(lang)
            if (CORPUS / mined(lang) / "negatives.json").exists():
                pending += [(spec, flags, f"{lang}-{flags[-1]}") for spec, flags in jobs(lang)]
                pending.sort(key=lambda job: TAGS.index(job[1][-1]))
            break  # one language at a time, then start what can start
        running = [(p, name) for p, name in running if p.poll() is None]
        while pending and len(running) < MAX_RUNNING:
            spec, flags, name = pending.pop(0)
            if (RUNS / f"{spec.replace(':', '__')}__{flags[-1]}" / "training.json").exists():
                continue  # finished in an earlier start
            log = open(LOGS / f"train-{name}.log", "w")
            running.append((subprocess.Popen([*sweep, "train", spec, *flags], stdout=log,
                                             stderr=subprocess.STDOUT), name))  # fmt: skip
            print(f"started {name} at {time.strftime('%H:%M:%S')}", flush=True)
        time.sleep(1 if DRY else 5)
    (RUNS / "DONE").write_text(time.strftime("%H:%M:%S"))
    print("all done", flush=True)


if __name__ == "__main__":
    main()
