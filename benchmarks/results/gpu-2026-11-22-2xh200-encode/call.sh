#!/usr/bin/env bash
# 2x H200: encoding on one vs two GPUs (MultiDeviceModel), thread backend then process backend, one shape at a time.
set -o pipefail
export PYTHONUNBUFFERED=1 PYTHONPATH=$PWD
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader; nproc
F="--devices cuda:0,cuda:1 --n-chunks 16384 --repeats 2"
G="Loading|Writing|Batches|it/s|warn|MISSING|LOAD REPORT|^Key|^---|^Notes|newly init|^$"
timeout 200 python3 benchmarks/encode_throughput.py $F --shapes unixcoder --backends thread --out $OUT/scaling_unixcoder_thread.json 2>&1 | grep -vE "$G" | tail -6
timeout 150 python3 benchmarks/encode_throughput.py $F --shapes minilm --backends thread --out $OUT/scaling_minilm_thread.json 2>&1 | grep -vE "$G" | tail -6
timeout 150 python3 benchmarks/encode_throughput.py $F --shapes unixcoder --backends process --out $OUT/scaling_unixcoder_process.json 2>&1 | grep -vE "$G" | tail -6
