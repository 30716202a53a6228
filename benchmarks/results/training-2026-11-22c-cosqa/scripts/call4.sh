#!/usr/bin/env bash
# Call 4 (fresh 2x H200, carry: .whl): the GPU tests of tests/test_training.py, i.e. one bf16 run on one
# GPU and a torchrun launch on two GPUs (NCCL, negatives gathered), with the fused LoRA and bf16
# LayerNorm defaults.
set -o pipefail
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl || exit 1
export PYTHONPATH=$PWD:/tmp/site
nvidia-smi --query-gpu=name --format=csv,noheader
timeout 400 python3 -m pytest -v -m gpu tests/test_training.py -p no:cacheprovider -o addopts="" 2>&1 | tail -8 | tee $OUT/gpu_tests_2xh200.log
