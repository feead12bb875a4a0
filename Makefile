# VIP Rewards — developer commands. `make dev` runs everything locally; `make test` is what CI runs.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
# `make dev SEED=empty` starts without the demo history (plans, causes and keys only).
SEED ?= demo
STAMP := $(VENV)/.installed-$(shell cat requirements.txt requirements-dev.txt requirements-infra.txt | sha1sum | cut -c1-12)

# Lambda architecture of the deployment package and the functions: x86_64 or arm64.
ARCH ?= x86_64
PACKAGE := dist/vip-rewards-$(ARCH).zip

.PHONY: help dev test lint format unit bench package synth browser clean

help:
	@echo "make dev     run the API (:8000), DynamoDB/moto (:8001) and the Stripe emulator (:12111), seeded"
	@echo "             with a year of demo history (SEED=empty: plans, causes and keys only); /dashboard"
	@echo "make test    install pinned dependencies, lint, type-check and run every test"
	@echo "make lint    ruff check, ruff format --check, mypy"
	@echo "make bench   print DynamoDB calls, handler latency and cold import figures"
	@echo "make package build the Lambda deployment zip ($(PACKAGE); ARCH=x86_64|arm64)"
	@echo "make synth   write the CloudFormation templates (dev, prod) to infra/cdk.out/ (no AWS account needed)"

$(STAMP): requirements.txt requirements-dev.txt requirements-infra.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt -r requirements-infra.txt
	@rm -f $(VENV)/.installed-*
	@touch $@

venv: $(STAMP)

# Browser tests drive Debian's Chromium; install it when missing (CI runs as root on a clean machine).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
		echo "installing Debian chromium for the browser tests"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

dev: $(STAMP)
	SEED=$(SEED) $(BIN)/python -m localdev.dev

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

# Chalice's package for Lambda, then bytecode, trimmed botocore, no test-only files (infra/package.py).
package: $(STAMP)
	AWS_DEFAULT_REGION=us-east-1 $(BIN)/python -m infra.package --architecture $(ARCH) --output $(PACKAGE)

# Offline: dummy credentials and region; Chalice packages the app for Lambda from the package index.
synth: $(STAMP)
	JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION=1 AWS_DEFAULT_REGION=us-east-1 \
	AWS_ACCESS_KEY_ID=synth AWS_SECRET_ACCESS_KEY=synth $(BIN)/python -m infra.app
	@ls -l infra/cdk.out/*.template.json

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis infra/cdk.out chalice.out dist
