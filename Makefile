# `make demo` serves the demo show on http://127.0.0.1:5000; `make test` runs the whole suite.
# Both set up the virtual environment first, so a fresh clone needs only Python 3.11+.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app podcast_service
STAMP := $(VENV)/.installed

.PHONY: setup demo test clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
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

clean:
	rm -rf $(VENV) instance .pytest_cache
