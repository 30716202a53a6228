# the evaluation call: first pack the runs (training.json, adapters, summaries, logs) into one archive
# under $OUT, then the dev choice and the test numbers (eval_v2.py; $OUT/eval.jsonl, choice.json)
source benchmarks/results/training-2026-12-06-minilm-hn/scripts/env.sh
cd /tmp/runs && tar czf "$OUT/runs.tar.gz" summary.jsonl negatives.jsonl orchestrate*.log logs \
  text2code-*/training.json text2code-*/adapter && cd - > /dev/null
PYTHONUNBUFFERED=1 timeout "${1:-440}" python benchmarks/results/training-2026-12-06-minilm-hn/scripts/eval_v2.py 2>&1 | grep "EVAL\|CHOICE\|Error\|done"
