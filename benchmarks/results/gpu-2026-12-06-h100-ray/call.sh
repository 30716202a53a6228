#!/bin/bash
# One-GPU Ray vs in-process indexing (issue 21). Wheels and the ray wheel's two halves were carried
# by the two calls before (into /tmp/w); this call carries the float16 base and runs the benchmark.
set -x
export PYTHONUNBUFFERED=1 PYTHONPATH=/tmp/site:$PWD:$PWD/integrations/qdrant
nvidia-smi --query-gpu=name,memory.total --format=csv
python3 -c "import ray, peft, transformers, sentence_transformers, torch, qdrant_edge; print(ray.__version__, peft.__version__, transformers.__version__, sentence_transformers.__version__, torch.__version__)" || exit 1
rm -rf /tmp/bundle && cp -r loracode_embed/bundles/default /tmp/bundle && cp -r .gpu/c3/base /tmp/base
python3 - <<'PY'
import json
p = "/tmp/bundle/loracode.json"; m = json.load(open(p))
# the carried base is MiniLM in float16 (transport format; dtype auto on CUDA is float16 anyway)
m["base"].update(name="/tmp/base", sha256=None, package=None, package_subdir=None, distribution=None)
json.dump(m, open(p, "w"), indent=2)
PY
python3 benchmarks/ray_index.py --device cuda --model /tmp/bundle --modes inprocess,ray:1 --repeats 2 \
  --out $OUT/ray_index_1gpu.json 2>&1 | grep -v "Failed to convert column" | tee $OUT/ray_index_1gpu.log | tail -60
