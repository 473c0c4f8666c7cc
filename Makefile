# The two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
DEMO_EMPLOYEE := alex@example.com

.PHONY: install run test lint bench clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Regie needs Python 3.11 or newer (set PYTHON=...)")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[test]'
	@touch $(STAMP)

install: $(STAMP)

## Run the bot on its embedded default: console channel, SQLite, the demo organisation.
run: install
	$(BIN)/regie init
	$(BIN)/regie demo
	$(BIN)/regie chat --as $(DEMO_EMPLOYEE)

## The whole test suite, with the linters and type checks.
test: install lint
	$(BIN)/pytest

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

bench: install
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[test,bench]'
	$(BIN)/python bench/turns.py
	$(BIN)/python bench/delivery.py
	$(BIN)/python bench/digest.py
	$(BIN)/python bench/campaign.py

clean:
	rm -rf $(VENV) regie.db regie.db-wal regie.db-shm .pytest_cache .mypy_cache .ruff_cache
