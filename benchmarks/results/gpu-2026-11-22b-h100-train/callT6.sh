#!/bin/bash
# One H100: larger batches per step (dropout 0, regional compile).
set -x
T=benchmarks/train_throughput.py
python $T --shape unixcoder --mode fast --dropout 0 --batch 768 --compile-regions --tag=-b768-h100
python $T --shape unixcoder --mode fast --dropout 0 --batch 1024 --compile-regions --tag=-b1024-h100
