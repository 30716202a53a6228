#!/usr/bin/env bash
# Call A: unpack, Python sweep (4 streams side by side on one GPU), CoSQA dev for every run.
set -o pipefail
export PYTHONUNBUFFERED=1 TOKENIZERS_PARALLELISM=false
T0=$(date +%s)
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl || exit 1
export PYTHONPATH=$PWD:/tmp/site
mkdir -p /tmp/base /tmp/runs
cp -r carry/base/. /tmp/base/
for f in carry/shared-gz/*/*.gz; do d=/tmp/shared/$(basename $(dirname $f)); mkdir -p $d; gunzip -c $f > $d/$(basename $f .gz); done
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader; nproc
[ -d /tmp/corpus/python-web ] || python3 trainers/gpu/sweep.py prepare --pack carry/pack --out /tmp/corpus --staqc /tmp/shared/staqc/train_staqc.json 2>&1 | tail -4
echo "prepared at $(( $(date +%s) - T0 ))s"
S="timeout 400 python3 trainers/gpu/sweep.py train --workers 3"
$S text2code-python:python:5e-4:1:qv text2code-python:python:5e-4:1:all > /tmp/runs/s1.log 2>&1 &
$S text2code-python:python:1e-3:1:all text2code-python:python:2e-3:1:all > /tmp/runs/s2.log 2>&1 &
$S text2code-python:python-web:1e-3:1:all text2code-python:python-web:2e-3:1:all > /tmp/runs/s3.log 2>&1 &
$S text2code-python:python-web:1e-3:2:all > /tmp/runs/s4.log 2>&1 &
wait
echo "trained at $(( $(date +%s) - T0 ))s"
grep -h -E "^(RESULT|FAIL)|Error" /tmp/runs/s*.log | cut -c1-400
args=""; for d in /tmp/runs/text2code-python__*; do [ -f $d/adapter/adapter_model.safetensors ] && args="$args --adapter text2code-python@$(basename $d)=$d"; done
timeout 90 python3 trainers/gpu/sweep.py eval --adapter base=- $args --preset cosqa-dev --data-dir /tmp/shared 2>&1 | grep -E "EVAL|Error"
echo "evaluated at $(( $(date +%s) - T0 ))s"
cd /tmp/runs && tar czf $OUT/logsA.tgz --exclude=checkpoints --exclude=adapter . && i=0
for d in /tmp/runs/text2code-python__*; do i=$((i+1)); tar czf $OUT/runA$i.tgz --exclude=checkpoints $(basename $d); done
ls -la $OUT; echo "total $(( $(date +%s) - T0 ))s"
