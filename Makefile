# `make run`: the whole service (web, worker, beat) on the embedded default, or on whatever
# DATABASE_URL / CELERY_BROKER_URL the environment names.
# `make test`: lint, then the whole suite on PostgreSQL and Redis (127.0.0.1 by default),
# installing Debian's chromium first if it is missing.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PORT ?= 8000
# honcho numbers the Procfile's processes PORT, PORT+100, …: `stream` (uvicorn) is the 4th.
STREAM_PORT = $(shell echo $$(( $(PORT) + 300 )))

TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/webhooks
TEST_REDIS_URL ?= redis://127.0.0.1:6379/15
PYTEST_ARGS ?=

.PHONY: run test lint format install install-dev bench

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: requirements.txt constraints.txt | $(BIN)/python
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements.txt -c constraints.txt
	touch $@

$(VENV)/.installed-dev: requirements-dev.txt $(VENV)/.installed
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements-dev.txt -c constraints.txt
	touch $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

# honcho runs under bin/supervise.py, so that no process outlives `make run` (see there); `exec`
# because the SIGTERM make passes on must reach it, not a shell that would die of it.
run: install
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py ensure_staff_user
	PATH="$(abspath $(BIN)):$$PATH" \
	LIVE_STREAM_URL="$${LIVE_STREAM_URL:-http://127.0.0.1:$(STREAM_PORT)/api/events/stream}" \
	STREAM_ALLOWED_ORIGINS="$${STREAM_ALLOWED_ORIGINS:-http://127.0.0.1:$(PORT),http://localhost:$(PORT)}" \
	exec $(BIN)/python bin/supervise.py $(BIN)/honcho start --port $(PORT) -f Procfile

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install-dev
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# Browser tests drive Debian's chromium (test tools cannot download browsers here): installed
# with apt when it is missing, as root or through sudo, so that `make test` needs nothing else.
CHROMIUM := /usr/bin/chromium
SUDO = $(if $(filter 0,$(shell id -u)),,sudo -n)

$(CHROMIUM):
	@echo "Installing Debian's chromium for the browser tests"
	$(SUDO) apt-get update -qq </dev/null
	$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium </dev/null >/dev/null

test: lint | $(CHROMIUM)
	DATABASE_URL="$(TEST_DATABASE_URL)" REDIS_URL="$(TEST_REDIS_URL)" \
	CELERY_BROKER_URL="$(TEST_REDIS_URL)" $(BIN)/pytest $(PYTEST_ARGS)

# Benchmarks, on demand (never in CI): PostgreSQL and Redis on 127.0.0.1 and ../shared/peers.
bench: install
	$(BIN)/python bench/outbound.py
