#!/usr/bin/env bash
# Call B2 (same warm machine): the other languages' data, then every adapter in 5 streams on one GPU.
set -o pipefail
export PYTHONUNBUFFERED=1 TOKENIZERS_PARALLELISM=false PYTHONPATH=$PWD:/tmp/site
T0=$(date +%s)
test -f /tmp/base/model.safetensors || { echo "NO BASE: fresh machine"; exit 3; }
mkdir -p /tmp/packall && cp -r /tmp/keep/python carry/pack/. /tmp/packall/
python3 trainers/gpu/sweep.py prepare --pack /tmp/packall --out /tmp/corpus --staqc /tmp/shared/staqc/train_staqc.json --unified-per-language 30000 2>&1 | grep -v "^{" | tail -12
echo "prepared at $(( $(date +%s) - T0 ))s"
S="timeout ${STREAM_S:-480} python3 trainers/gpu/sweep.py train --workers 2"
$S text2code-java:java:2e-3:1:all > /tmp/runs/b1.log 2>&1 &
$S text2code-go:go:2e-3:1:all text2code-javascript:javascript:2e-3:2:all > /tmp/runs/b2.log 2>&1 &
$S text2code-ruby:ruby:2e-3:2:all text2code-php:php:2e-3:2:all > /tmp/runs/b3.log 2>&1 &
$S text2code:unified:2e-3:1:all > /tmp/runs/b4.log 2>&1 &
$S code2code:code2code:1e-3:2:all text2code-python:python-webq:2e-3:1:all > /tmp/runs/b5.log 2>&1 &
wait
echo "trained at $(( $(date +%s) - T0 ))s"
grep -h -E "^(===|RESULT|FAIL)|Error" /tmp/runs/b*.log | cut -c1-330
cp /tmp/runs/summary.jsonl $OUT/ 2>/dev/null; tail -c 3000 /tmp/runs/b1.log
