#!/usr/bin/env bash
# 2x H200: training throughput 1 vs 2 GPUs (synthetic benchmark and the real trainer), encoding 1 vs 2 GPUs.
set -o pipefail
export PYTHONUNBUFFERED=1 TOKENIZERS_PARALLELISM=false
T0=$(date +%s); MO=/tmp/mout; mkdir -p $MO
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl || exit 1
export PYTHONPATH=$PWD:/tmp/site
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader
mkdir -p /tmp/base && cp -r carry/base/. /tmp/base/
mkdir -p /tmp/js && python3 -c "import lzma,sys; open('/tmp/js/train.jsonl','wb').write(lzma.decompress(open('carry/pack/javascript/train-00000.jsonl.xz','rb').read()))" && cp carry/pack/javascript/valid-00000.jsonl.gz /tmp/js/valid.jsonl.gz
B="timeout 150 python3 benchmarks/train_throughput.py --mode fast --tag=-h200 --out $MO"
for shape in unixcoder minilm; do
  $B --shape $shape 2>&1 | grep -E '"pairs_per_s_per_gpu"|"mfu"|Error'
  $B --shape $shape --devices 2 2>&1 | grep -E '"pairs_per_s_per_gpu"|"mfu"|Error'
done
$B --shape unixcoder --dropout 0 2>&1 | grep -E '"pairs_per_s_per_gpu"|"mfu"|Error'
echo "synthetic done $(( $(date +%s) - T0 ))s"
T="--name text2code-javascript --base /tmp/base --train-files /tmp/js/train.jsonl --eval-files /tmp/js/valid.jsonl.gz --max-eval-pairs 2000 --batch-size 256 --epochs 1 --learning-rate 2e-3 --warmup-ratio 0.05 --target-modules query key value output.dense intermediate.dense --eval-steps 1000 --logging-steps 20 --no-load-best-model-at-end"
for n in 1 2; do
  timeout 200 torchrun --standalone --nproc_per_node=$n -m loracode_embed.cli train $T --output-dir /tmp/ddp$n > $MO/trainer-${n}gpu.log 2>&1
  python3 -c "
import json; r=json.load(open('/tmp/ddp$n/training.json')); print('trainer $n GPU(s):', r['steps'], 'steps', r['seconds'], 's', 'world', r['world_size'], 'candidates', [x['candidates_per_anchor'] for x in r['ranks']], 'pairs/s', round(r['steps']*256*r['world_size']/r['seconds'],1), 'best', r['best_metric'])
json.dump(r, open('$MO/trainer-${n}gpu.json','w'), indent=1)" 2>&1 | tail -2
done
echo "trainer done $(( $(date +%s) - T0 ))s"
tar czf $OUT/results1.tgz -C $MO . ; echo "total $(( $(date +%s) - T0 ))s"; ls $MO
