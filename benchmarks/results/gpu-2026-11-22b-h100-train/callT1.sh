#!/bin/bash
# One H100: where the UniXcoder-shape training step spends its time, and what each change gains.
set -x
nvidia-smi --query-gpu=name,power.limit,clocks.max.sm --format=csv
python -c "import torch, transformers, peft; print(torch.__version__, transformers.__version__, peft.__version__)"
T=benchmarks/train_throughput.py
python $T --shape unixcoder --mode fast --peft-input-cast --tag=-h100
python $T --shape unixcoder --mode fast --profile --tag=-h100
python $T --shape unixcoder --mode fast --dropout 0 --profile --tag=-h100
python $T --shape unixcoder --mode fast --compile --tag=-h100
python $T --shape unixcoder --mode fast --compile --dropout 0 --profile --tag=-h100
python $T --shape minilm --mode fast --compile --tag=-h100
