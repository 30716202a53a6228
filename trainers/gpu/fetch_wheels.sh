#!/usr/bin/env bash
# Download (here, where PyPI is reachable) the wheels a GPU machine lacks, into .whl/ (git-ignored).
#
#   PYVER=3.11 trainers/gpu/fetch_wheels.sh            # PYVER: the GPU machine's Python (see `run_training.sh check`)
#   PACKAGES="datasets pyarrow ..." trainers/gpu/fetch_wheels.sh
#
# Only the listed packages are fetched, without their dependencies (the GPU machine has torch, numpy,
# transformers, huggingface-hub, ...): `run_training.sh check` says what is still missing. The
# loracode-embed wheel itself is built from this checkout. pyarrow alone is ~40 MB: carry it in its
# own run (installed files stay in /tmp/site while the machine is warm), then the model and data.
set -euo pipefail
cd "$(dirname "$0")/../.."
PYVER=${PYVER:-3.11}
PACKAGES=${PACKAGES:-"datasets dill multiprocess xxhash pyarrow accelerate pyyaml"}
mkdir -p .whl
python -m pip download --quiet --no-deps --only-binary=:all: --python-version "$PYVER" \
  --platform manylinux2014_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux_2_28_x86_64 \
  --implementation cp -d .whl $PACKAGES
python -m pip wheel --quiet --no-deps -w .whl .
ls -la .whl
du -sh .whl
