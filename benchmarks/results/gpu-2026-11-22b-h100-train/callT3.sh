#!/bin/bash
# One H100: fused LoRA forward/backward on top of bf16 LayerNorms; attention kernel families.
set -x
T=benchmarks/train_throughput.py
python $T --shape unixcoder --mode fast --profile --tag=-h100
python $T --shape unixcoder --mode fast --dropout 0 --profile --tag=-h100
python $T --shape unixcoder --mode fast --dropout 0 --peft-lora --tag=-h100
python $T --shape unixcoder --mode fast --dropout 0 --sdpa-backend flash --tag=-h100
python $T --shape unixcoder --mode fast --dropout 0 --sdpa-backend efficient --tag=-h100
python $T --shape unixcoder --mode baseline --tag=-h100
python $T --shape minilm --mode fast --tag=-h100
python $T --shape minilm --mode baseline --tag=-h100
