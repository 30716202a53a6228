# call 6: three at a time still ran out of memory (about 25 GB allocated per run); two at a time.
source benchmarks/results/training-2026-12-06-minilm-hn/scripts/env.sh
rm -f /tmp/runs/DONE; for d in /tmp/runs/text2code-*; do [ -f $d/training.json ] || rm -rf $d; done
export PYTORCH_CUDA_ALLOC_CONF=expandable_segments:True MAX_RUNNING=2 LANGS=python,ruby,javascript,go
setsid nohup python benchmarks/results/training-2026-12-06b-minilm-hn2/scripts/orchestrate.py \
  > /tmp/runs/orchestrate3.log 2>&1 < /dev/null &
bash benchmarks/results/training-2026-12-06-minilm-hn/scripts/wait.sh "${1:-500}"
