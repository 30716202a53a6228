#!/usr/bin/env bash
set -o pipefail
export PYTHONUNBUFFERED=1 TOKENIZERS_PARALLELISM=false PYTHONPATH=$PWD:/tmp/site
T0=$(date +%s)
test -f /tmp/base/model.safetensors || { echo "NO BASE: fresh machine"; exit 3; }
cp -r carry/corpus/* /tmp/corpus/
sha256sum carry/corpus/*/*.gz | tee $OUT/c2-sha256.txt
D=carry/scripts/driver.py
python3 $D train --deadline 300 --jobs text2code-python:python:5e-4 text2code:unified:5e-4 text2code-go:go:5e-4 text2code-java:java:5e-4 text2code-php:php:5e-4 text2code-ruby:ruby:5e-4 \
  text2code-python:python:2e-4 text2code:unified:2e-4 text2code-java:java:2e-4 2>&1 | tee /tmp/runs/c2-train.log | grep -E "^(===|RESULT|FAIL|SKIP)|Error"
echo "train done at $(( $(date +%s) - T0 ))s"
C2C="jcs,jcsanon,advtest,advdev"
python3 $D eval --out /tmp/runs/results.json \
  --sets t2c:python:valid t2c:python:test t2c:go:valid t2c:go:test t2c:java:valid t2c:java:test t2c:javascript:valid t2c:javascript:test t2c:php:valid t2c:php:test t2c:ruby:valid t2c:ruby:test cosqa:test jcs:valid jcs:test jcsanon:valid advtest:java-csharp advtest:python advtest:go advtest:java advtest:javascript advtest:php advtest:ruby advdev:python advdev:go advdev:java advdev:javascript advdev:php advdev:ruby \
  --models base=base:-:t2c,cosqa,$C2C text2code=text2code:best/unified:t2c,cosqa \
    text2code-python=text2code-python:best/python:t2c:python,cosqa text2code-go=text2code-go:best/go:t2c:go \
    text2code-java=text2code-java:best/java:t2c:java text2code-php=text2code-php:best/php:t2c:php text2code-ruby=text2code-ruby:best/ruby:t2c:ruby \
    text2code-javascript=text2code-javascript:best/javascript:t2c:javascript \
    code2code=code2code:best/code2code:$C2C code2code-anonaug=code2code:best/code2code_anon:$C2C 2>&1 | tee /tmp/runs/c2-eval.log | grep -E "MRR|SELECT|NO RUN|dtype|Error|s\]"
echo "eval done at $(( $(date +%s) - T0 ))s"
cd /tmp/runs && tar czf $OUT/c2-runs.tgz --exclude='checkpoints' . ; cp results.json $OUT/results.json; cp summary.jsonl $OUT/summary.jsonl
ls -la $OUT; echo "total $(( $(date +%s) - T0 ))s"
