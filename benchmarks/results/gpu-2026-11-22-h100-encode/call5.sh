#!/usr/bin/env bash
# One H100, after adapter residency: the LoRACodeModel rows again (no sentence-transformers rows, no compile).
set -o pipefail
export PYTHONUNBUFFERED=1 PYTHONPATH=$PWD
timeout 400 python3 benchmarks/encode_throughput.py --device cuda --shapes unixcoder minilm --n-chunks 8192 --repeats 3 \
  --skip-sentence-transformers --out $OUT/encode_throughput_h100_residency.json 2>&1 \
  | grep -vE "Loading|Writing|Batches|it/s|warn|MISSING|LOAD REPORT|^Key|^---|^Notes|newly init|^$" | tail -16
