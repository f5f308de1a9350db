# The two commands: `make run` (the whole stack on embedded defaults) and
# `make test` (install everything, lint, import contracts, type-check, run every test).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
# Tests use the real Redis and both databases; a Redis db of their own keeps
# them away from a running `make run`.
TEST_REDIS_URL    ?= redis://127.0.0.1:6379/14
TEST_POSTGRES_URL ?= postgres://postgres@127.0.0.1:5432/test
TEST_ENV := REDIS_URL=$(TEST_REDIS_URL) CACHE_KEY_PREFIX=ibkr-test DJANGO_SECRET_KEY=test-only-secret-key-that-is-long-enough-0123456789

.PHONY: install install-dev run test lint typecheck pytest pytest-sqlite pytest-postgres clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(VENV)/.runtime: requirements.txt | $(BIN)/python
	$(BIN)/pip install -q -r requirements.txt
	touch $@

$(VENV)/.dev: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/pip install -q -r requirements-dev.txt
	touch $@ $(VENV)/.runtime

# The guide's JavaScript example runs in the tests: axios, pinned by the lock file.
tests/js/node_modules/.package-lock.json: tests/js/package.json tests/js/package-lock.json
	npm ci --prefix tests/js --no-audit --no-fund --loglevel error

# tests/docs renders /docs and /redoc in Debian's Chromium (Playwright drives it
# through executable_path; Playwright's own browser download is not used).
CHROMIUM := /usr/bin/chromium
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
$(CHROMIUM):
	$(SUDO) apt-get update -q
	DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -q --no-install-recommends chromium

install: $(VENV)/.runtime
install-dev: $(VENV)/.dev

run: $(VENV)/.runtime
	$(BIN)/python -m scripts.run

lint: $(VENV)/.dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

typecheck: $(VENV)/.dev
	$(BIN)/mypy

pytest-sqlite: $(VENV)/.dev tests/js/node_modules/.package-lock.json $(CHROMIUM)
	mkdir -p var
	$(TEST_ENV) DATABASE_URL=sqlite:///var/db.sqlite3 SQLITE_TEST_PATH=var/test.sqlite3 $(BIN)/python -m pytest $(PYTEST_ARGS)

pytest-postgres: $(VENV)/.dev tests/js/node_modules/.package-lock.json $(CHROMIUM)
	# The simulator suite has no database; it runs once, in the SQLite pass.
	$(TEST_ENV) DATABASE_URL=$(TEST_POSTGRES_URL) $(BIN)/python -m pytest --ignore=tests/ibsim $(PYTEST_ARGS)

pytest: pytest-sqlite pytest-postgres

test: lint typecheck pytest

# `make bench`: the stack on the simulator, measured against its floors, on
# SQLite and then on PostgreSQL (a database of its own on the server at
# BENCH_POSTGRES_URL, default the local one; docs/benchmarks.md; about 6
# minutes). `make bench-smoke`: the same run in a minute with tiny counts,
# results in var/bench/smoke.json.
.PHONY: bench bench-smoke
bench: $(VENV)/.dev
	REDIS_URL=redis://127.0.0.1:6379/15 $(BIN)/python -m bench

bench-smoke: $(VENV)/.dev
	REDIS_URL=redis://127.0.0.1:6379/15 $(BIN)/python -m bench --smoke

clean:
	rm -rf $(VENV) var .mypy_cache .ruff_cache .pytest_cache
