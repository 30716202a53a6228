#!/bin/bash
# 2x H200: the fast training step (bf16 LayerNorms, fused LoRA, regional compile), base dropout 0,
# 512 pairs per GPU per step; one GPU, then both (torchrun, codes gathered across GPUs).
set -x
nvidia-smi --query-gpu=name,power.limit --format=csv
T=benchmarks/train_throughput.py
python $T --shape unixcoder --mode fast --dropout 0 --batch 512 --compile-regions --tag=-b512-h200
python $T --shape unixcoder --mode fast --dropout 0 --batch 512 --compile-regions --devices 2 --tag=-b512-h200
python $T --shape unixcoder --mode fast --batch 512 --compile-regions --devices 2 --tag=-b512-h200
