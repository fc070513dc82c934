# shop-assist: `make run` sets up and starts everything; `make test` runs every test.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
RASA := $(VENV)/bin/rasa
# The web gateway's own environment: Rasa's pins would hold it on releases with advisories.
GVENV := .venv-gateway
GPY := $(GVENV)/bin/python
AVENV := .venv-audit
# Runs a command with the product's secrets (bot/keys.py) in its environment.
WITH_KEYS := $(PY) -m bot.keys exec
# Rasa 3.6 needs Python 3.10: pyenv's 3.10.13 first, else a python3.10 on PATH.
PYTHON310 ?= $(shell p="$$(pyenv root 2>/dev/null)/versions/3.10.13/bin/python"; \
	if [ -x "$$p" ]; then echo "$$p"; else command -v python3.10 2>/dev/null; fi)
MODEL := models/shop-assist.tar.gz
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
# Rasa reports usage and errors to Rasa's servers unless told not to: a shop's bot sends
# nothing about its shoppers' conversations to a third party. Every Rasa process make starts.
export RASA_TELEMETRY_ENABLED ?= false

.PHONY: run run-scaled test test-fast install browser seed reseed backup restore train shell lint eval bench audit clean

# Each set-up step says how long it took; the servers then say when they are up.
SETUP_STEPS := install seed train
define timed_run
	@export RUN_STARTED=$$(date +%s.%N); \
	for step in $(SETUP_STEPS); do s=$$(date +%s.%N); $(MAKE) --no-print-directory $$step $(1) || exit $$?; \
		awk -v s=$$s -v e=$$(date +%s.%N) -v n=$$step 'BEGIN { printf "step %-8s %6.1f s\n", n, e - s }'; done; \
	$(PY) -m bot.run
endef

run:
	$(call timed_run)

# The scale-out shape on this machine: records and Rasa's trackers on PostgreSQL, Rasa's lock store,
# the gateways' fan-out and locks on Redis; two Rasa servers, two gateways (RASA_INSTANCES, GATEWAYS).
SCALED_DATABASE_URL ?= postgresql+psycopg2://postgres@127.0.0.1:5432/shop_assist
SCALED_REDIS_URL ?= redis://127.0.0.1:6379/0
run-scaled: export DATABASE_URL := $(or $(DATABASE_URL),$(SCALED_DATABASE_URL))
run-scaled: export REDIS_URL := $(or $(REDIS_URL),$(SCALED_REDIS_URL))
run-scaled:
	$(call timed_run,SEED_ARGS=--create-database)

# The two environments are independent: installed side by side (about a third less time on a fresh clone).
install:
	@$(MAKE) --no-print-directory -j2 $(VENV)/.installed $(GVENV)/.installed

