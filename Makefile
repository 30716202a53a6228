# Two entry points for a new user (see README.md):
#   make test   builds .venv from the package registries and runs every test suite, offline
#   make demo   runs the main job on the embedded defaults (no server, no network)
PYTHON ?= python3
VENV ?= .venv
BIN = $(abspath $(VENV))/bin
# Each integration is its own distribution with its own tests (run from its folder: own pytest config).
INTEGRATIONS = integrations/langchain integrations/llama-index integrations/qdrant integrations/serve

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

# Index this repository's own package with the embedded Qdrant Edge store (.loracode/ beside the
# code), then search it in natural language. A second `make demo` re-embeds only what changed.
demo: install
	$(BIN)/loracode index loracode_embed
	$(BIN)/loracode search --root loracode_embed -k 5 "map a file extension to a programming language"
