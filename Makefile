# The two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
DEMO_EMPLOYEE := alex@example.com

PIP    := python -m pip install --quiet --disable-pip-version-check

.PHONY: install run test lint bench lock clean

# Installs the versions pinned in constraints.txt (the ones the suite last passed with).
$(STAMP): pyproject.toml constraints.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Regie needs Python 3.11 or newer (set PYTHON=...)")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/$(PIP) -c constraints.txt -e '.[test]'
	@touch $(STAMP)

install: $(STAMP)

## Run the bot on its embedded default: console channel, SQLite, the demo organisation.
run: install
	$(BIN)/regie init
	$(BIN)/regie demo
	$(BIN)/regie chat --as $(DEMO_EMPLOYEE)

## The whole test suite, with the linters and type checks.
test: install lint
	$(BIN)/pytest -n auto

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

## Every benchmark (docs/performance.md): one JSON object per benchmark, then a table.
## PostgreSQL runs start a server of their own (or say why they skipped). BENCH="--quick" for
## a smoke run with small numbers, BENCH="--only turns,scale" for some of them.
bench: install
	$(BIN)/$(PIP) -c constraints.txt -e '.[test,bench]'
	$(BIN)/python bench/all.py $(BENCH)

## Pin anew: the newest versions pyproject.toml allows, resolved in a throwaway venv.
lock:
	rm -rf .lock-venv
	$(PYTHON) -m venv .lock-venv
	.lock-venv/bin/$(PIP) '.[test,bench]'
	{ sed -n '1,2p' constraints.txt; .lock-venv/bin/python -m pip freeze --exclude-editable \
	  | grep -v -i '^regie'; } > constraints.txt.new
	mv constraints.txt.new constraints.txt
	rm -rf .lock-venv

clean:
	rm -rf $(VENV) regie.db regie.db-wal regie.db-shm .pytest_cache .mypy_cache .ruff_cache
