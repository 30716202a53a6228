#!/bin/bash
# 2x H200, final code (query/key/value grouped): one GPU, then both; base dropout 0, 512 pairs per GPU.
set -x
T=benchmarks/train_throughput.py
python $T --shape unixcoder --mode fast --dropout 0 --batch 512 --compile-regions --tag=-b512-grouped-h200
python $T --shape unixcoder --mode fast --dropout 0 --batch 512 --compile-regions --devices 2 --tag=-b512-grouped-h200
