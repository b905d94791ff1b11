# Two commands on a fresh machine: `make run` (set up, start the embedded warehouse, load demo
# data, build everything) and `make test`.
VENV      := .venv
BIN       := $(VENV)/bin
TAGS      := $(BIN)/tags
PYTHON    ?= python3
CUSTOMERS ?= 10000
SEED      ?= 42
SCALE     ?= M

.PHONY: setup run test test-all ui stop bench bench-demo bench-new-tag bench-audience clean

$(BIN)/activate:
	$(PYTHON) -m venv $(VENV)

# Dependencies are pinned in pyproject.toml and locked in requirements.lock.
$(VENV)/.installed: $(BIN)/activate pyproject.toml requirements.lock
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c requirements.lock -e '.[test,bench]'
	touch $@

# dbt parse writes target/manifest.json, which dagster-dbt reads at import time.
target/manifest.json: $(VENV)/.installed dbt_project.yml $(shell find models macros seeds -type f 2>/dev/null)
	$(BIN)/dbt parse --quiet --project-dir . --profiles-dir .

setup: $(VENV)/.installed target/manifest.json

run: setup
	$(TAGS) warehouse start
	$(TAGS) demo --customers $(CUSTOMERS) --seed $(SEED)
	$(TAGS) refresh

# The report test renders the quality report in Debian's Chromium (headless).
CHROMIUM := /usr/bin/chromium
$(CHROMIUM):
	apt-get install -y -q chromium || (apt-get update -q && apt-get install -y -q chromium)

# CI's suite: every test but the slow ones (pyproject.toml's markers); test-all runs them too.
test: setup $(CHROMIUM)
	$(BIN)/pytest -m "not slow" --durations=20

test-all: setup $(CHROMIUM)
	$(BIN)/pytest

# Dagster's UI on the instance every run is recorded in (.dagster/, or DAGSTER_HOME).
ui: setup
	$(TAGS) ui

stop:
	$(TAGS) warehouse stop

# The performance benchmark (S, M or L): writes BENCHMARKS.md and bench/benchmarks.html.
bench: setup
	$(BIN)/python -m bench --scale $(SCALE)

bench-demo: setup
	$(BIN)/python -m bench.demo_generation --customers 1000000

bench-new-tag: setup
	$(BIN)/python -m bench.new_tag --customers $(CUSTOMERS)

bench-audience: setup
	$(BIN)/python -m bench.audience_size --customers 1000000

clean:
	-$(TAGS) warehouse stop
	rm -rf $(VENV) target logs .warehouse .dagster
