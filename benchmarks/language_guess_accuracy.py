"""Accuracy of ``loracode_embed.language_guess.guess_language`` on real, public code.

Data (all under ``../shared/data``, see its README):

* CodeSearchNet functions from CodeXGLUE cloze-maxmin (go, java, javascript, php, python, ruby). The code
  is tokenised: tokens are joined with single spaces and the ``<mask>`` token is put back as ``max``.
  Items with an even index form the *dev* half (the cues were adjusted while looking at its errors);
  odd indices are the *held-out* half.
* CodeXGLUE Java <-> C# methods: ``valid`` is dev, ``test`` is held out (one method per line, untokenised).
* CoSQA Python functions: ``cosqa-dev.json`` is dev; the 6,267-function retrieval corpus
  (``code_idx_map.txt``), minus functions also in the dev file, is held out.

A guess counts as correct only when it names the right language; ``None`` (no guess) counts as wrong and is
reported separately as the abstention rate.

Run (2-core CPU, a few seconds):
    python benchmarks/language_guess_accuracy.py --data ../shared/data \
        --out benchmarks/results/language_guess.json
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

from loracode_embed.language_guess import GUESSABLE_LANGUAGES, MIN_SCORE, guess_language

CLOZE_LANGUAGES = ("go", "java", "javascript", "php", "python", "ruby")


def load_samples(data: Path) -> dict[str, list[tuple[str, str]]]:
    """Return ``{split_name: [(language, code), ...]}`` for the dev and held-out splits."""
    dev: list[tuple[str, str]] = []
    held: list[tuple[str, str]] = []
    for lang in CLOZE_LANGUAGES:
        items = json.loads((data / "codexglue-cloze-csn" / f"{lang}.json").read_text(encoding="utf-8"))
        for i, item in enumerate(items):
            code = " ".join("max" if t == "<mask>" else t for t in item["pl_tokens"])
            (dev if i % 2 == 0 else held).append((lang, code))
    pairs = data / "codexglue-java-cs"
    for split, target in (("valid", dev), ("test", held)):
        for ext, lang in (("java", "java"), ("cs", "csharp")):
            lines = (pairs / f"{split}.java-cs.txt.{ext}").read_text(encoding="utf-8").splitlines()
            target.extend((lang, line) for line in lines if line.strip())
    cosqa_dev = {item["code"] for item in json.loads((data / "cosqa" / "cosqa-dev.json").read_text("utf-8"))}
    dev.extend(("python", code) for code in sorted(cosqa_dev))
    corpus = json.loads((data / "cosqa" / "code_idx_map.txt").read_text(encoding="utf-8"))
    held.extend(("python", code) for code in corpus if code not in cosqa_dev)
    return {"dev": dev, "held_out": held}


def evaluate(samples: list[tuple[str, str]]) -> dict:
    """Per-language accuracy, abstention rate and confusion counts for one split."""
    confusion: dict[str, Counter[str]] = defaultdict(Counter)
    for lang, code in samples:
        confusion[lang][guess_language(code) or "none"] += 1
    per_language = {}
    for lang in sorted(confusion):
        row = confusion[lang]
        n = sum(row.values())
        per_language[lang] = {
            "n": n,
            "accuracy": round(row[lang] / n, 4),
            "abstained": round(row["none"] / n, 4),
            "confused_with": {k: v for k, v in row.most_common() if k != lang},
        }
    total = sum(v["n"] for v in per_language.values())
    correct = sum(confusion[lang][lang] for lang in confusion)
    macro = sum(v["accuracy"] for v in per_language.values()) / len(per_language)
    return {
        "n": total,
        "micro_accuracy": round(correct / total, 4),
        "macro_accuracy": round(macro, 4),
        "per_language": per_language,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/data"), help="shared data folder")
    parser.add_argument("--out", type=Path, default=None, help="write the results JSON here")
    args = parser.parse_args(argv)

    splits = load_samples(args.data)
    start = time.perf_counter()
    results = {name: evaluate(samples) for name, samples in splits.items()}
    seconds = time.perf_counter() - start
    n = sum(r["n"] for r in results.values())
    report = {
        "benchmark": "language_guess_accuracy",
        "command": "python benchmarks/language_guess_accuracy.py --data ../shared/data "
        "--out benchmarks/results/language_guess.json",
        "machine": f"{platform.machine()} {platform.system()}, Python {platform.python_version()}",
        "min_score": MIN_SCORE,
        "guessable_languages": list(GUESSABLE_LANGUAGES),
        "mask_token_replaced_with": "max",
        "ms_per_snippet": round(1000 * seconds / n, 3),
        "splits": results,
    }
    for name, res in results.items():
        print(f"{name}: n={res['n']} micro={res['micro_accuracy']:.3f} macro={res['macro_accuracy']:.3f}")
        for lang, row in res["per_language"].items():
            top = ", ".join(f"{k}:{v}" for k, v in list(row["confused_with"].items())[:4])
            print(
                f"  {lang:<11} n={row['n']:<5} acc={row['accuracy']:.3f} none={row['abstained']:.3f}  {top}"
            )
    print(f"{report['ms_per_snippet']} ms per snippet")
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
