#!/bin/bash
# One H100: regional compile variants (fused LoRA v1 again), 512 pairs per step, base dropout 0.
set -x
T=benchmarks/train_throughput.py
python $T --shape unixcoder --mode fast --dropout 0 --batch 512 --compile-regions --tag=-b512-h100
python $T --shape unixcoder --mode fast --dropout 0 --batch 512 --compile-regions ffn --tag=-b512-h100
timeout 300 python $T --shape unixcoder --mode fast --dropout 0 --batch 512 --compile-regions ffn --compile-mode max-autotune-no-cudagraphs --tag=-b512-h100
