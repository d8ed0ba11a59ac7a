# The only set-up a newcomer needs:  make demo   and   make test
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/python -m pip
# torch is never a core dependency; the constraints file pins the local CPU wheel for extras.
PIPFLAGS := -q --disable-pip-version-check -c constraints.txt

.PHONY: demo test lint typecheck unit fuzz system-deps clean

$(VENV)/.base: pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(PIP) install $(PIPFLAGS) --upgrade pip
	$(PIP) install $(PIPFLAGS) -e .
	touch $@

$(VENV)/.test: $(VENV)/.base
	$(PIP) install $(PIPFLAGS) -e '.[test]'
	touch $@

system-deps:
	@bash scripts/install-system-deps.sh

demo: $(VENV)/.base system-deps
	$(BIN)/pictune compose src/pictune/data/example.jpg --out pictune-out/example

lint: $(VENV)/.test
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

typecheck: $(VENV)/.test
	$(BIN)/mypy

unit: $(VENV)/.test system-deps
	$(BIN)/pytest -n 2 -q

test: lint typecheck unit

# Many more property-test examples than CI runs (HYPOTHESIS_PROFILE=ci, 20 each): minutes.
fuzz: $(VENV)/.test system-deps
	HYPOTHESIS_PROFILE=fuzz $(BIN)/pytest -n 2 -q tests/test_properties.py

clean:
	rm -rf $(VENV) pictune-out .mypy_cache .ruff_cache .pytest_cache .hypothesis
