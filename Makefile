# VIP Rewards — developer commands. `make dev` runs everything locally; `make test` is what CI runs.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat requirements.txt requirements-dev.txt | sha1sum | cut -c1-12)

.PHONY: help dev test lint format unit bench browser clean

help:
	@echo "make dev     run the API (:8000), DynamoDB/moto (:8001) and the Stripe emulator (:12111), seeded"
	@echo "make test    install pinned dependencies, lint, type-check and run every test"
	@echo "make lint    ruff check, ruff format --check, mypy"
	@echo "make bench   print DynamoDB calls, handler latency and cold import figures"

$(STAMP): requirements.txt requirements-dev.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	@rm -f $(VENV)/.installed-*
	@touch $@

venv: $(STAMP)

# Browser tests drive Debian's Chromium; install it when missing (CI runs as root on a clean machine).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
		echo "installing Debian chromium for the browser tests"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

dev: $(STAMP)
	$(BIN)/python -m localdev.dev

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy chalicelib localdev app.py

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

unit: $(STAMP)
	$(BIN)/pytest -q tests/unit

test: $(STAMP) browser lint
	$(BIN)/pytest -q

bench: $(STAMP)
	$(BIN)/python -m localdev.bench

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis
