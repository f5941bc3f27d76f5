# homecare: quick start is `make demo` then `make test`.
PY      ?= python3
VENV    := .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.installed

.PHONY: venv demo test lint typecheck unit bench contracts clean up

venv: $(STAMP)

# Reinstall only when the project's dependencies change.
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: venv
	$(BIN)/homecare demo

up: venv
	$(BIN)/homecare up

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: venv
	$(BIN)/mypy

test: venv lint typecheck
	$(BIN)/python -m pytest -q

unit: venv
	$(BIN)/python -m pytest -q tests/unit tests/routing

bench: venv
	$(BIN)/python bench/bus.py
	$(BIN)/python bench/matching.py

contracts: venv
	$(BIN)/homecare contracts export

clean:
	rm -rf var .pytest_cache .mypy_cache .ruff_cache
