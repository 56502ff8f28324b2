# The two commands of the README: `make demo` and `make test`. Both build the virtual
# environment first, from PyPI only, so they work on a fresh clone on a fresh machine.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
DISTS := sandbox vendor-http sync-ledger tap-personio tap-staffomatic target-staffomatic target-personio sync-events
PRESENT := $(foreach d,$(DISTS),$(if $(wildcard $(d)/pyproject.toml),$(d)))
PACKAGES := $(foreach d,$(PRESENT),$(d)/$(subst -,_,$(d)))

.PHONY: install test lint typecheck unit dist compat demo bench clean

$(BIN)/.installed: requirements-dev.txt $(foreach d,$(PRESENT),$(d)/pyproject.toml)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip uv
	@# the ledger's distribution was called sync-ledger before: drop it so it does not own the command
	$(BIN)/uv pip uninstall --quiet --python $(BIN)/python sync-ledger
	@# compiled once here (as pip does; uv does not by default): otherwise every start of
	@# Meltano or a plugin compiles its imports again where PYTHONDONTWRITEBYTECODE is set
	$(BIN)/uv pip install --quiet --compile-bytecode --python $(BIN)/python -r requirements-dev.txt $(foreach d,$(PRESENT),-e ./$(d))
	touch $@

install: $(BIN)/.installed

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install
	$(BIN)/mypy $(PACKAGES) bench tests

# The tests mostly wait on processes and the network: pytest-xdist runs them on WORKERS workers
# (tests/conftest.py keeps the ones that share a session's state on one worker; WORKERS=0: none).
WORKERS ?= 3

unit: install
	$(BIN)/pytest -n $(WORKERS)

test: lint typecheck unit dist

# An sdist and a wheel of every distribution into dist/, checked with `twine check --strict`. They
# name the shared distributions plainly (no sibling folders on an index): install them with
# `pip install --find-links dist/ <plugin>` or from any index they are put on.
dist: install
	rm -rf dist
	$(BIN)/python scripts/dist.py --out dist

# A quick check on another Python (CI: 3.13 from pyenv): each plugin installs and answers --about,
# and the unit tests of the ledger and of the HTTP policies pass. PY_COMPAT names the interpreter.
PY_COMPAT ?= $(lastword $(sort $(wildcard $(HOME)/.pyenv/versions/3.13*/bin/python3)))
COMPAT := .venv-compat
PLUGINS := tap-personio tap-staffomatic target-staffomatic target-personio

compat:
	@test -n "$(PY_COMPAT)" || { echo "No Python 3.13 under ~/.pyenv/versions: set PY_COMPAT" >&2; exit 1; }
	$(PY_COMPAT) -m venv --clear $(COMPAT)
	$(COMPAT)/bin/python -m pip install --quiet --upgrade pip uv
	$(COMPAT)/bin/uv pip install --quiet --python $(COMPAT)/bin/python "pytest>=9.1" requests-mock httpx "psycopg[binary]>=3.2" $(foreach d,$(PRESENT),-e ./$(d))
	$(COMPAT)/bin/python --version
	for plugin in $(PLUGINS); do $(COMPAT)/bin/$$plugin --about --format json >/dev/null || exit 1; done
	$(COMPAT)/bin/pytest -q -W "ignore::pytest.PytestUnraisableExceptionWarning" tests/sync_ledger tests/vendor_http

demo: install
	PATH="$(CURDIR)/$(BIN):$$PATH" bash scripts/demo.sh

bench: install
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) $(COMPAT) .meltano .mypy_cache .ruff_cache dist
