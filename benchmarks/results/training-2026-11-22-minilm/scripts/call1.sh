#!/usr/bin/env bash
# Device call 1: install wheels, stage base/eval/code2code+js data in /tmp, train JS + code2code sweeps,
# evaluate base on every set and the selected JS / code2code adapters.
set -o pipefail
export PYTHONUNBUFFERED=1 TOKENIZERS_PARALLELISM=false
T0=$(date +%s)
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl || exit 1
export PYTHONPATH=$PWD:/tmp/site
rm -rf /tmp/base /tmp/eval; cp -r carry/base /tmp/base; cp -r carry/eval /tmp/eval
mkdir -p /tmp/corpus /tmp/runs; cp -r carry/corpus/* /tmp/corpus/
nvidia-smi -L; python3 -c "
import sys, torch, transformers, sentence_transformers, peft, pyarrow, accelerate, yaml, datasets
print(sys.version); print('torch', torch.__version__, 'tf', transformers.__version__, 'st', sentence_transformers.__version__, 'peft', peft.__version__, 'pyarrow', pyarrow.__version__, 'datasets', datasets.__version__, 'accelerate', accelerate.__version__)"
sha256sum carry/corpus/*/*.gz /tmp/base/model.safetensors | tee $OUT/c1-sha256.txt
D=carry/scripts/driver.py
python3 $D train --deadline 270 --jobs code2code:code2code:2e-4 code2code:code2code_anon:2e-4 \
  text2code-javascript:javascript:2e-4 text2code-javascript:javascript:5e-4 text2code-javascript:javascript:2e-4:5 \
  text2code-javascript:javascript:5e-4:5 code2code:code2code:5e-4 code2code:code2code_anon:5e-4 \
  code2code:code2code:1e-4 code2code:code2code_anon:1e-4 text2code-javascript:javascript:1e-4 2>&1 | tee /tmp/runs/c1-train.log | grep -E "^(===|RESULT|FAIL|SKIP)|Error|error" 
echo "train done at $(( $(date +%s) - T0 ))s"
C2C="jcs,jcsanon,advtest,advdev"
python3 $D eval --out /tmp/runs/results.json \
  --sets t2c:python:valid t2c:python:test t2c:go:valid t2c:go:test t2c:java:valid t2c:java:test t2c:javascript:valid t2c:javascript:test t2c:php:valid t2c:php:test t2c:ruby:valid t2c:ruby:test cosqa:test jcs:valid jcs:test jcsanon:valid advtest:java-csharp advtest:python advtest:go advtest:java advtest:javascript advtest:php advtest:ruby advdev:python advdev:go advdev:java advdev:javascript advdev:php advdev:ruby \
  --models base=base:-:t2c,cosqa,$C2C \
    code2code=code2code:best/code2code:$C2C \
    code2code-anonaug=code2code:best/code2code_anon:$C2C \
    text2code-javascript=text2code-javascript:best/javascript:t2c:javascript 2>&1 | tee /tmp/runs/c1-eval.log | grep -E "MRR|SELECT|NO RUN|dtype|Error|s\]"
echo "eval done at $(( $(date +%s) - T0 ))s"
cd /tmp/runs && tar czf $OUT/c1-runs.tgz --exclude='checkpoints' . && cp results.json $OUT/c1-results.json && cp summary.jsonl $OUT/c1-summary.jsonl
ls -la $OUT; echo "total $(( $(date +%s) - T0 ))s"
