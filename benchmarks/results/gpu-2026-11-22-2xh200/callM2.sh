#!/usr/bin/env bash
# 2x H200, second call on the warm machine: GPU memory of the shipped bundle, encoding 1 vs 2 GPUs.
set -o pipefail
export PYTHONUNBUFFERED=1 TOKENIZERS_PARALLELISM=false PYTHONPATH=$PWD:/tmp/site
T0=$(date +%s); MO=/tmp/mout2; mkdir -p $MO
test -f /tmp/base/model.safetensors || { echo "NO BASE: fresh machine"; exit 3; }
timeout 120 python3 benchmarks/memory_footprint.py --device cuda --base /tmp/base --out $MO/memory_cuda.json 2>&1 | tail -12
timeout 330 python3 benchmarks/encode_throughput.py --devices cuda:0,cuda:1 --shapes unixcoder minilm --n-chunks 8192 --repeats 3 --out $MO/encode_scaling_2xh200.json 2>&1 | grep -vE "Loading|Batches|it/s" | tail -30
echo "encode done $(( $(date +%s) - T0 ))s"
tar czf $OUT/results2.tgz -C $MO . ; echo "total $(( $(date +%s) - T0 ))s"; ls $MO
