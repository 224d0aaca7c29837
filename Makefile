# `make demo` serves the demo show on http://127.0.0.1:5000; `make test` runs the whole suite.
# Both set up the virtual environment first, so a fresh clone needs only Python 3.11+.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app podcast_service
STAMP := $(VENV)/.installed
QUICK := not servers and not browser and not workers

.PHONY: setup demo test check lint format docs clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test,dev]'
	touch $@

# The server and one job worker (audio processing, hub pings); Ctrl-C stops both.
demo: setup
	$(FLASK) db upgrade
	$(FLASK) import-episodes episodes/
	$(FLASK) worker & worker=$$!; trap 'kill $$worker 2>/dev/null' EXIT INT TERM; \
	$(FLASK) run --host 127.0.0.1 --port 5000

# The whole suite twice, both passes at once: on the embedded defaults, and on PostgreSQL
# (127.0.0.1:5432, database `test`) with a SeaweedFS server the tests start themselves.
test: setup
	tools/install-test-deps.sh
	tools/run-tests.sh

# The edit-test loop: lint, then every test that starts no server, browser or worker, on SQLite.
check: lint
	tools/install-test-deps.sh
	$(BIN)/python -m pytest --stack=sqlite-local -p no:cacheprovider -n 2 -q -m "$(QUICK)"

# Style, types and the layers (pyproject.toml); `make format` rewrites what ruff can.
lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/mypy

format: setup
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# The documentation site (docs/), built as CI builds it: any broken link or missing page fails.
docs: setup
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --quiet --site-dir $(VENV)/site

clean:
	rm -rf $(VENV) instance .pytest_cache
