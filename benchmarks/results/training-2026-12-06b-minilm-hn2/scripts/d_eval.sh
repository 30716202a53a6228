# the evaluation call: the dev choice and the test numbers (the first session's eval_v2.py), then the
# records (logs, summaries, every run's training.json, eval.jsonl, choice.json) and the chosen v2 adapters
# as archives under $OUT (at most 8 files of 16 MiB come back: the adapters go in two archives).
source benchmarks/results/training-2026-12-06-minilm-hn/scripts/env.sh
PYTHONUNBUFFERED=1 timeout "${1:-400}" python benchmarks/results/training-2026-12-06-minilm-hn/scripts/eval_v2.py 2>&1 | grep "EVAL\|CHOICE\|Error\|done"
cp "$OUT/eval.jsonl" "$OUT/choice.json" /tmp/runs/ 2>/dev/null
cd /tmp/runs && tar czf "$OUT/records.tar.gz" *.jsonl *.json orchestrate*.log logs text2code-*/training.json && cd - > /dev/null
python - <<'PY'
import json, os, subprocess
out = os.environ["OUT"]
choice = json.load(open(f"{out}/choice.json"))
runs = [c["v2_run"] for c in choice.values() if c["chosen"] != "v1"]
for part, chunk in (("a", runs[:3]), ("b", runs[3:])):
    if chunk:
        files = [f"{r}/adapter/{f}" for r in chunk for f in ("adapter_config.json", "adapter_model.safetensors")]
        files += [f"{r}/training.json" for r in chunk]
        subprocess.run(["tar", "czf", f"{out}/adapters-{part}.tar.gz", *files], check=True)
print("chosen:", {k: c["chosen"] for k, c in choice.items()})
PY
ls -la "$OUT"
