#!/bin/bash
# One H100: A/B of the fused LoRA code before (4e0dd1b, carried as abtest-old/: the package and the
# benchmark as of that commit) and after (the working tree) the merge into one autograd function
# (a5b3dd3), interleaved, headline settings (UniXcoder shape, base dropout 0, 768 pairs, regional compile).
set -x
for round in 1 2; do
  (cd abtest-old && PYTHONPATH=$PWD python benchmarks/train_throughput.py --shape unixcoder --mode fast --dropout 0 --batch 768 --compile-regions --out $OUT --tag=-b768-old-r$round-h100)
  python benchmarks/train_throughput.py --shape unixcoder --mode fast --dropout 0 --batch 768 --compile-regions --tag=-b768-new-r$round-h100
done
