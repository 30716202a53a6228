"""The v2 session on one H100: mine each language as its data arrives, then train, four runs at a time.

Started detached (setsid) by call 3 and left running across calls; later calls only wait and copy
logs. Data arrives in several calls (<= 64 MiB each): a language is mined once /tmp/corpus/<lang>
exists and the base is in /tmp/base. Mining: the base model, 1 negative per pair from ranks 10-200,
no candidate above its positive (margin 0), consistency filter k=200 (explicit: with margin 0 a pair
whose positive ranks past the window has no eligible negative anyway). Training: cached MNRL
(GradCache, mini-batch 256) at 1,024 pairs per step with the mined negative, lr 2e-3, every Linear of
the encoder (the v1 modules), v1's epochs per language but 1 for Python; Python also at 4,096 pairs
per step and with a 4-bucket curriculum, for the dev-set choice.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

# DRY=1: the same pipeline on a few hundred pairs on the CPU (the check before a GPU session)
DRY = os.environ.get("DRY") == "1"
RUNS = Path("/tmp/runs")
LOGS = RUNS / "logs"
CORPUS = Path("/tmp/corpus")
MINE = ["--num-negatives", "1", "--rank-min", "10", "--rank-max", "200", "--margin", "0",
        "--consistency-k", "200", "--dtype", "float32" if DRY else "bfloat16", "--batch-size", "512"]  # fmt: skip
MINED = "{lang}-hn1r10-200m0k200"
EPOCHS = {"python": 1, "go": 1, "java": 1, "javascript": 2, "php": 2, "ruby": 2}
ORDER = os.environ.get("LANGS", "python,php,ruby,javascript,go,java").split(",")
BATCH, BIG, MINI = ("32", "64", "16") if DRY else ("1024", "4096", "256")
CACHED = ["--batch-size", BATCH, "--mini-batch", MINI, "--workers", "0" if DRY else "2"]
MAX_RUNNING = 2 if DRY else 5  # about 13 GB each: 8 ran out of the 80 GB


def jobs(lang: str) -> list[tuple[str, list[str]]]:
    spec = f"text2code-{lang}:{MINED.format(lang=lang)}:2e-3:{EPOCHS[lang]}:all"
    out = [(spec, [*CACHED, "--tag", "A"])]
    if lang == "python":
        out.append((spec, ["--batch-size", BIG, *CACHED[2:], "--tag", "B4096"]))
        out.append((spec, [*CACHED, "--curriculum", "4", "--tag", "Ccur4"]))
    return out


def main() -> None:
    LOGS.mkdir(parents=True, exist_ok=True)
    sweep = [sys.executable, "trainers/gpu/sweep.py"]
    pending: list[tuple[str, list[str], str]] = []
    running: list[tuple[subprocess.Popen, str]] = []
    mined: set[str] = set()
    while len(mined) < len(ORDER) or pending or running:
        for lang in ORDER:  # mine the next language whose data and the base are here
            if lang in mined or not (CORPUS / lang).is_dir() or not Path("/tmp/base/config.json").exists():
                continue
            if (CORPUS / MINED.format(lang=lang) / "negatives.json").exists():  # mined by an earlier start
                mined.add(lang)
                pending += [(spec, flags, f"{lang}-{flags[-1]}") for spec, flags in jobs(lang)]
                continue
            t0 = time.time()
            with open(LOGS / f"mine-{lang}.log", "w") as log:
                rc = subprocess.call([*sweep, "negatives", lang, *MINE], stdout=log, stderr=subprocess.STDOUT)
            print(f"mined {lang} rc={rc} in {time.time() - t0:.0f}s", flush=True)
            mined.add(lang)
            if rc == 0:
                pending += [(spec, flags, f"{lang}-{flags[-1]}") for spec, flags in jobs(lang)]
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
        time.sleep(5)
    (RUNS / "DONE").write_text(time.strftime("%H:%M:%S"))
    print("all done", flush=True)


if __name__ == "__main__":
    main()
