# The README's commands. Each sets up what it needs on a fresh machine (Python 3.11, root).
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: site test lint chromium browser-tools clean

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

# The browser pass's checkers (tests/test_browser_pass.py): axe-core and the Nu HTML checker from
# the npm registry, pinned in tests/tools/package-lock.json, and Debian's Java to run the checker.
# --ignore-scripts: vnu-jar's install script would fetch a Java of its own.
TOOLS := tests/tools
browser-tools: $(TOOLS)/node_modules/.package-lock.json
	@command -v java >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq --no-install-recommends default-jre-headless; }

$(TOOLS)/node_modules/.package-lock.json: $(TOOLS)/package.json $(TOOLS)/package-lock.json
	@command -v npm >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq --no-install-recommends nodejs npm; }
	npm ci --prefix $(TOOLS) --ignore-scripts --no-audit --no-fund
	@touch $@

lint: $(BIN)/site-builder
	$(BIN)/ruff check .
	$(BIN)/ruff format --check site_builder tests
	$(BIN)/mypy

# Everything CI runs.
test: $(BIN)/site-builder chromium browser-tools lint
	$(BIN)/pytest

clean:
	rm -rf output $(VENV)
