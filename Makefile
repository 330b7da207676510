# Two commands on a fresh machine with only python3 and make:
#   make demo   lives through the sample programme; leaves its database and reports in demo/
#   make test   runs the whole test suite
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: demo test test-sqlite lint catalogs clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(VENV)/.installed $@

demo: $(VENV)/.installed
	$(BIN)/reflectbot demo

# The suite runs twice: on SQLite, then on PostgreSQL in a private cluster that
# scripts/with-postgres starts (installing Debian's postgresql if needed) and stops.
# It includes tests/test_import_cycles.py: no two project modules import each other, and
# tests/test_web_browser.py, which drives Debian's headless chromium (scripts/ensure-browser
# installs it, as root, when it is missing).
test: $(VENV)/.installed-test
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	$(BIN)/mypy bot storage adapters scheduler reflectbot
	scripts/ensure-browser
	$(BIN)/pytest
	scripts/with-postgres $(BIN)/pytest

# The suite on SQLite alone: quicker while working.
test-sqlite: $(VENV)/.installed-test
	scripts/ensure-browser
	$(BIN)/pytest

lint: $(VENV)/.installed-test
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	$(BIN)/mypy bot storage adapters scheduler reflectbot

# After changing a text in bot/: refresh the template and every catalogue (then translate).
catalogs: $(VENV)/.installed-test
	$(BIN)/pybabel extract -F babel.cfg --no-default-keywords -k N_ -k NP_:1,2 --no-location --omit-header --sort-output -o bot/locales/reflectbot.pot .
	$(BIN)/pybabel update -D reflectbot -i bot/locales/reflectbot.pot -d bot/locales --no-fuzzy-matching --ignore-obsolete

clean:
	rm -rf $(VENV) *.egg-info demo
