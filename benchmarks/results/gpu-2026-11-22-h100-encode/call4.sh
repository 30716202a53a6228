#!/usr/bin/env bash
# One H100, final: every row with the fixed pipeline (all batches collected), torch.compile experiment included.
set -o pipefail
export PYTHONUNBUFFERED=1 PYTHONPATH=$PWD
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader; nproc
timeout 500 python3 benchmarks/encode_throughput.py --device cuda --shapes unixcoder minilm --n-chunks 8192 --repeats 3 --compile \
  --out $OUT/encode_throughput_h100.json 2>&1 \
  | grep -vE "Loading|Writing|Batches|it/s|warn|MISSING|LOAD REPORT|^Key|^---|^Notes|newly init|^$" | tail -24
