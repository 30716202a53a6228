# the evaluation call: dev choice, then test (eval_v2.py); brings back the chosen runs' adapters
source benchmarks/results/training-2026-12-06-minilm-hn/scripts/env.sh
python benchmarks/results/training-2026-12-06-minilm-hn/scripts/eval_v2.py 2>&1 | grep -v Warning
mkdir -p "$OUT/adapters" && for d in /tmp/runs/text2code-*; do [ -d "$d/adapter" ] && cp -r "$d/adapter" "$OUT/adapters/$(basename $d)"; done
du -sh "$OUT"
