#!/usr/bin/env bash
# Call 3: every run of call 2, the shipped adapter and the base on cosqa-dev and mined-python-valid (dev
# sets only), each adapter at LoRA scales 1, 0.7, 0.5 and 0.35. Three evaluation processes side by side.
set -o pipefail
export PYTHONUNBUFFERED=1 TOKENIZERS_PARALLELISM=false PYTHONPATH=$PWD:/tmp/site BASE_DIR=/tmp/base
T0=$(date +%s)
# The pack's valid split keeps query/code/language only; the eval loader wants an id per record.
python3 - <<'PY'
import gzip, json
rows = [json.loads(l) for l in gzip.open("/tmp/corpus/python/valid-00000.jsonl.gz", "rt")]
with open("/tmp/evalcorpus/python/valid-00000.jsonl", "w") as fh:
    for i, r in enumerate(rows):
        fh.write(json.dumps({"id": f"python-valid-{i}", **r}) + "\n")
PY
rm -f /tmp/evalcorpus/python/valid-00000.jsonl.gz /tmp/runs/eval*
runs=(/tmp/runs/text2code-python__*)
args=("--adapter base=-" "--adapter text2code-python@shipped=$PWD/loracode_embed/bundles/default/adapters/text2code-python")
for d in "${runs[@]}"; do [ -f $d/adapter/adapter_model.safetensors ] && args+=("--adapter text2code-python@$(basename $d)=$d"); done
E="timeout 540 python3 trainers/gpu/sweep.py eval --preset cosqa-dev --preset mined-python-valid --data-dir /tmp/shared --corpus-dir /tmp/evalcorpus --scale 1 --scale 0.7 --scale 0.5 --scale 0.35"
n=${#args[@]}; for k in 0 1 2; do sel=""; for ((i=k; i<n; i+=3)); do sel="$sel ${args[$i]}"; done
  $E $sel --out /tmp/runs/eval$k.jsonl > /tmp/runs/eval$k.log 2>&1 & done
wait
grep -h -E "EVAL|Error" /tmp/runs/eval*.log
cat /tmp/runs/eval?.jsonl > $OUT/eval.jsonl; echo "total $(( $(date +%s) - T0 ))s"
