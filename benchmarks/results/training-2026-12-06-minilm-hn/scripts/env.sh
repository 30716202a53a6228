# Sourced by every call on the GPU machine (one H100; torch, transformers, sentence-transformers, peft
# preinstalled; nothing else reachable). Wheels and data arrive in several calls of <= 64 MiB each and
# stay in /tmp while the machine is warm.
export SITE=/tmp/site PYTHONPATH="$PWD:/tmp/site" TOKENIZERS_PARALLELISM=false
export CORPUS_DIR=/tmp/corpus BASE_DIR=/tmp/base RUNS_DIR=/tmp/runs
mkdir -p /tmp/w /tmp/runs "${OUT:-/tmp/out}"
