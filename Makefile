# clair-bot: every target does its own set-up, so a fresh clone needs only `make run` or `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install run test lint bench chaos clean

install: $(STAMP)

# Reinstall whenever the project's dependencies change.
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

run: install
	$(BIN)/clair-bot run

# The storage tests run on SQLite and on a throwaway PostgreSQL server (tests/postgres.py);
# tests/setup-postgres installs PostgreSQL when missing and it can, or says in one line why not.
test: install
	@bash tests/setup-postgres
	$(BIN)/python -m pytest -q -n auto --dist loadfile

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

bench: install
	$(BIN)/python -m benchmarks

# The fault run of issue 10 (an hour or more: the staff group takes 20 messages a minute),
# then the property tests with 10,000 examples each. Mounts a small tmpfs where it may.
chaos: install
	$(BIN)/python -m benchmarks.chaos
	HYPOTHESIS_PROFILE=chaos $(BIN)/python -m pytest -q -n auto --dist load tests/test_properties.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
