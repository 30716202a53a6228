#!/bin/bash
# One H100: LayerNorms kept in bf16 under autocast (fast mode now), with and without dropout/compile,
# and the attention kernel families.
set -x
T=benchmarks/train_throughput.py
python $T --shape unixcoder --mode fast --profile --tag=-h100
python $T --shape unixcoder --mode fast --dropout 0 --tag=-h100
python $T --shape unixcoder --mode fast --dropout 0 --sdpa-backend flash --tag=-h100
python $T --shape unixcoder --mode fast --dropout 0 --sdpa-backend efficient --tag=-h100
python $T --shape unixcoder --mode fast --compile --tag=-h100
python $T --shape unixcoder --mode fast --compile --dropout 0 --profile --tag=-h100
