# The two commands a newcomer needs: `make run` and `make test`. Each does its own set-up.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000
PGPORT ?= 55432

.PHONY: run test lint setup bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

setup: $(STAMP)

run: $(STAMP)
	$(BIN)/mpp migrate
	$(BIN)/mpp bootstrap
	$(BIN)/mpp serve --host $(HOST) --port $(PORT)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/lint-imports

# The suite runs on SQLite and, in the same run, on a throwaway PostgreSQL cluster
# (installed from Debian's packages when missing; skipped with a warning when that is impossible).
test: $(STAMP) lint
	$(BIN)/mpp lint processes/*/
	@pgdir=$$(mktemp -d /tmp/mpp-pgtest.XXXXXX); chmod 755 $$pgdir; \
	url=$$(tests/pg_cluster.sh start $$pgdir/cluster $(PGPORT)) || { echo "warning: no PostgreSQL; SQLite only" >&2; url=""; }; \
	MPP_TEST_POSTGRES_URL=$$url $(BIN)/pytest; status=$$?; \
	tests/pg_cluster.sh stop $$pgdir/cluster; rm -rf $$pgdir; exit $$status

bench: $(STAMP)
	$(BIN)/python bench/engine_bench.py

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
