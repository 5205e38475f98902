# Two commands on a fresh machine: `make run` and `make test` (see README.md).

SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
MANAGE := $(PY) manage.py
PYTEST_ARGS ?=
AUDIT_BENCH_ARGS ?=
FEED_BENCH_ARGS ?=
SEARCH_EVAL_ARGS ?=
EXCHANGES_BENCH_ARGS ?=

# The machine's Python, 3.11 or newer.
PYTHON ?= $(shell for p in python3.13 python3.12 python3.11 python3; do \
	if command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; \
	then command -v $$p; break; fi; done)

.PHONY: run test lint typecheck unit e2e deps dev-deps frontend migrate seed up down bench bench-records bench-search bench-search-eval bench-exchanges clean

$(VENV)/.created:
	@test -n "$(PYTHON)" || { echo "Python 3.11 or newer is required (python3.11, python3.12, python3.13 or python3)."; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade "pip>=25.1"
	@touch $@

$(VENV)/.deps: $(VENV)/.created pyproject.toml requirements/constraints.txt
	$(PIP) install --quiet -c requirements/constraints.txt --group runtime
	@touch $@

$(VENV)/.dev-deps: $(VENV)/.deps
	$(PIP) install --quiet -c requirements/constraints.txt --group dev
	@touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

deps: $(VENV)/.deps node_modules/.installed
dev-deps: $(VENV)/.dev-deps node_modules/.installed
frontend: node_modules/.installed

migrate: deps
	$(MANAGE) migrate --noinput

seed: migrate
	$(MANAGE) seed_demo

run: seed
	$(MANAGE) runserver 127.0.0.1:8000

lint: dev-deps
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: dev-deps
	$(VENV)/bin/mypy .

unit: dev-deps
	$(VENV)/bin/pytest $(PYTEST_ARGS)

# The suite always runs on the embedded SQLite database, and again on PostgreSQL and
# Redis when DATABASE_URL / REDIS_URL are set.
test: dev-deps
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy .
	env -u DATABASE_URL -u REDIS_URL $(VENV)/bin/pytest $(PYTEST_ARGS)
	@if [ -n "$$DATABASE_URL$$REDIS_URL" ]; then \
		echo "Again with DATABASE_URL=$${DATABASE_URL:-(unset)} REDIS_URL=$${REDIS_URL:-(unset)}"; \
		$(VENV)/bin/pytest $(PYTEST_ARGS); \
	fi

up:
	docker compose up --build -d

down:
	docker compose down

# Benchmarks print their figures (bench/README.md); DATABASE_URL picks the database server.
bench: $(VENV)/.deps
	$(PY) bench/audit_chain.py $(AUDIT_BENCH_ARGS)
	$(PY) bench/feed_intake.py $(FEED_BENCH_ARGS)

# Person record page and API with a large population (PostgreSQL: DATABASE_URL names an
# administrative database; the population database is built once and kept).
bench-records: $(VENV)/.dev-deps
	$(PY) bench/person_record.py $(RECORDS_BENCH_ARGS)

# Person and plate search through the API on the million-person population of
# bench-records, with about one synthetic vehicle per person (PostgreSQL: DATABASE_URL names
# an administrative database; the population and its vehicles are built once and kept).
bench-search: $(VENV)/.deps
	$(PY) bench/search_speed.py $(SEARCH_BENCH_ARGS)

# Recall of person search on a labelled synthetic query set, beside three naive baselines
# (its own database; the trigram baseline needs PostgreSQL).
bench-search-eval: $(VENV)/.deps
	$(PY) bench/search_eval.py $(SEARCH_EVAL_ARGS)

# Early arrest notices through the API at a fixed rate, with gunicorn, a Celery worker
# and beat, and a Redis of its own (PostgreSQL: DATABASE_URL names an administrative
# database, default postgres://postgres@127.0.0.1:5432/postgres; needs redis-server).
bench-exchanges: $(VENV)/.dev-deps
	$(PY) bench/exchanges.py $(EXCHANGES_BENCH_ARGS)

clean:
	rm -rf $(VENV) node_modules staticfiles .mypy_cache .pytest_cache .ruff_cache
