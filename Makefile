# Sotong. The two commands: `make demo` and `make test` (see README).

SHELL := /bin/bash
# The first Python ≥ 3.12 found (pyenv shims that are not active fail the probe).
PYTHON ?= $(shell for p in python3.14 python3.13 python3.12 python3; do \
  command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info < (3, 12))' >/dev/null 2>&1 \
  && { echo $$p; break; }; done)
VENV := .venv
BIN := $(VENV)/bin
PIP_FLAGS := --quiet --disable-pip-version-check

.PHONY: demo test lint typecheck unit unit-postgres e2e bench messages messages-extract clean

$(VENV)/.runtime: pyproject.toml
	@test -n "$(PYTHON)" || { echo "make: Python 3.12 or newer is required (python3.12 not found)"; exit 1; }
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install $(PIP_FLAGS) -e .
	@touch $@

$(VENV)/.dev: $(VENV)/.runtime
	$(BIN)/pip install $(PIP_FLAGS) -e '.[dev]'
	@touch $@

demo: $(VENV)/.runtime
	$(BIN)/sotong demo

test: $(VENV)/.dev
	scripts/system-deps.sh chromium postgresql gettext
	$(MAKE) lint typecheck
	$(BIN)/sotong makemigrations --check --dry-run
	$(MAKE) unit unit-postgres e2e

lint: $(VENV)/.dev
	$(BIN)/ruff check sotong e2e bench eval

typecheck: $(VENV)/.dev
	$(BIN)/mypy

# The unit and integration tests, on SQLite.
unit: $(VENV)/.dev
	$(BIN)/pytest -m "not e2e" -p no:cacheprovider

# The same tests on PostgreSQL (a throwaway cluster on loopback).
unit-postgres: $(VENV)/.dev
	scripts/test-postgres.sh $(BIN)/pytest -m "not e2e" -p no:cacheprovider

# Browser tests: Playwright driving Debian's chromium against a real gunicorn server.
e2e: $(VENV)/.dev
	$(BIN)/pytest -m e2e -p no:cacheprovider

bench: $(VENV)/.dev
	scripts/system-deps.sh wrk
	$(BIN)/python -m bench

# Translations: extract new strings into the Korean catalogue (needs GNU gettext),
# translate them in sotong/locale/ko/LC_MESSAGES/django.po, then compile.
messages-extract: $(VENV)/.dev
	cd sotong && ../$(BIN)/sotong makemessages -l ko --no-obsolete --ignore "tests/*" --ignore "*/tests/*" --ignore conftest.py

messages: $(VENV)/.dev
	$(BIN)/python -m sotong.i18n_compile

clean:
	rm -rf $(VENV) var .mypy_cache .ruff_cache .pytest_cache
