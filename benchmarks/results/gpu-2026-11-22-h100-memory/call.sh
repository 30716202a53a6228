#!/usr/bin/env bash
# One H100: GPU memory of the shipped bundle with idle adapters in host memory; the CUDA tests.
set -o pipefail
export PYTHONUNBUFFERED=1 PYTHONPATH=$PWD
mkdir -p /tmp/base && cp -r carry/base/. /tmp/base/
timeout 200 python3 benchmarks/memory_footprint.py --device cuda --base /tmp/base --out $OUT/memory_cuda.json 2>&1 | grep -vE "Loading|Writing|warn" | tail -8
timeout 200 python3 -m pytest -q -p no:cacheprovider -o addopts="" tests/test_adapter_residency.py tests/test_batching.py 2>&1 | tail -5
