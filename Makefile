# Mizan: `make run` serves the dashboard with demo data; `make test` runs the whole suite.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
RUN_STAMP := $(VENV)/.run-installed
TEST_STAMP := $(VENV)/.test-installed
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: run test lint system-packages clean benchmarks

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip

$(RUN_STAMP): pyproject.toml | $(VENV)/bin/python
	$(PY) -m pip install -q -e .
	touch $@

$(TEST_STAMP): pyproject.toml | $(VENV)/bin/python
	$(PY) -m pip install -q -e ".[test]"
	touch $@ $(RUN_STAMP)

run: $(RUN_STAMP)
	$(PY) -m etl demo
	$(PY) app.py

# Browser tests need Debian's chromium and chromium-driver, warehouse tests a PostgreSQL
# server (started by the tests themselves, on a Unix socket); install them when missing.
system-packages:
	@missing=""; \
	command -v chromium >/dev/null || missing="$$missing chromium"; \
	command -v chromedriver >/dev/null || missing="$$missing chromium-driver"; \
	ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 || missing="$$missing postgresql"; \
	if [ -n "$$missing" ]; then \
		echo "installing Debian packages:$$missing"; \
		$(SUDO) apt-get update -qq && $(SUDO) env DEBIAN_FRONTEND=noninteractive \
			apt-get install -y -qq $$missing >/dev/null; \
	fi

lint: $(TEST_STAMP)
	$(PY) -m ruff check .

test: $(TEST_STAMP) system-packages lint
	$(PY) -m pytest -q

# The national-scale figures of BENCHMARKS.md (about 15 minutes on 2 cores; not part of test).
BENCH := var/bench
benchmarks: $(TEST_STAMP) system-packages
	$(PY) -m benchmarks.etl_scaling --workdir $(BENCH) --json $(BENCH)/etl.json
	# DHIS2 reports and the facility environment data of the 1,885 synthetic facilities
	# (national scale whatever the registry size) beside the 5.5 M registry
	$(PY) -m etl generate $(BENCH)/facilities --children 60000 --dhis2
	$(PY) -m etl load --dhis2 $(BENCH)/facilities/dhis2 --db sqlite:///$(BENCH)/warehouse-5500000.db
	$(PY) -m benchmarks.callback_load --serve --db sqlite:///$(BENCH)/warehouse-5500000.db
	$(PY) -m benchmarks.first_paint --db sqlite:///$(BENCH)/warehouse-5500000.db

clean:
	rm -rf var .pytest_cache .ruff_cache
