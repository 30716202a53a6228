#!/usr/bin/env bash
# Call B1 (fresh machine): wheels, base, shared sets, Python data and its derived sets.
set -o pipefail
T0=$(date +%s)
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl || exit 1
mkdir -p /tmp/base /tmp/runs /tmp/keep && cp -r carry/base/. /tmp/base/
for f in carry/shared-gz/*/*.gz; do d=/tmp/shared/$(basename $(dirname $f)); mkdir -p $d; gunzip -c $f > $d/$(basename $f .gz); done
cp -r carry/pack/python /tmp/keep/python
ls /tmp/base /tmp/shared/* /tmp/runs; echo "B1 done $(( $(date +%s) - T0 ))s"
