#!/bin/bash
# One H100: fused LoRA with g @ W and g @ (s * B) as one backward GEMM (--shared-grad-gemm), against
# the separate GEMMs, interleaved; base dropout 0, regional compile.
# (--shared-grad-gemm was removed after this run: it was slower; the code it ran is described in docs/benchmarks.md.)
set -x
nvidia-smi --query-gpu=name,power.limit --format=csv
T=benchmarks/train_throughput.py
for round in 1 2; do
  python $T --shape unixcoder --mode fast --dropout 0 --batch 768 --compile-regions --tag=-b768-r$round-h100
  python $T --shape unixcoder --mode fast --dropout 0 --batch 768 --compile-regions --shared-grad-gemm --tag=-b768-r$round-h100
done
python $T --shape unixcoder --mode fast --dropout 0 --batch 512 --compile-regions --tag=-b512-h100
python $T --shape unixcoder --mode fast --dropout 0 --batch 512 --compile-regions --shared-grad-gemm --tag=-b512-h100
