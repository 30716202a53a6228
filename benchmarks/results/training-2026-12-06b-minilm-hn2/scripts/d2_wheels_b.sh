# call 2 (carry carry/c2): pyarrow's second half, the Python pack, eval sets + StaQC train; install the
# wheels into /tmp/site (--no-deps: the machine has the rest); prepare the four languages with python-webq.
source benchmarks/results/training-2026-12-06-minilm-hn/scripts/env.sh
cat /tmp/w/pa.aa carry/c2/whl/pa.ab > /tmp/w/pyarrow-26.0.1-cp312-cp312-manylinux_2_28_x86_64.whl && rm /tmp/w/pa.aa
python -m pip install --quiet --no-index --no-deps --target /tmp/site --upgrade /tmp/w/*.whl
trainers/gpu/run_training.sh check
mkdir -p /tmp/shared && tar xJf carry/c2/shared-eval.tar.xz -C /tmp/shared
cp -r carry/c2/pack/* /tmp/pack-in/
python trainers/gpu/sweep.py prepare --pack /tmp/pack-in --out /tmp/corpus --staqc /tmp/shared/staqc/train_staqc.json
python benchmarks/results/training-2026-12-06-minilm-hn/scripts/valid_for_eval.py /tmp/corpus /tmp/evalcorpus python php ruby javascript
ls -la /tmp/corpus/*
