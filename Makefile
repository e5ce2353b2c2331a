# NaariKavach: `make run` starts the platform, `make test` runs every test (SQLite, then PostgreSQL).
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
BIN := $(VENV)/bin
# The PostgreSQL pass of `make test`; pytest-django creates and drops test_<name> on this server.
PG_TEST_URL ?= postgres://postgres@127.0.0.1:5432/naarikavach
CHROMIUM ?= /usr/bin/chromium

.PHONY: run test test-fast test-sqlite test-postgres lint install install-test lock browser demo clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

# Installs come from the lock files: every package pinned, with its hashes (`make lock` regenerates them
# after requirements*.txt change). torch is the CPU build that lies in the machine's wheel directory.
$(VENV)/.run-deps: requirements.lock | $(BIN)/python
	$(BIN)/pip install -q --require-hashes -r requirements.lock
	touch $@

$(VENV)/.test-deps: requirements-test.lock | $(BIN)/python
	$(BIN)/pip install -q --require-hashes -r requirements-test.lock
	touch $@

LOCK_TOOLS := .local/lock-tools
lock:
	[ -x $(LOCK_TOOLS)/bin/pip-compile ] || { $(PYTHON) -m venv $(LOCK_TOOLS) && $(LOCK_TOOLS)/bin/pip install -q "pip-tools>=7.5,<8"; }
	for name in requirements requirements-detection requirements-detection-runtime requirements-test; do \
	  CUSTOM_COMPILE_COMMAND="make lock  (pip-compile ...)" $(LOCK_TOOLS)/bin/pip-compile --quiet --generate-hashes --allow-unsafe --strip-extras --no-emit-index-url \
	    --no-emit-find-links --output-file $$name.lock $$name.txt || exit 1; \
	done

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error

install: $(VENV)/.run-deps node_modules/.package-lock.json
install-test: $(VENV)/.test-deps node_modules/.package-lock.json browser

# Debian's Chromium for the browser tests (Playwright cannot download its own browsers here).
browser:
	@if [ ! -x "$(CHROMIUM)" ]; then \
	  echo "Installing Debian's chromium for the browser tests"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq chromium fonts-lohit-deva >/dev/null; \
	fi

demo: install
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py load_demo

run: demo
	./run_platform.sh

test: install-test
	$(MAKE) --no-print-directory lint
	$(MAKE) --no-print-directory test-sqlite
	@if [ -n "$${CI:-}" ] || $(BIN)/python -c "import psycopg,sys; psycopg.connect('$(PG_TEST_URL)'.rsplit('/',1)[0] + '/postgres', connect_timeout=3)" 2>/dev/null; then \
	  $(MAKE) --no-print-directory test-postgres; \
	else \
	  echo "PostgreSQL is not reachable at $(PG_TEST_URL): skipped the PostgreSQL pass (CI always runs it)."; \
	fi

# The edit loop: unit and API tests on SQLite, no live servers, browsers or model runs marked slow (about a minute).
test-fast: install-test
	$(BIN)/pytest -q -m "not slow and not browser"

# ruff (ruff.toml): unused names, import order, likely bugs; a second.
lint: install-test
	$(BIN)/ruff check .

test-sqlite: install-test
	@echo "== Test suite on SQLite =="
	$(BIN)/pytest

# The second pass checks what differs between the databases (locks, JSON, time zones, SQL); the browser tests
# drive the pages and their JavaScript, which talk to the same API either way, so they run once, on SQLite.
# `make test-postgres PG_ALL=1` runs them on PostgreSQL too.
test-postgres: install-test
	@echo "== Test suite on PostgreSQL =="
	DATABASE_URL=$(PG_TEST_URL) $(BIN)/pytest $(if $(PG_ALL),,-m "not browser")

clean:
	rm -rf $(VENV) node_modules .local/test_db.sqlite3*
