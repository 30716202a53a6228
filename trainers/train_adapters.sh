#!/usr/bin/env bash
# Train the adapters in order, then build the default bundle from the MiniLM ones.
#
#   trainers/train_adapters.sh                       # MiniLM: text2code-<lang> x 6, text2code, code2code
#   BACKBONES="unixcoder codebert graphcodebert" RANKS="16 32 64" BASE_DIR=/models trainers/train_adapters.sh
#
# Environment: DATA_DIR (default corpus; built by trainers/data/build.py and trainers/data/code2code.py),
# NPROC (GPUs per run, default 1: torchrun when > 1), EXTRA (more flags for every run, e.g. "--max-steps 100"),
# BACKBONES / RANKS / BASE_DIR (paper backbones: local copies at $BASE_DIR/<name>-base).
# Each run resumes where it stopped (--resume), so rerunning after a kill continues.
set -euo pipefail
cd "$(dirname "$0")/.."
DATA_DIR=${DATA_DIR:-corpus}
NPROC=${NPROC:-1}
EXTRA=${EXTRA:-}
LANGS=${LANGS:-"python go java javascript php ruby"}

run() {
  if [ "$NPROC" -gt 1 ]; then
    torchrun --standalone --nproc_per_node="$NPROC" -m loracode_embed.cli train "$@" --resume $EXTRA
  else
    python -m loracode_embed.cli train "$@" --resume $EXTRA
  fi
}

if [ -z "${BACKBONES:-}" ]; then
  # 1. language adapters (most specific routes), 2. the text2code task adapter, 3. code2code
  for lang in $LANGS; do
    run trainers/configs/minilm-text2code-python.yaml --name "text2code-$lang" --languages "$lang" \
      --data-dir "$DATA_DIR" --output-dir "runs/minilm/text2code-$lang"
  done
  run trainers/configs/minilm-text2code.yaml --data-dir "$DATA_DIR"
  run trainers/configs/minilm-code2code.yaml --train-files "$DATA_DIR/code2code/java-csharp-train.jsonl.gz"
  # 4. the bundle shipped in the package (review runs/minilm/*/training.json first)
  args=()
  for lang in $LANGS; do args+=(--adapter "text2code-$lang=runs/minilm/text2code-$lang/adapter"); done
  python trainers/build_default_bundle.py "${args[@]}" \
    --adapter text2code=runs/minilm/text2code/adapter --adapter code2code=runs/minilm/code2code/adapter
else
  for backbone in $BACKBONES; do
    for rank in ${RANKS:-64}; do
      for kind in text2code code2code; do
        extra_data=(--data-dir "$DATA_DIR")
        [ "$kind" = code2code ] && extra_data=(--train-files "$DATA_DIR/code2code/java-csharp-train.jsonl.gz")
        run "trainers/configs/$backbone-$kind.yaml" --base "${BASE_DIR:?set BASE_DIR}/$backbone-base" \
          --lora-r "$rank" --lora-alpha $((2 * rank)) "${extra_data[@]}" --output-dir "runs/$backbone/$kind-r$rank"
      done
    done
  done
fi
