# Entry points (see README.md and docs/install.md):
#   make test         builds .venv from the lock (requirements.lock) and runs every test suite, offline
#   make demo         runs the main job on the embedded defaults (no server, no network)
#   make lock         re-resolves requirements.lock: the newest versions the pyproject bounds allow
#   make test-latest  a fresh .venv-latest with the newest resolvable versions (no lock), every suite
#   make test-min     a fresh .venv-min with the lowest allowed direct dependencies, every suite
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN = $(abspath $(VENV))/bin
LOCK = requirements.lock
# torch first, pinned: a bare `torch` requirement would pull a multi-GB CUDA build; on this project's
# registry `torch==2.13.0` is the CPU wheel. The lock pins everything else.
TORCH = torch==2.13.0
# Each integration is its own distribution with its own tests (run from its folder: own pytest config).
INTEGRATIONS = integrations/langchain integrations/llama-index integrations/qdrant integrations/serve
SUITES = . $(INTEGRATIONS)
PACKAGES = -e ".[dev,train,mine]" $(foreach dir,$(INTEGRATIONS),-e "./$(dir)[test]")
# uv resolves the lock and the lowest-version set (pip cannot resolve lowest versions); pip installs.
OWN_DISTRIBUTIONS = loracode-embed langchain-loracode llama-index-embeddings-loracode loracode-qdrant loracode-serve
UV = $(abspath .venv-uv)/bin/uv
UV_VERSION = uv==0.13.9
# Where the CPU wheel sits in a local folder (this project's machines), the resolver sees it there.
CPU_WHEELS = $(wildcard /opt/wheels)
RESOLVE = $(UV) pip compile --quiet --no-header $(if $(CPU_WHEELS),--find-links $(CPU_WHEELS)) \
	--override $(abspath .torch-override.txt) \
	$(foreach pkg,$(OWN_DISTRIBUTIONS),--no-emit-package $(pkg))

.PHONY: install test demo lock test-latest test-min

# $(call build_venv,DIR,PIP_OPTIONS): a fresh virtual environment with torch's CPU wheel first, then the
# five distributions (editable, with their test extras).
define build_venv
	rm -rf $(1)
	$(PYTHON) -m venv $(1)
	$(1)/bin/pip install --quiet --upgrade pip
	$(1)/bin/pip install --quiet $(TORCH)
	$(1)/bin/pip install --quiet $(2) $(PACKAGES)
	$(1)/bin/pip freeze --exclude-editable > $(1)/installed.txt
endef

# $(call run_suites,BIN): ruff, then every suite even after a failure; one summary line per suite, and
# the exit status is non-zero if any failed.
define run_suites
	@status=0; report=""; \
	if $(1)/ruff check loracode_embed tests trainers integrations benchmarks; then r="passed"; else r="FAILED"; status=1; fi; \
	report+="\n  ruff check: $$r"; \
	for dir in $(SUITES); do \
	  log=$$(mktemp); \
	  (cd $$dir && $(1)/python -m pytest 2>&1) | tee $$log; rc=$${PIPESTATUS[0]}; \
	  summary=$$(tail -n 1 $$log | tr -d '=' | sed 's/^ *//;s/ *$$//'); rm -f $$log; \
	  if [ $$rc -ne 0 ]; then status=1; summary="FAILED ($$summary)"; fi; \
	  report+="\n  $$dir: $$summary"; \
	done; \
	printf "\n== Suites ($(1)):$$report\n"; \
	[ $$status -eq 0 ] && echo "== all suites passed" || echo "== SOME SUITES FAILED"; \
	exit $$status
endef

$(BIN)/loracode: pyproject.toml $(addsuffix /pyproject.toml,$(INTEGRATIONS)) $(LOCK)
	$(call build_venv,$(VENV),-c $(LOCK))
	touch $(BIN)/loracode

install: $(BIN)/loracode

test: install
	$(call run_suites,$(BIN))

# Index this repository's own package with the embedded Qdrant Edge store (.loracode/ beside the
# code), then search it in natural language. A second `make demo` re-embeds only what changed.
demo: install
	$(BIN)/loracode index loracode_embed
	$(BIN)/loracode search --root loracode_embed -k 5 "map a file extension to a programming language"

$(UV):
	$(PYTHON) -m venv .venv-uv
	.venv-uv/bin/pip install --quiet $(UV_VERSION)

.torch-pin.txt:
	echo "$(TORCH)" > $@

.torch-override.txt:
	echo "$(TORCH)$(if $(CPU_WHEELS),+cpu)" > $@

lock: $(UV) .torch-override.txt
	printf '%s\n' $(PACKAGES) | sed 's/^"//;s/"$$//' > .lock-input.txt
	$(RESOLVE) --upgrade .lock-input.txt -o $(LOCK).new
	# the CPU build's local label only exists on the CPU wheel index; `torch==X` matches it there
	sed -i 's/^torch==\([^+]*\)+cpu$$/torch==\1/' $(LOCK).new
	mv $(LOCK).new $(LOCK)
	@echo "Wrote $(LOCK): $$(grep -c '==' $(LOCK)) pinned packages. Now run: make test"

# torch stays the CPU wheel (-c pins it): an unpinned upgrade would fetch PyPI's CUDA build.
test-latest: .torch-pin.txt
	$(call build_venv,.venv-latest,--upgrade --upgrade-strategy eager -c .torch-pin.txt)
	$(call run_suites,$(abspath .venv-latest)/bin)

test-min: $(UV) .torch-override.txt
	printf '%s\n' $(PACKAGES) | sed 's/^"//;s/"$$//' > .lock-input.txt
	$(RESOLVE) --resolution lowest-direct .lock-input.txt -o .lowest.txt
	sed -i 's/^torch==\([^+]*\)+cpu$$/torch==\1/' .lowest.txt
	$(call build_venv,.venv-min,-c .lowest.txt)
	$(call run_suites,$(abspath .venv-min)/bin)
