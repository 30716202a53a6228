#!/usr/bin/env bash
# Device call 3 (machine still warm from call 2: /tmp/base, /tmp/site, /tmp/corpus, /tmp/runs present):
# php and ruby adapters in parallel, then their evaluation. (As run, the wait loop used `pgrep -f`, which
# matched its own shell and hung until the timeout; this version waits on the PID instead.)
export PYTHONUNBUFFERED=1 TOKENIZERS_PARALLELISM=false PYTHONPATH=$PWD:/tmp/site
D=carry/scripts/driver.py
python3 $D train --jobs text2code-php:php:5e-4 > /tmp/runs/c3-php.log 2>&1 & P=$!
python3 $D train --jobs text2code-ruby:ruby:5e-4 > /tmp/runs/c3-ruby.log 2>&1
wait $P
python3 $D eval --out /tmp/runs/results_c3.json --sets t2c:php:valid t2c:php:test t2c:ruby:valid t2c:ruby:test \
  --models text2code-php=text2code-php:best/php:t2c:php text2code-ruby=text2code-ruby:best/ruby:t2c:ruby
cd /tmp/runs && tar czf $OUT/c3-runs.tgz text2code-{php__php,ruby__ruby}__lr5e-4__e1.0/{adapter,training.json}
cp results_c3.json c3-php.log c3-ruby.log summary.jsonl $OUT/
