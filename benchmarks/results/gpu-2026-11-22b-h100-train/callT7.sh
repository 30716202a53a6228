#!/bin/bash
# One H100: fused LoRA v2 (base and LoRA-A products in one GEMM, backward likewise).
# (This call ran the fused LoRA variant with [W; A] / [W, s*B] shared GEMMs, reverted after it: slower.)
set -x
T=benchmarks/train_throughput.py
python $T --shape unixcoder --mode fast --dropout 0 --tag=-h100
python $T --shape unixcoder --mode fast --dropout 0 --batch 512 --compile-regions --tag=-b512-h100
python $T --shape unixcoder --mode fast --dropout 0 --batch 768 --compile-regions --tag=-b768-h100
python $T --shape unixcoder --mode fast --batch 512 --compile-regions --tag=-b512-h100
python $T --shape unixcoder --mode fast --tag=-h100
python $T --shape minilm --mode fast --tag=-h100
python $T --shape minilm --mode fast --dropout 0 --batch 512 --compile-regions --tag=-b512-h100
