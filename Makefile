# The two commands a fresh machine needs: `make serve` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: serve test lint bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

serve: $(STAMP)  ## run a node on the embedded SQLite store (data/ascn.db)
	$(BIN)/ascn serve $(ARGS)

test: $(STAMP)  ## the whole test suite
	$(BIN)/python -m pytest -q $(ARGS)

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/mypy

bench: $(STAMP)  ## every benchmark (see benchmarks/README.md)
	$(BIN)/python -m benchmarks.batch_upsert

clean:
	rm -rf $(VENV) data .pytest_cache .mypy_cache .ruff_cache
