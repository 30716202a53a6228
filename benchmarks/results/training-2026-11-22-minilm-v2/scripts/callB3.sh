#!/usr/bin/env bash
# Call B3 (same warm machine): loracode eval presets for base and every adapter; adapters in float16.
set -o pipefail
export PYTHONUNBUFFERED=1 TOKENIZERS_PARALLELISM=false PYTHONPATH=$PWD:/tmp/site
T0=$(date +%s)
cp -r carry/runsA-best/. /tmp/runs/; mkdir -p /tmp/shared && cp -r carry/shared-data/. /tmp/shared/ && cp -r carry/corpus-v2 /tmp/evalcorpus
E="timeout ${EVAL_S:-420} python3 trainers/gpu/sweep.py eval --out /tmp/runs/eval-final.jsonl"
LANGS="python go java javascript php ruby"
P=""; for l in $LANGS; do P="$P --preset mined-$l-test"; done
C=""; for l in $LANGS java-csharp; do C="$C --preset code2code-anon-$l"; done
R=/tmp/runs
$E --adapter base=- $P $C --preset cosqa-test --preset cosqa-dev --preset staqc-dev --preset csn-cloze --preset java-cs-test --preset java-cs-valid 2>&1 | grep -E "EVAL|Error"
$E --adapter text2code=$R/text2code__unified__2e-3__1__all $P --preset cosqa-test --preset cosqa-dev --preset csn-cloze 2>&1 | grep -E "EVAL|Error"
for d in $R/text2code-python__*; do $E --adapter text2code-python@$(basename $d)=$d --preset mined-python-test --preset cosqa-dev --preset cosqa-test --preset staqc-dev --preset csn-cloze-python 2>&1 | grep -E "EVAL|Error"; done
for l in go java javascript php ruby; do d=$(ls -d $R/text2code-${l}__* | head -1); $E --adapter text2code-$l=$d --preset mined-$l-test --preset csn-cloze-$l 2>&1 | grep -E "EVAL|Error"; done
$E --adapter code2code=$R/code2code__code2code__1e-3__2__all $C --preset java-cs-test --preset java-cs-valid --preset cs-java-test 2>&1 | grep -E "EVAL|Error"
echo "evaluated at $(( $(date +%s) - T0 ))s"
python3 - <<'PY'
import glob, os, shutil
from safetensors.torch import load_file, save_file
for d in glob.glob("/tmp/runs/*__*/adapter"):
    out = "/tmp/ship/" + os.path.basename(os.path.dirname(d))
    os.makedirs(out, exist_ok=True)
    save_file({k: v.half().contiguous() for k, v in load_file(d + "/adapter_model.safetensors").items()}, out + "/adapter_model.safetensors")
    shutil.copy(d + "/adapter_config.json", out)
    shutil.copy(os.path.dirname(d) + "/training.json", out)
PY
cd /tmp/ship && tar czf $OUT/adapters-fp16.tgz . && cd /tmp/runs && tar czf $OUT/logsB.tgz --exclude=checkpoints --exclude=adapter . && ls -la $OUT
echo "total $(( $(date +%s) - T0 ))s"
