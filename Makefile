# The README's commands: `make lab` (install + open JupyterLab), `make test` (install + every test),
# `make test-fast` (the Python tests that start no servers of their own, in about a minute).
PYTHON ?= python3
VENV := .venv
BIN := $(abspath $(VENV))/bin
export PATH := $(BIN):$(PATH)
STAMP := $(VENV)/.fusionpipe-installed
UI_STAMP := ui-tests/node_modules/.fusionpipe-installed
FRONTEND := $(shell find src style -type f 2>/dev/null) package.json tsconfig.json webpack.config.js yarn.lock

.PHONY: install lab dist test test-python test-fast test-ui lint format docs bench system-deps clean

install: $(STAMP) labextension/package.json

# The virtual environment with fusionpipe installed in development mode: the server extension
# is enabled and the lab extension is linked, so `jlpm build` is all a frontend change needs.
$(STAMP): pyproject.toml package.json yarn.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	# A previous install put install.json into labextension/ through the `develop` link; left
	# there, the wheel would hold it twice and pip refuses to build it.
	rm -f labextension/install.json
	$(BIN)/python -m pip install --quiet --editable ".[test,dev,docs]"
	$(BIN)/jupyter labextension develop --overwrite .
	$(BIN)/jupyter server extension enable --sys-prefix fusionpipe_server
	touch $@

labextension/package.json: $(STAMP) $(FRONTEND)
	$(BIN)/jlpm build
	touch $@

# Containers and CI runners are root, which JupyterLab refuses unless told: say so only then.
ALLOW_ROOT := $(if $(filter 0,$(shell id -u)),--allow-root)

lab: install
	$(BIN)/jupyter lab $(ALLOW_ROOT)

# The sdist and the wheel for `pip install`, with the lab extension built for production inside
# (the wheel needs no Node). uv installs the isolated build environments: minutes faster than pip.
dist: install
	$(BIN)/jlpm build:prod
	rm -rf dist
	$(BIN)/python -m build --installer uv --outdir dist .

system-deps:
	scripts/install-system-deps.sh

$(UI_STAMP): ui-tests/package.json ui-tests/yarn.lock
	cd ui-tests && $(BIN)/jlpm install
	touch $@

# The Python suite and the browser specs side by side: they share nothing (own databases, own
# ports), and on two cores together they take about 9.5 minutes where one after the other took 13.
test: install system-deps $(UI_STAMP)
	$(MAKE) -j2 --output-sync=target test-python test-ui

# pytest-xdist workers: 2 on the 2-core machines measured (3 and 4 were slower: the tests are
# CPU-bound once the databases are made ahead; see docs/developer/commands.md). `--dist
# loadgroup` keeps each xdist_group of tests/conftest.py (Ray, the hub, the wheel) on one worker.
PYTEST_WORKERS ?= 2
PYTEST_PARALLEL := -n $(PYTEST_WORKERS) --dist loadgroup

# The slowest tests close the report: where the next minute of `make test` is to be found.
test-python: install
	$(BIN)/python -m pytest $(PYTEST_PARALLEL) --durations=15

# The fast tier: everything but the system tests (own servers, Ray, hub, wheel; conftest.py).
test-fast: install
	$(BIN)/python -m pytest -m "not system" $(PYTEST_PARALLEL)

test-ui: install $(UI_STAMP)
	cd ui-tests && $(BIN)/jlpm test

lint: install $(UI_STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/jlpm lint:check
	cd ui-tests && $(BIN)/jlpm typecheck

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .
	$(BIN)/jlpm lint

# The documentation site, warnings as errors (-W, -n: every cross-reference must resolve), then
# the link check: links between pages and headings are checked by the build itself; external
# links are skipped (no network here nor in CI: linkcheck_ignore in docs/conf.py).
DOCS_BUILD := docs/_build
SPHINX := $(BIN)/sphinx-build -E -W --keep-going -n -q
docs: install
	$(SPHINX) -b html docs $(DOCS_BUILD)/html
	$(SPHINX) -b linkcheck docs $(DOCS_BUILD)/linkcheck

bench: install $(UI_STAMP)
	$(BIN)/python -m benchmarks

clean:
	rm -rf $(VENV) node_modules ui-tests/node_modules labextension lib tsconfig.tsbuildinfo dist docs/_build
