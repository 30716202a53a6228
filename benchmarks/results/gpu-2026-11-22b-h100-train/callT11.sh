#!/bin/bash
# One H100: query/key/value as one autograd node (input gradients summed inside the GEMMs) against
# separate projections, interleaved; base dropout 0, regional compile; then base dropout 0.1.
set -x
T=benchmarks/train_throughput.py
python $T --shape unixcoder --mode fast --dropout 0 --batch 768 --compile-regions --tag=-b768-h100
python $T --shape unixcoder --mode fast --dropout 0 --batch 768 --compile-regions --separate-qkv --tag=-b768-h100
python $T --shape unixcoder --mode fast --dropout 0 --batch 512 --compile-regions --tag=-b512-h100
python $T --shape unixcoder --mode fast --batch 512 --compile-regions --tag=-b512-h100
