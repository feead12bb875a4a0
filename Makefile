# VIP Rewards — developer commands. `make dev` runs everything locally; `make test` is what CI runs.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
# `make dev SEED=empty` starts without the demo history (plans, causes and keys only).
SEED ?= demo
# One stamp per set of requirements: `make dev` installs only the local stack, `make synth` adds the CDK,
# `make test` everything the tests use (checkov in its own virtualenv: its pins clash with ours).
hash = $(shell cat $(1) | sha1sum | cut -c1-12)
DEV_REQS := requirements.txt requirements-dev.txt
INFRA_REQS := $(DEV_REQS) requirements-infra.txt
TEST_REQS := $(INFRA_REQS) requirements-test.txt
DEV_STAMP := $(VENV)/.dev-$(call hash,$(DEV_REQS))
INFRA_STAMP := $(VENV)/.infra-$(call hash,$(INFRA_REQS))
TEST_STAMP := $(VENV)/.test-$(call hash,$(TEST_REQS))
CHECKOV_VENV := $(VENV)/tools/checkov
CHECKOV_STAMP := $(CHECKOV_VENV)/.installed-$(call hash,requirements-checkov.txt)

# Lambda architecture of the deployment package and the functions: x86_64 or arm64.
ARCH ?= x86_64
PACKAGE := dist/vip-rewards-$(ARCH).zip

.PHONY: help dev test lint format unit bench package synth browser node-tools clean

help:
	@echo "make dev     run the API (:8000), DynamoDB/moto (:8001) and the Stripe emulator (:12111), seeded"
	@echo "             with a year of demo history (SEED=empty: plans, causes and keys only); /dashboard"
	@echo "make test    install pinned dependencies, lint, type-check and run every test"
	@echo "make lint    ruff check, ruff format --check, mypy"
	@echo "make bench   print DynamoDB calls, handler latency, report costs by volume, Black Friday write shares,"
	@echo "             latency with the demo history, and the package's cold start figures"
	@echo "make package build the Lambda deployment zip ($(PACKAGE); ARCH=x86_64|arm64)"
	@echo "make synth   write the CloudFormation templates (dev, prod) to infra/cdk.out/ (no AWS account needed)"

# $(call install,requirements file,stamp kind)
define install
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r $(1)
	@rm -f $(VENV)/.$(2)-*
	@touch $@
endef

$(DEV_STAMP): $(DEV_REQS)
	$(call install,requirements-dev.txt,dev)

$(INFRA_STAMP): $(INFRA_REQS)
	$(call install,requirements-infra.txt -r requirements-dev.txt,infra)

$(TEST_STAMP): $(TEST_REQS)
	$(call install,requirements-test.txt,test)

$(CHECKOV_STAMP): requirements-checkov.txt | $(TEST_STAMP)
	@test -x $(CHECKOV_VENV)/bin/python || $(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/python -m pip install --quiet --disable-pip-version-check -r requirements-checkov.txt
	@rm -f $(CHECKOV_VENV)/.installed-*
	@touch $@

venv: $(TEST_STAMP)

# Webhook receivers written by others (npm `standardwebhooks`, pinned in its lock file) verify what we send
# in tests/integration/events; installed with the machine's Node.
NODE_TOOLS := tests/tools/node
NODE_TOOLS_STAMP := $(NODE_TOOLS)/node_modules/.installed-$(call hash,$(NODE_TOOLS)/package-lock.json)

$(NODE_TOOLS_STAMP): $(NODE_TOOLS)/package.json $(NODE_TOOLS)/package-lock.json
	cd $(NODE_TOOLS) && npm ci --no-audit --no-fund --ignore-scripts --silent
	@rm -f $(NODE_TOOLS)/node_modules/.installed-*
	@touch $@

node-tools: $(NODE_TOOLS_STAMP)

# Browser tests drive Debian's Chromium; install it when missing (CI runs as root on a clean machine).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
		echo "installing Debian chromium for the browser tests"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

dev: $(DEV_STAMP)
	SEED=$(SEED) $(BIN)/python -m localdev.dev

lint: $(TEST_STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy chalicelib localdev infra app.py

format: $(TEST_STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

unit: $(TEST_STAMP)
	$(BIN)/pytest -q tests/unit

# tests/unit first and on its own: it must pass with no server running (no moto, no emulator).
test: $(TEST_STAMP) $(CHECKOV_STAMP) $(NODE_TOOLS_STAMP) browser lint
	$(BIN)/pytest -q tests/unit
	$(BIN)/pytest -q --durations=15 --ignore=tests/unit

# The package's figures are measured on the zip `make package` builds for x86_64.
bench: $(DEV_STAMP)
	$(MAKE) package ARCH=x86_64
	$(BIN)/python -m localdev.bench

# Chalice's package for Lambda, then bytecode, trimmed botocore, no test-only files (infra/package.py).
package: $(DEV_STAMP)
	AWS_DEFAULT_REGION=us-east-1 $(BIN)/python -m infra.package --architecture $(ARCH) --output $(PACKAGE)

# Offline: dummy credentials and region. The functions deploy $(PACKAGE) (its architecture is theirs).
synth: $(INFRA_STAMP) package
	JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION=1 AWS_DEFAULT_REGION=us-east-1 \
	AWS_ACCESS_KEY_ID=synth AWS_SECRET_ACCESS_KEY=synth LAMBDA_PACKAGE=$(PACKAGE) $(BIN)/python -m infra.app
	@ls -l infra/cdk.out/*.template.json

clean:
	rm -rf $(NODE_TOOLS)/node_modules
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis infra/cdk.out chalice.out dist
