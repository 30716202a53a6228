#!/usr/bin/env bash
# Call 2 (second try; the first one built no name pairs, since the pack has no func_name field, and ran
# out of GPU memory with four streams): unpack the Python pack (carry: carry/pack/python), build the
# name-query sets, train five text2code-python variants in three streams side by side on one GPU.
# Runs stay in /tmp/runs for call 3.
set -o pipefail
export PYTHONUNBUFFERED=1 TOKENIZERS_PARALLELISM=false PYTHONPATH=$PWD:/tmp/site BASE_DIR=/tmp/base
T0=$(date +%s)
export PYTORCH_CUDA_ALLOC_CONF=expandable_segments:True
rm -rf /tmp/runs/* /tmp/corpus
mkdir -p /tmp/evalcorpus/python
python3 trainers/gpu/sweep.py prepare --pack carry/pack --out /tmp/corpus --staqc /tmp/shared/staqc/train_staqc.json --names 50 --names 100 --skip-web 2>&1 | tail -8
cp /tmp/corpus/python/valid-00000.jsonl.gz /tmp/evalcorpus/python/
echo "prepared at $(( $(date +%s) - T0 ))s"
S="timeout 480 python3 trainers/gpu/sweep.py train --workers 3 --evals 3"
$S text2code-python:python-names50:1e-3:1:all text2code-python:python-names50:2e-3:1:all > /tmp/runs/n1.log 2>&1 &
$S text2code-python:python-names100:1e-3:1:all text2code-python:python-names50-staqc:1e-3:1:all > /tmp/runs/n2.log 2>&1 &
$S text2code-python:python-names50:1e-3:2:all > /tmp/runs/n3.log 2>&1 &
wait
echo "trained at $(( $(date +%s) - T0 ))s"
grep -h -E "^(RESULT|FAIL)|Error" /tmp/runs/n*.log | cut -c1-600
cp /tmp/runs/summary.jsonl $OUT/summary.jsonl
cd /tmp/runs && tar czf $OUT/logs2.tgz --exclude=checkpoints --exclude=adapter . ; echo "total $(( $(date +%s) - T0 ))s"
