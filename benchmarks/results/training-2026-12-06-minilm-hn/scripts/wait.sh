# Wait up to $1 seconds for the orchestrator (or until it is done); show progress; copy logs to $OUT.
source benchmarks/results/training-2026-12-06-minilm-hn/scripts/env.sh
end=$((SECONDS + ${1:-540}))
while [ $SECONDS -lt $end ] && [ ! -f /tmp/runs/DONE ]; do sleep 10; done
cat /tmp/runs/orchestrate*.log
grep -h "RESULT\|FAIL\|Error\|error" /tmp/runs/logs/train-*.log | cut -c1-400
for f in /tmp/runs/logs/train-*.log; do echo "== $f"; grep -E "'loss'|eval_dev_cosine_mrr@10" "$f" | tail -n 2 | cut -c1-300; done
nvidia-smi --query-gpu=memory.used,utilization.gpu --format=csv
mkdir -p "$OUT/runs" && tar czf "$OUT/runs/logs.tar.gz" -C /tmp/runs logs; cp /tmp/runs/*.jsonl /tmp/runs/orchestrate*.log "$OUT/runs/" 2>/dev/null
for d in /tmp/corpus/*-hn*; do [ -f "$d/negatives.json" ] && cp "$d/negatives.json" "$OUT/runs/negatives-$(basename $d).json"; done
for d in /tmp/runs/text2code-*; do [ -f "$d/training.json" ] && mkdir -p "$OUT/runs/$(basename $d)" && cp "$d/training.json" "$OUT/runs/$(basename $d)/"; done
ls /tmp/runs
