# The README's commands. `make run` and `make test` work on a fresh machine with
# python3.11, node 20 and npm: they install what they need first.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
BUN_VERSION := 1.4.5

.PHONY: run test bench seed worker beat migrate lint install tools browser clean

$(VENV)/.installed: pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "need $(PYTHON)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e ".[test]"
	touch $@

install: $(VENV)/.installed tools

# Reflex's own bun download cannot work offline: bun comes from the npm registry.
tools:
	@if ! .tools/node_modules/.bin/bun --version >/dev/null 2>&1; then \
		npm install --silent --prefix .tools bun@$(BUN_VERSION); fi

# Browser tests use Debian's Chromium (never `playwright install`, which downloads a build).
browser:
	@command -v chromium >/dev/null || { apt-get update -qq && apt-get install -y -qq chromium >/dev/null; }

run: install
	scripts/run.sh

test: install browser
	scripts/test.sh

bench: install
	scripts/bench.sh

migrate: $(VENV)/.installed
	$(PY) -m marketing_app.cli migrate

seed: migrate
	$(PY) -m marketing_app.cli seed --scale $${SCALE:-1.0}

worker: $(VENV)/.installed
	. scripts/env.sh && $(VENV)/bin/celery -A jobs.celery_app worker --loglevel=INFO

beat: $(VENV)/.installed
	. scripts/env.sh && $(VENV)/bin/celery -A jobs.celery_app beat --loglevel=INFO

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check . && $(VENV)/bin/ruff format --check . && $(VENV)/bin/lint-imports

clean:
	rm -rf .web .states data/*.db data/celerybeat-schedule*