# Debian's Chromium (and CJK fonts for screenshots) for the browser tests;
# Playwright drives it by path: never `playwright install`.
browser:
	@if [ ! -x /usr/bin/chromium ] || ! dpkg -s fonts-noto-cjk >/dev/null 2>&1; then \
		echo "installing Debian's chromium and fonts-noto-cjk for the browser tests ..."; \
		$(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium fonts-noto-cjk; \
	fi
	@$(MAKE) --no-print-directory $(RASA_WEBCHAT)

# Rasa's own widget, from the npm registry, for the test that a stock Rasa widget works unchanged.
RASA_WEBCHAT := var/vendor/rasa-webchat-1.0.1/lib/index.js
$(RASA_WEBCHAT):
	@mkdir -p var/vendor && cd var/vendor && npm pack --silent rasa-webchat@1.0.1 >/dev/null && \
		mkdir -p rasa-webchat-1.0.1 && tar xzf rasa-webchat-1.0.1.tgz -C rasa-webchat-1.0.1 --strip-components=1 \
		package/lib/index.js package/LICENSE && rm rasa-webchat-1.0.1.tgz

CHECK_PYTHON310 = if [ -z "$(PYTHON310)" ] || ! "$(PYTHON310)" -c 'import sys; assert sys.version_info[:2] == (3, 10)' 2>/dev/null; then \
		echo "error: Python 3.10 not found. Install it with 'pyenv install 3.10.13' or put python3.10 on PATH." >&2; exit 1; fi

# uv installs what pip would (the same 189 packages and versions here) from its cache
# in seconds: pip took 70-130 s on a warm cache. Byte-compiled as pip does, so no process
# compiles TensorFlow's modules on start-up (PYTHONDONTWRITEBYTECODE may be set).
UV_VERSION := 0.13.9
# requirements-tools.txt: pip and setuptools first, and kept over any package's pin.
UV_INSTALL = $(1)/bin/python -m pip install --quiet --disable-pip-version-check -r requirements-tools.txt \
	uv==$(UV_VERSION) && \
	$(1)/bin/uv pip install --quiet --python $(1)/bin/python --compile-bytecode \
	--override requirements-tools.txt -r $(2) -r requirements-tools.txt

$(VENV)/.installed: requirements.txt requirements-tools.txt
	@$(CHECK_PYTHON310)
	@test -x $(PY) || "$(PYTHON310)" -m venv $(VENV)
	$(call UV_INSTALL,$(VENV),requirements.txt)
	@touch $@

$(GVENV)/.installed: requirements-gateway.txt requirements-tools.txt
	@$(CHECK_PYTHON310)
	@test -x $(GPY) || "$(PYTHON310)" -m venv $(GVENV)
	$(call UV_INSTALL,$(GVENV),requirements-gateway.txt)
	@touch $@

# Create the sample shop when missing (or seeded too long ago for its
# relative times, e.g. "delivered yesterday", to still hold).
seed: install
	@$(PY) -m bot.seed --if-missing --max-age-hours 12 $(SEED_ARGS)

# Drop and re-create the sample shop now.
reseed: install
	@$(PY) -m bot.seed

# The shop's records copied out (var/backups/) and back: SQLite's online backup API, or
# pg_dump/pg_restore for PostgreSQL (bot/backup.py).
backup: install
	@$(PY) -m bot.backup backup

restore: install
	@test -n "$(FILE)" || { echo "usage: make restore FILE=var/backups/shop-YYYYmmdd-HHMMSS.db" >&2; exit 2; }
	@$(PY) -m bot.backup restore "$(FILE)"

train: install
	@$(PY) -m bot.train

shell: install
	@# Its own server on 5006, beside the one `make run` keeps on 5005; needs the action server up.
	$(WITH_KEYS) $(RASA) shell --model $(MODEL) --endpoints endpoints.yml --port 5006 --conversation-id $${SHOPPER:-u1001}

# Every row of ../shared/eval and the held-out out-of-scope set, ours beside Rasa's default
# pipeline trained on the same data, then cross-validation (measurement only, never training data).
eval: install seed train
	@$(PY) -m bot.evaluate

# Concurrent shoppers through gateway -> Rasa -> actions -> database; prints figures.
bench: install train
	@$(PY) -m bot.bench

# Known advisories in both environments (pip-audit, PyPI's advisory data); the
# docs/security.md says why each one that is left stays.
audit: install $(AVENV)/.installed
	@$(AVENV)/bin/python -m bot.audit

# pip-audit gets an environment of its own: its dependencies clash with Rasa's pins.
$(AVENV)/.installed:
	@test -x $(AVENV)/bin/python || "$(PYTHON310)" -m venv $(AVENV)
	$(AVENV)/bin/python -m pip install --quiet pip-audit==2.10.1
	@touch $@

lint: install
	$(PY) -m ruff check .

# seed: the end-to-end stories read products, colours and sizes from the shop's
# catalogue (bot/nlu/catalogue_entities.py), as the running bot does.
# The unit tests alone (tests/conftest.py marks them): no training, no servers, no browser.
test-fast: install
	$(PY) -m pytest -m unit -q

test: install browser seed train
	$(PY) -m ruff check .
	$(RASA) data validate --domain domain --data data --config config.yml
	$(PY) -m pytest
	$(RASA) test core --e2e --model $(MODEL) --stories tests/test_stories.yml --no-plot \
		--fail-on-prediction-errors --out var/results

clean:
	rm -rf var/results var/log models/*.tar.gz models/.fingerprint
