#!/usr/bin/env bash
# One H100, third call: host-side variants (GIL switch interval, tokenizer processes), one call mixing 6 adapters.
set -o pipefail
export PYTHONUNBUFFERED=1 PYTHONPATH=$PWD
timeout 420 python3 benchmarks/encode_throughput.py --device cuda --shapes unixcoder minilm --n-chunks 8192 --repeats 3 \
  --pipeline-variants --skip-sentence-transformers --out $OUT/encode_throughput_h100_variants.json 2>&1 \
  | grep -vE "Loading|Writing|Batches|it/s|warn|MISSING|LOAD REPORT|^Key|^---|^Notes|newly init|^$" | tail -40
