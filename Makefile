# clair-bot: every target does its own set-up, so a fresh clone needs only `make run` or `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install browser run test lint bench chaos replicas screenshots clean

install: $(STAMP) browser

# The staff console's browser tests drive Debian's Chromium (/usr/bin/chromium): installed
# here when it is missing and we may (root, apt-get); otherwise those tests are skipped.
browser:
	@if [ ! -x /usr/bin/chromium ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "installing Debian's chromium for the console's browser tests"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else \
	    echo "no /usr/bin/chromium and no root to install it: the browser tests will be skipped"; \
	  fi; \
	fi

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
# The same for nginx and HAProxy, which check deploy/ (tests/setup-balancers).
test: install
	@bash tests/setup-postgres
	@bash tests/setup-balancers
	$(BIN)/python -m pytest -q -n auto --dist loadfile

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# The replica section runs three webhook replicas on a throwaway PostgreSQL server.
bench: install
	@bash tests/setup-postgres
	$(BIN)/python -m benchmarks

# The fault run of issue 10 (an hour or more: the staff group takes 20 messages a minute),
# then the property tests with 10,000 examples each. Mounts a small tmpfs where it may.
chaos: install
	$(BIN)/python -m benchmarks.chaos
	HYPOTHESIS_PROFILE=chaos $(BIN)/python -m pytest -q -n auto --dist load tests/test_properties.py

# Issue 15's replica run at full size (benchmarks/replicas.py): 300 escalations through three
# webhook replicas on PostgreSQL, one SIGKILLed mid-burst and started again (45 minutes or
# more: the staff group takes 20 messages a minute); ends with one JSON line.
replicas: install
	@bash tests/setup-postgres
	$(BIN)/python -m benchmarks.replicas

# The README's pictures of the staff console, taken by Debian's headless Chromium.
screenshots: install
	PYTHONPATH=tests $(BIN)/python docs/screenshots.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
