# Chorale: `make run` starts the local platform, `make test` runs every test. Both set up .venv first.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat requirements.txt requirements-dev.txt | cksum | cut -d' ' -f1)

.PHONY: help run test unit integration e2e bench lint clean

help:  ## this list: each target with its description
	@grep -hE '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/^([a-z0-9-]+):.*## /\1\t/' | expand -t 16

$(STAMP): requirements.txt requirements-dev.txt
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "$(PYTHON) not found: install Python 3.11 or set PYTHON=python3"; exit 1; }
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	@rm -f $(VENV)/.installed-* && touch $@

run: $(STAMP)  ## the local platform: moto, API on 127.0.0.1:$(PORT), event pump (SEED=, PORT=, AWS_PORT=, LOG_LEVEL=)
	$(BIN)/python -m devstack $(if $(SEED),--seed $(SEED)) $(if $(PORT),--port $(PORT)) $(if $(AWS_PORT),--aws-port $(AWS_PORT))

test: $(STAMP)  ## every test: unit, integration (moto), e2e (local stack over HTTP)
	$(BIN)/python -m pytest -q tests

unit: $(STAMP)  ## unit tests only (no AWS)
	$(BIN)/python -m pytest -q tests/unit

integration: $(STAMP)  ## integration tests only (AWS mocked by moto)
	$(BIN)/python -m pytest -q tests/integration

e2e: $(STAMP)  ## end-to-end tests only (the local stack over HTTP)
	$(BIN)/python -m pytest -q tests/e2e

bench: $(STAMP)  ## benchmarks: validation engine, local pipeline latency, app import time
	$(BIN)/python bench/validation_bench.py
	$(BIN)/python bench/pipeline_bench.py

lint: $(STAMP)  ## ruff check of the whole repository
	$(BIN)/ruff check .

clean:  ## remove .venv and the pytest and ruff caches
	rm -rf $(VENV) .pytest_cache .ruff_cache

# --- Deployment (issue #7): infra/ is a CDK app with its own venv (infra/.venv), never the app's. ---
.PHONY: synth cfn-lint infra-test cost deploy diff bootstrap destroy redrive replay-events migrate
INFRA_VENV := infra/.venv
INFRA_STAMP := $(INFRA_VENV)/.installed-$(shell cat requirements.txt infra/requirements.txt | cksum | cut -d' ' -f1)
STAGE ?= dev
REGION ?= eu-west-3
# Operations on a deployed stage act in the shell's AWS region when it has one (make cost prices eu-west-3).
OPS_REGION ?= $(or $(AWS_REGION),$(AWS_DEFAULT_REGION),$(REGION))
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20

$(INFRA_STAMP): requirements.txt infra/requirements.txt
	@test -x $(INFRA_VENV)/bin/python || $(PYTHON) -m venv $(INFRA_VENV)
	$(INFRA_VENV)/bin/python -m pip install --quiet --disable-pip-version-check -r infra/requirements.txt
	@rm -f $(INFRA_VENV)/.installed-* && touch $@

infra/node_modules/.bin/cdk: infra/package.json
	cd infra && npm install --no-audit --no-fund --loglevel=error
	@touch $@

synth: $(INFRA_STAMP)  ## CloudFormation templates for every stage: infra/cdk.out/{dev,prod}.template.json
	rm -rf infra/cdk.out infra/chalice.out
	cd infra && AWS_DEFAULT_REGION=$(REGION) CDK_OUTDIR=cdk.out .venv/bin/python main.py
	@ls infra/cdk.out/*.template.json

cfn-lint: $(INFRA_STAMP)  ## lint the synthesized templates (zero errors required)
	$(INFRA_VENV)/bin/cfn-lint infra/cdk.out/*.template.json

infra-test: synth $(STAMP)  ## synthesize, lint, then assert the templates' properties (tests/infra)
	$(MAKE) --no-print-directory cfn-lint
	$(BIN)/python -m pytest -q tests/infra

cost: $(STAMP)  ## monthly AWS bill per component from measured per-invoice counts (REGION=, VOLUMES=, PEAK=)
	$(BIN)/python infra/cost/cost.py --region $(REGION) $(if $(VOLUMES),--volumes $(VOLUMES)) $(if $(PEAK),--peak $(PEAK))

# DRY_RUN=1 (true, yes) only counts; DRY_RUN=0 (false, no) or none acts; any other value is refused.
DRY_RUN_FLAG = $(if $(filter 1 true yes,$(DRY_RUN)),--dry-run,$(if $(filter-out 0 false no,$(DRY_RUN)),$(error DRY_RUN=$(DRY_RUN): 1, true or yes for a dry run; 0, false, no or nothing for a real one)))

# A required variable left out stops make naming it, not the script's argument it becomes.
require = $(if $($(1)),,$(error $(1)= is required: $(2)))

redrive: $(STAMP)  ## move a queue's dead letters back after a fix: make redrive QUEUE=chorale-prod-validation [FROM=<queue>, not its DLQ] [MAX=] [DRY_RUN=1]
	$(call require,QUEUE,make redrive QUEUE=chorale-prod-validation [FROM=] [MAX=] [DRY_RUN=1])
	$(BIN)/python infra/redrive.py $(QUEUE) $(if $(FROM),--from $(FROM)) $(if $(MAX),--max $(MAX)) $(DRY_RUN_FLAG) --region $(OPS_REGION)

replay-events: $(STAMP)  ## re-publish a window's status events after the stream publisher gave up: make replay-events STAGE=prod SINCE=… UNTIL=… [DRY_RUN=1]
	$(call require,SINCE,make replay-events STAGE=prod SINCE=2026-11-20T08:00:00Z UNTIL=2026-11-20T09:00:00Z)
	$(call require,UNTIL,make replay-events STAGE=prod SINCE=2026-11-20T08:00:00Z UNTIL=2026-11-20T09:00:00Z)
	$(BIN)/python infra/replay_events.py --stage $(STAGE) --since $(SINCE) --until $(UNTIL) $(DRY_RUN_FLAG) --region $(OPS_REGION)

migrate: $(STAMP)  ## after an update, rewrite a stage's items stored before it (names, claims, expires): make migrate STAGE=prod [ONLY=claims] [DRY_RUN=1]
	$(if $(filter file,$(origin STAGE)),$(error STAGE= is required (not the default dev): make migrate STAGE=prod [ONLY=names|claims|expires] [DRY_RUN=1]))
	$(BIN)/python infra/migrate.py --stage $(STAGE) $(if $(ONLY),--only $(ONLY)) $(DRY_RUN_FLAG) --region $(OPS_REGION)

bootstrap: $(INFRA_STAMP) infra/node_modules/.bin/cdk  ## once per account and region: CDK's asset bucket and roles
	cd infra && npx cdk bootstrap -c stage=$(STAGE) $(CDK_ARGS)

diff: $(INFRA_STAMP) infra/node_modules/.bin/cdk  ## what `make deploy STAGE=…` would change
	cd infra && npx cdk diff -c stage=$(STAGE) $(CDK_ARGS) $(STAGE)

deploy: $(INFRA_STAMP) infra/node_modules/.bin/cdk  ## deploy one stage: make deploy STAGE=prod [CDK_ARGS="-c alarm_email=…"]
	cd infra && npx cdk deploy -c stage=$(STAGE) $(CDK_ARGS) $(STAGE) --require-approval broadening

destroy: $(INFRA_STAMP) infra/node_modules/.bin/cdk  ## delete one stage's stack (prod keeps its bucket and tables)
	cd infra && npx cdk destroy -c stage=$(STAGE) $(CDK_ARGS) $(STAGE)
