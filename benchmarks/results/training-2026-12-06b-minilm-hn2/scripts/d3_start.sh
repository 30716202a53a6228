# call 3 (carry carry/c3 = the float16 base, trainers/gpu/pack_base.py): start the orchestrator detached,
# so that it outlives the call (the machine stays warm while calls follow each other).
source benchmarks/results/training-2026-12-06-minilm-hn/scripts/env.sh
rm -rf /tmp/base && cp -r carry/c3 /tmp/base
setsid nohup python benchmarks/results/training-2026-12-06b-minilm-hn2/scripts/orchestrate.py \
  > /tmp/runs/orchestrate.log 2>&1 < /dev/null &
sleep 40; cat /tmp/runs/orchestrate.log; tail -n 2 /tmp/runs/logs/*.log | cut -c1-300
nvidia-smi --query-gpu=memory.used,utilization.gpu --format=csv
