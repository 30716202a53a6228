#!/bin/bash
# One H100: the headline training-throughput settings re-timed with the code as committed after the
# fused LoRA layers became one autograd function (a5b3dd3) and the DataParallel fix (88523f2).
# Same commands as gpu-2026-11-22b-h100-train/callT11.sh, plus LoRA dropout 0.1 on the grouped path.
set -x
nvidia-smi --query-gpu=name,power.limit --format=csv
T=benchmarks/train_throughput.py
for round in 1 2; do
  python $T --shape unixcoder --mode fast --dropout 0 --batch 768 --compile-regions --tag=-b768-r$round-h100
done
python $T --shape unixcoder --mode fast --dropout 0 --batch 512 --compile-regions --tag=-b512-h100
python $T --shape unixcoder --mode fast --batch 512 --compile-regions --tag=-b512-h100
python $T --shape unixcoder --mode fast --dropout 0 --lora-dropout 0.1 --batch 768 --compile-regions --tag=-b768-loradrop-h100
