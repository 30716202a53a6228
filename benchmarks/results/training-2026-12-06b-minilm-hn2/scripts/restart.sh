# calls 5 and 6: restart the orchestrator after runs ran out of GPU memory, MAX_RUNNING ($2) at a time,
# S runs first, expandable segments; finished runs are kept, the others start again. $3 names its log.
#   call 5: `restart.sh 500 3 orchestrate2.log` (14 at once ran out of the 80 GB: Python, Ruby and
#           JavaScript training and Go's mining failed; PHP and Java finished)
#   call 6: `restart.sh 400 2 orchestrate3.log` (three at a time also ran out: about 25 GB per run)
source benchmarks/results/training-2026-12-06-minilm-hn/scripts/env.sh
rm -f /tmp/runs/DONE; for d in /tmp/runs/text2code-*; do [ -f $d/training.json ] || rm -rf $d; done
export PYTORCH_CUDA_ALLOC_CONF=expandable_segments:True MAX_RUNNING="$2" LANGS=python,ruby,javascript,go
setsid nohup python benchmarks/results/training-2026-12-06b-minilm-hn2/scripts/orchestrate.py \
  > "/tmp/runs/$3" 2>&1 < /dev/null &
bash benchmarks/results/training-2026-12-06-minilm-hn/scripts/wait.sh "$1"
