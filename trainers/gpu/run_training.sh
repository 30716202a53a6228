#!/usr/bin/env bash
# Train (or benchmark) on a GPU machine that has torch/transformers/sentence-transformers/peft but not
# this package, `datasets`, `accelerate` or PyYAML, and reaches no registry.
#
# Carried with the working tree (see docs/training.md, "GPU machines"):
#   .whl/            wheels made here by trainers/gpu/fetch_wheels.sh (installed to /tmp/site, --no-deps)
#   carry/base/      the base model in float16 (trainers/gpu/pack_base.py), optional
#   carry/corpus/    data shards <language>/{train,valid}-NNNNN.jsonl.gz, optional
#
#   trainers/gpu/run_training.sh check                                   # versions, what is missing
#   trainers/gpu/run_training.sh train  NPROC CONFIG [flags...]          # loracode train under torchrun
#   trainers/gpu/run_training.sh bench  NPROC [train_throughput flags]   # benchmarks/train_throughput.py
#
# Results, adapters and logs are copied under $OUT when it is set.
set -euo pipefail
cd "$(dirname "$0")/../.."
SITE=${SITE:-/tmp/site}
if compgen -G ".whl/*.whl" > /dev/null; then
  mkdir -p "$SITE"
  python -m pip install --quiet --no-index --no-deps --target "$SITE" --upgrade .whl/*.whl
fi
export PYTHONPATH="$PWD:$SITE${PYTHONPATH:+:$PYTHONPATH}"
export TOKENIZERS_PARALLELISM=false
mode=${1:-check}; shift || true

case "$mode" in
  check)
    python - <<'PY'
import importlib, platform
print("python", platform.python_version())
for name in ("torch", "transformers", "sentence_transformers", "peft", "accelerate", "datasets", "yaml",
             "pyarrow", "loracode_embed"):
    try:
        module = importlib.import_module(name)
        print(f"{name:24} {getattr(module, '__version__', 'ok')}")
    except Exception as exc:
        print(f"{name:24} MISSING ({type(exc).__name__}: {exc})")
import torch
print("cuda", torch.cuda.is_available(), torch.cuda.device_count(),
      torch.cuda.get_device_name(0) if torch.cuda.is_available() else "")
PY
    ;;
  train)
    nproc=$1; shift
    torchrun --standalone --nproc_per_node="$nproc" -m loracode_embed.cli -v train "$@" 2>&1 | tee train.log
    if [ -n "${OUT:-}" ]; then
      run_dir=$(python -m loracode_embed.cli train "$@" --print-config | python -c \
        "import json,sys; c=json.load(sys.stdin); print(c['output_dir'] or 'runs/' + c['name'])")
      mkdir -p "$OUT/run"
      cp -r "$run_dir/adapter" "$run_dir/training.json" "$OUT/run/" 2>/dev/null || true
      cp train.log "$OUT/"
    fi
    ;;
  bench)
    nproc=$1; shift
    python benchmarks/train_throughput.py --devices "$nproc" "$@"
    ;;
  *)
    echo "usage: $0 check | train NPROC CONFIG [flags] | bench NPROC [flags]" >&2
    exit 2
    ;;
esac
