#!/usr/bin/env bash
# One H100: encoding throughput after the background-tokenizer pipeline (loracode_embed/batching.py).
set -o pipefail
export PYTHONUNBUFFERED=1 PYTHONPATH=$PWD
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader; nproc
python3 -c "import torch, transformers, tokenizers, sentence_transformers, peft; print(torch.__version__, transformers.__version__, tokenizers.__version__, sentence_transformers.__version__, peft.__version__)"
timeout 500 python3 benchmarks/encode_throughput.py --device cuda --shapes unixcoder minilm --n-chunks 8192 --repeats 3 --compile \
  --out $OUT/encode_throughput_h100.json 2>&1 | grep -vE "Loading|Writing|Batches|it/s|warn" | tail -40
