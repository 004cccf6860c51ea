# The two commands a user needs are `make run` and `make test`; everything else is a convenience.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)
STACK  := $(BIN)/python -m tools.stack
BPMNLINT := bpmn/node_modules/.installed
# Browser libraries of the services that serve pages (shared.runtime.service.Service.web), from npm.
WEB_NPM  := $(patsubst %/package.json,%/node_modules/.installed,$(wildcard services/*/web/package.json))

# `make` alone still runs `install` (the first target); `make help` lists the rest.
.PHONY: help install lint lint-bpmn catalog diagrams screenshots run up down status logs incidents tasks test unit demo bench bench-monitor bench-migration chaos soak clean

install: $(STAMP) $(WEB_NPM)  ## create .venv and install what is missing (Python packages, the pages' npm libraries)

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || { echo ">> creating virtualenv $(VENV)"; $(PYTHON) -m venv $(VENV); }
	@echo ">> installing Python dependencies (cached by pip after the first run)"
	@$(BIN)/pip install --quiet --disable-pip-version-check -e '.[test]'
	@rm -f $(VENV)/.installed-*; touch $@

$(BPMNLINT): bpmn/package.json bpmn/package-lock.json
	@echo ">> installing bpmnlint with the Camunda compatibility rules (npm)"
	@cd bpmn && npm ci --no-audit --no-fund --silent
	@touch $@

$(WEB_NPM): %/node_modules/.installed: %/package.json %/package-lock.json
	@echo ">> installing the browser libraries of $* (npm)"
	@cd $* && npm ci --no-audit --no-fund --silent
	@touch $@

lint: install      ## ruff over the Python code (pyproject.toml says which rules)
	@$(BIN)/ruff check . && echo "ruff: no problems"

lint-bpmn: $(BPMNLINT)  ## check the BPMN files as Camunda Modeler does (bpmnlint + camunda-compat 8.6)
	@cd bpmn && ./node_modules/.bin/bpmnlint *.bpmn && echo "bpmnlint: no problems"

catalog: install  ## regenerate docs/events/*.schema.json and docs/asyncapi.json from the event classes
	@$(BIN)/python -m tools.catalog

diagrams: install ## render docs/images/*.png from the BPMN files (bpmn-js in Debian's headless chromium)
	@cd docs/diagrams && npm ci --no-audit --no-fund --silent
	@$(BIN)/python docs/diagrams/render.py

screenshots: install ## docs/images/analytics.png, monitor.png: the browser tests against the stack (started if needed), saving into docs/images
	@FULFIL_SCREENSHOT_DIR=docs/images $(STACK) test tests/browser -q

run: install      ## fetch what is missing, start everything in the foreground, Ctrl-C stops it
	@$(STACK) run

up: install       ## the same stack, detached
	@$(STACK) up

down:             ## stop everything `up` or `run` started
	@if [ -x $(BIN)/python ]; then $(STACK) down; else echo "nothing to stop (no $(VENV))"; fi

status: install   ## each component, and whether each service reaches its database, Kafka and Zeebe
	@$(STACK) status

logs: install     ## follow the stack's logs
	@$(STACK) logs

incidents: install ## open incidents (from the process monitor) and how to retry them
	@$(STACK) incidents

tasks: install    ## open user tasks (from the process monitor) and how to complete them
	@$(STACK) tasks

test: install $(BPMNLINT) lint ## lint, start the stack if needed, run every test, stop what was started
	@$(STACK) test

unit: install     ## unit tests only: no infrastructure needed
	@$(BIN)/python -m pytest tests/unit -q

demo: install     ## place a few orders against a running stack and follow them
	@$(STACK) demo

bench: install    ## the suite against the engine's limit for the same BPMN: CLIENTS (10,30) for DURATION (30) s, RATE (15)/s for OPEN_DURATION (300) s
	@$(STACK) bench $(if $(CLIENTS),--clients $(CLIENTS)) $(if $(DURATION),--duration $(DURATION)) \
		$(if $(RATE),--rate $(RATE)) $(if $(OPEN_DURATION),--open-duration $(OPEN_DURATION)) \
		$(if $(WARMUP),--warmup $(WARMUP)) $(if $(DRAIN),--drain $(DRAIN)) $(if $(DOCS),--docs $(DOCS))

bench-monitor: install ## the process monitor's page requests over INSTANCES (10000) synthetic instances, in a scratch database
	@$(BIN)/python -m tools.monitor_bench $(if $(INSTANCES),--instances $(INSTANCES))

bench-migration: install ## moving running orders to a new version: ORDERS (1000) waiting for stock, migrated in batches of BATCH (100)
	@$(BIN)/python -m tools.bench.migration --orders $(or $(ORDERS),1000) --batch $(or $(BATCH),100)

chaos: install    ## a soak with crashes: ORDERS (200) at RATE (2/s), KILLS (ORDERS/50, min 10: one per component) SIGKILLs; exit 1 on a violation
	@$(STACK) chaos --orders $(or $(ORDERS),200) --rate $(or $(RATE),2) $(if $(KILLS),--kills $(KILLS)) \
		$(if $(SETTLE),--settle $(SETTLE)) $(if $(SEED),--seed $(SEED))

soak: install     ## the self-healing at volume: ORDERS (3000) at RATE (8/s), ~40 % waiting for stock, a few made stuck; REPLICAS=2 for two of each service
	@$(if $(REPLICAS),FULFIL_STACK_REPLICAS=$(REPLICAS)) $(STACK) soak --orders $(or $(ORDERS),3000) --rate $(or $(RATE),8) \
		$(if $(SEED),--seed $(SEED))

clean: down      ## stop everything and delete .stack/ (data, logs, downloads)
	rm -rf .stack

help:             ## this list: each target and what it does
	@awk 'BEGIN {FS = ":[^#]*## "} /^[a-z-]+:[^#]*## / {printf "  %-16s %s\n", $$1, $$2}' $(MAKEFILE_LIST)
