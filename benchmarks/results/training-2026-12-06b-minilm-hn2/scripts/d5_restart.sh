# call 5: 14 runs at once took 25-30 GB each and ran out of the 80 GB (Python, Ruby, JavaScript and Go's
# mining failed; PHP and Java finished). Restart with 3 at a time, S runs first, expandable segments.
source benchmarks/results/training-2026-12-06-minilm-hn/scripts/env.sh
rm -f /tmp/runs/DONE; for d in /tmp/runs/text2code-*; do [ -f $d/training.json ] || rm -rf $d; done
export PYTORCH_CUDA_ALLOC_CONF=expandable_segments:True MAX_RUNNING=3 LANGS=python,ruby,javascript,go
setsid nohup python benchmarks/results/training-2026-12-06b-minilm-hn2/scripts/orchestrate.py \
  > /tmp/runs/orchestrate2.log 2>&1 < /dev/null &
bash benchmarks/results/training-2026-12-06-minilm-hn/scripts/wait.sh "${1:-500}"
