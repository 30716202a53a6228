# call 1 (carry carry/c1): the small wheels and pyarrow's first half (55 MB, `split -b 28000000` here),
# the test splits (trainers/gpu/pack_test_data.py) and the PHP, Ruby, JavaScript train/valid packs.
source benchmarks/results/training-2026-12-06-minilm-hn/scripts/env.sh
cp carry/c1/whl/* /tmp/w/
mkdir -p /tmp/pack-in /tmp/evalcorpus && cp -r carry/c1/pack/* /tmp/pack-in/ && cp -r carry/c1/pack-test/* /tmp/evalcorpus/
nvidia-smi --query-gpu=name,memory.total --format=csv; nproc; python -V
python -c "import torch, transformers, sentence_transformers, peft; print(torch.__version__, transformers.__version__, sentence_transformers.__version__, peft.__version__)"
ls /tmp/w /tmp/pack-in /tmp/evalcorpus
