# Two entry points for a new user (see README.md):
#   make test   builds .venv from the package registries and runs every test suite, offline
#   make demo   runs the main job on the embedded defaults (no server, no network)
PYTHON ?= python3
VENV ?= .venv
BIN = $(abspath $(VENV))/bin
# Each integration is its own distribution with its own tests (run from its folder: own pytest config).
INTEGRATIONS = integrations/langchain integrations/llama-index

.PHONY: install test demo

$(BIN)/loracode: pyproject.toml $(addsuffix /pyproject.toml,$(INTEGRATIONS))
	$(PYTHON) -m venv $(VENV)
	# torch first, pinned: a bare `torch` requirement would pull a multi-GB CUDA build.
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e ".[dev,train,mine]" $(foreach dir,$(INTEGRATIONS),-e "./$(dir)[test]")
	touch $(BIN)/loracode

install: $(BIN)/loracode

test: install
	$(BIN)/ruff check loracode_embed tests trainers integrations benchmarks
	$(BIN)/python -m pytest
	set -e; for dir in $(INTEGRATIONS); do (cd $$dir && $(BIN)/python -m pytest); done

demo: install
	$(BIN)/loracode embed --task text2code --language python "read a yaml file into a dict" | cut -c1-120
