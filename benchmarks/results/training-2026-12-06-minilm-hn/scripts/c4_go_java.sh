# call 4 (carry carry/c4): the Go and Java packs, unpacked beside the corpus and moved in whole (the
# orchestrator mines a language as soon as its folder appears); then wait like wait.sh.
source benchmarks/results/training-2026-12-06-minilm-hn/scripts/env.sh
rm -rf /tmp/pack-in2 /tmp/corpus-stage && mkdir -p /tmp/pack-in2 && cp -r carry/c4/pack/* /tmp/pack-in2/
python trainers/gpu/sweep.py prepare --pack /tmp/pack-in2 --out /tmp/corpus-stage --skip-web
python benchmarks/results/training-2026-12-06-minilm-hn/scripts/valid_for_eval.py /tmp/corpus-stage /tmp/evalcorpus go java
mv /tmp/corpus-stage/go /tmp/corpus-stage/java /tmp/corpus/
bash benchmarks/results/training-2026-12-06-minilm-hn/scripts/wait.sh "${1:-480}"
