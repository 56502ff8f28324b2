# The two commands of the README: `make demo` and `make test`. Both build the virtual
# environment first, from PyPI only, so they work on a fresh clone on a fresh machine.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
DISTS := sandbox vendor-http sync-ledger tap-personio tap-staffomatic target-staffomatic target-personio
PRESENT := $(foreach d,$(DISTS),$(if $(wildcard $(d)/pyproject.toml),$(d)))
PACKAGES := $(foreach d,$(PRESENT),$(d)/$(subst -,_,$(d)))

.PHONY: install test lint typecheck unit demo bench clean

$(BIN)/.installed: requirements-dev.txt $(foreach d,$(PRESENT),$(d)/pyproject.toml)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip uv
	$(BIN)/uv pip install --quiet --python $(BIN)/python -r requirements-dev.txt $(foreach d,$(PRESENT),-e ./$(d))
	touch $@

install: $(BIN)/.installed

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install
	$(BIN)/mypy $(PACKAGES) bench tests

unit: install
	$(BIN)/pytest

test: lint typecheck unit

demo: install
	PATH="$(CURDIR)/$(BIN):$$PATH" bash scripts/demo.sh

bench: install
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) .meltano .mypy_cache .ruff_cache
