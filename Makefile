# The README's commands. Each sets up what it needs on a fresh machine (Python 3.11, root).
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: site test lint chromium clean

$(BIN)/site-builder: pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

# Build the example archive in content/ into output/.
site: $(BIN)/site-builder
	$(BIN)/site-builder build

# Debian's Chromium for the browser tests (Playwright drives it; never `playwright install`).
chromium:
	@command -v chromium >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq --no-install-recommends chromium; }

lint: $(BIN)/site-builder
	$(BIN)/ruff check .
	$(BIN)/ruff format --check site_builder tests
	$(BIN)/mypy

# Everything CI runs.
test: $(BIN)/site-builder chromium lint
	$(BIN)/pytest

clean:
	rm -rf output $(VENV)
