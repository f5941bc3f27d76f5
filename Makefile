# homecare: quick start is `make demo` then `make test`.
PY      ?= python3
VENV    := .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.installed

.PHONY: venv demo test lint typecheck unit bench contracts clean up lock

venv: $(STAMP)

# Reinstall only when the project's dependencies change. constraints.txt pins every
# transitive dependency too (regenerate with `make lock` after changing pyproject.toml).
$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet pip==26.3
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]'
	touch $(STAMP)

lock: venv
	$(BIN)/python -m pip freeze --exclude-editable | grep -v '^homecare' > constraints.txt

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
	$(BIN)/python bench/scheduling.py
	$(BIN)/python bench/billing.py

contracts: venv
	$(BIN)/homecare contracts export

clean:
	rm -rf var .pytest_cache .mypy_cache .ruff_cache
