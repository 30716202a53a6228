#!/usr/bin/env bash
# Call 1 (fresh machine): wheels, the float16 base, the shared CoSQA/StaQC files, staged under /tmp for
# the next calls on the same warm machine (carry: .whl carry/base carry/shared-gz).
set -o pipefail
T0=$(date +%s)
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl || exit 1
mkdir -p /tmp/base /tmp/runs && cp -r carry/base/. /tmp/base/
for f in carry/shared-gz/*/*.gz; do d=/tmp/shared/$(basename $(dirname $f)); mkdir -p $d; gunzip -c $f > $d/$(basename $f .gz); done
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader; nproc
ls /tmp/base /tmp/shared/*; echo "call1 done $(( $(date +%s) - T0 ))s"
