# The two commands a fresh machine needs: `make serve` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: serve test services lint bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

serve: $(STAMP)  ## run a node on the embedded SQLite store (data/ascn.db)
	$(BIN)/ascn serve $(ARGS)

test: $(STAMP) services  ## the whole test suite, on SQLite and on PostgreSQL
	$(BIN)/python -m pytest -q $(ARGS)

services:  ## install and start the servers the tests use (PostgreSQL + PostGIS)
	scripts/services.sh

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/mypy

bench: $(STAMP) services  ## every benchmark, on SQLite and PostgreSQL
	$(BIN)/python -m benchmarks.batch_upsert
	$(BIN)/python -m benchmarks.query
	$(BIN)/python -m benchmarks.temporal
	$(BIN)/python -m benchmarks.notifications

clean:
	rm -rf $(VENV) data .pytest_cache .mypy_cache .ruff_cache
