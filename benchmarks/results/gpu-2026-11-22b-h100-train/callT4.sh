#!/bin/bash
# One H100: fused LoRA skips the first layer's input gradient; regional torch.compile of the
# output/intermediate blocks (attention left to cuDNN).
set -x
T=benchmarks/train_throughput.py
python $T --shape unixcoder --mode fast --dropout 0 --tag=-h100
python $T --shape unixcoder --mode fast --dropout 0 --compile-regions --profile --tag=-h100
python $T --shape unixcoder --mode fast --compile-regions --tag=-h100
python $T --shape unixcoder --mode fast --tag=-h100
