# The two commands a newcomer needs: `make run` and `make test`. Each does its own set-up.
# `make test-fast` is the loop while working: no PostgreSQL, no browser, no slow tests.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000
PGPORT ?= 55432

NODE_STAMP := node_modules/.package-lock.json

.PHONY: run test test-fast lint setup bench clean browser lock

# Python packages at the exact versions of constraints.txt (what CI ran), so an upstream release
# never changes a fresh machine's set-up behind our back.
$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c constraints.txt -e '.[dev]'
	touch $(STAMP)

# Re-resolve pyproject.toml's ranges to today's newest releases in a scratch venv and pin them.
lock:
	rm -rf .lock-venv
	$(PYTHON) -m venv .lock-venv
	.lock-venv/bin/pip install --quiet --upgrade pip
	.lock-venv/bin/pip install --quiet -e '.[dev]'
	{ sed -n '1,2p' constraints.txt; .lock-venv/bin/pip freeze --exclude-editable; } > constraints.new
	mv constraints.new constraints.txt
	rm -rf .lock-venv

# Front-end packages from the npm registry, exactly as locked (served from their dist/ folders).
$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $(NODE_STAMP)

# Debian's Chromium for the browser tests (installed with apt when missing).
browser:
	tests/install_chromium.sh

setup: $(STAMP) $(NODE_STAMP)

# MPP_BANK_SIMULATOR=1 make run: the SNAP bank simulator beside the platform (README "Membayar tagihan").
run: $(STAMP) $(NODE_STAMP)
	$(BIN)/mpp migrate
	$(BIN)/mpp bootstrap
ifeq ($(MPP_BANK_SIMULATOR),1)
	$(BIN)/python -m tests.simulators.snap_bank --with-platform --host $(HOST) --platform-port $(PORT)
else
	$(BIN)/mpp serve --host $(HOST) --port $(PORT)
endif

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/lint-imports

# The suite runs on SQLite and, in the same run, on a throwaway PostgreSQL cluster
# (installed from Debian's packages when missing; skipped with a warning when that is impossible),
# on every core (pytest-xdist; TEST_WORKERS=0 runs it in one process). The cluster, the tests' tmp_path
# and TMPDIR live in one scratch folder, on tmpfs when there is room (tests/scratch_dir.sh says why),
# removed at the end. The log ends with the 15 slowest tests, so a run creeping towards CI's time
# limit shows where.
TEST_WORKERS ?= auto
test: $(STAMP) $(NODE_STAMP) browser lint
	$(BIN)/mpp lint processes/*/
	@scratch=$$(mktemp -d $$(tests/scratch_dir.sh)/mpp-test.XXXXXX); chmod 755 $$scratch; mkdir $$scratch/tmp; \
	url=$$(tests/pg_cluster.sh start $$scratch/cluster $(PGPORT)) || { echo "warning: no PostgreSQL; SQLite only" >&2; url=""; }; \
	TMPDIR=$$scratch/tmp MPP_TEST_POSTGRES_URL=$$url $(BIN)/pytest -n $(TEST_WORKERS) --dist loadfile \
	  --basetemp=$$scratch/pytest --durations=15; status=$$?; \
	tests/pg_cluster.sh stop $$scratch/cluster; rm -rf $$scratch; exit $$status

# The loop while working (under 3 minutes on 2 cores): ruff, then the unit and SQLite tests without
# the slow ones. Markers (tests/conftest.py): unit, db, pg, browser, slow. `make test` is what CI runs.
test-fast: $(STAMP) $(NODE_STAMP)
	$(BIN)/ruff check .
	MPP_TEST_POSTGRES_URL= $(BIN)/pytest -n $(TEST_WORKERS) --dist loadfile -m "not browser and not pg and not slow"

# Writes bench/REPORT.md (committed) and bench/results/*.json; starts and removes its own PostgreSQL
# cluster on BENCH_PGPORT. Larger sizes: make bench BENCH_ARGS="--cases 5000000 --open-tasks 500000".
BENCH_PGPORT ?= 55452
bench: $(STAMP)
	MPP_BENCH_VIA_MAKE=1 $(BIN)/python -m bench --pg-port $(BENCH_PGPORT) $(BENCH_ARGS)

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
