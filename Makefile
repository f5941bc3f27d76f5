# homecare: quick start is `make demo` then `make test`.
PY      ?= python3
VENV    := .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.installed

.PHONY: venv demo test lint typecheck unit bench bench-city contracts clean up lock browser console chaos

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

# The services and the web console on the demo's data (run `make demo` first; Ctrl-C stops).
console: venv
	@test -f var/demo/console.db || { echo "run \`make demo\` first: it loads the demo street"; exit 1; }
	HOMECARE_VAR_DIR=var/demo $(BIN)/homecare up

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: venv
	$(BIN)/mypy

test: venv lint typecheck browser
	$(BIN)/python -m pytest -q

# Browser tests (tests/e2e, see docs/browser-tests.md): Playwright drives Debian's Chromium, and
# the zh-CN console needs a CJK font to render. Installs only what is missing; `apt-get update`
# runs only when apt knows no candidate for a package or the install fails on stale lists.
CHROMIUM     := /usr/bin/chromium
CJK_FONT     := /usr/share/fonts/truetype/wqy/wqy-zenhei.ttc
BROWSER_PKGS := chromium fonts-wqy-zenhei

browser:
	@set -e; \
	if [ -x $(CHROMIUM) ] && [ -f $(CJK_FONT) ]; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ]; then SUDO=; \
	elif command -v sudo >/dev/null 2>&1; then SUDO=sudo; \
	else \
		echo "make browser: $(CHROMIUM) or $(CJK_FONT) is missing and installing needs root." >&2; \
		echo "  As root run: apt-get update && apt-get install -y --no-install-recommends $(BROWSER_PKGS)" >&2; \
		exit 1; \
	fi; \
	aptget() { $$SUDO env DEBIAN_FRONTEND=noninteractive DEBCONF_NOWARNINGS=yes apt-get -qq -o Dpkg::Use-Pty=0 "$$@"; }; \
	echo "make browser: installing $(BROWSER_PKGS) (Debian packages)"; \
	for p in $(BROWSER_PKGS); do \
		apt-cache show $$p >/dev/null 2>&1 || { aptget update; break; }; \
	done; \
	aptget install -y --no-install-recommends $(BROWSER_PKGS) >/dev/null \
		|| { aptget update && aptget install -y --no-install-recommends $(BROWSER_PKGS) >/dev/null; }; \
	[ -x $(CHROMIUM) ] && [ -f $(CJK_FONT) ] \
		|| { echo "make browser: $(CHROMIUM) or $(CJK_FONT) still missing after the install" >&2; exit 1; }; \
	$(CHROMIUM) --version 2>/dev/null

# The long fault run: a month on accelerated time, 20 service kills and 2 nats-server restarts
# (the short form runs in `make test`); prints events sent, faults, lost and duplicated.
chaos: venv
	CHAOS_DAYS=30 CHAOS_KILLS=20 CHAOS_NATS_RESTARTS=2 CHAOS_DAY_SECONDS=6 CHAOS_DATABASES="sqlite postgres" \
		$(BIN)/python -m pytest -q -s -p no:cacheprovider tests/integration/test_chaos.py

unit: venv
	$(BIN)/python -m pytest -q tests/unit tests/routing

bench: venv
	$(BIN)/python bench/bus.py
	$(BIN)/python bench/matching.py
	$(BIN)/python bench/scheduling.py
	$(BIN)/python bench/billing.py

bench-city: venv
	$(BIN)/python bench/city.py

contracts: venv
	$(BIN)/homecare contracts export

clean:
	rm -rf var .pytest_cache .mypy_cache .ruff_cache
