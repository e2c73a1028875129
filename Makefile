# Two commands for a new user: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 5000
MAX_REQUESTS ?= 10000
MAX_REQUESTS_JITTER ?= $(shell echo $$(( $(MAX_REQUESTS) / 10 )))
FLASK := $(BIN)/flask --app wsgi
TICK_INTERVAL ?= 5
LOCAL_MAIL_PORT ?= 8025
LOCAL_MAIL_FOLDER ?= instance/correo
LINK_HOST := $(if $(filter 0.0.0.0,$(HOST)),127.0.0.1,$(HOST))

.PHONY: run test test-clocks setup system-deps translations lint typecheck contracts pytest bench soak clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $@

setup: $(VENV)/.installed translations

translations: $(VENV)/.installed
	$(BIN)/pybabel -q compile -d app/translations

## make run: install, migrate the database, load demo data on first start, warn of missing departments, start the
## timers' worker (a pass every TICK_INTERVAL seconds: terms lapse, silence rules apply, mail goes out, the log's
## checkpoints are signed, as in a deployment) and, unless MAIL_SERVER names a mail server, a local one on
## LOCAL_MAIL_PORT that keeps every message in LOCAL_MAIL_FOLDER and prints its links (an address's confirmation
## link among them); then
## serve the app with the production server (gunicorn: one process, so that throttling counts in one place on the default
## memory store; threads for concurrent requests; its Server header carries no version). --preload imports the app once
## in the master, so a recycled worker starts in milliseconds; the worker is replaced after MAX_REQUESTS requests (plus
## up to 10 % jitter) so that memory the PDF renderer keeps cannot grow without bound. A replaced worker starts with
## empty in-memory throttling counters: deployments that recycle often should set RATELIMIT_STORAGE_URI to a shared
## store (MAX_REQUESTS=0 turns recycling off).
run: setup
	$(FLASK) db upgrade
	$(FLASK) demo load
	$(FLASK) departments check --warn-only
	@echo ""
	@echo "  Trámites listo en http://$(HOST):$(PORT)/  (Ctrl+C para detener)"
	@echo ""
	@mail=; trap 'kill $$worker $$mail 2>/dev/null' EXIT INT TERM; \
	export PUBLIC_BASE_URL="$${PUBLIC_BASE_URL:-http://$(LINK_HOST):$(PORT)}"; \
	if [ -z "$$MAIL_SERVER" ]; then \
	  export MAIL_SERVER=127.0.0.1 MAIL_PORT=$(LOCAL_MAIL_PORT); \
	  $(FLASK) permits mailbox --port $(LOCAL_MAIL_PORT) --folder $(LOCAL_MAIL_FOLDER) & mail=$$!; \
	fi; \
	$(FLASK) permits worker --interval $(TICK_INTERVAL) & worker=$$!; \
	$(BIN)/gunicorn --workers 1 --threads 8 --graceful-timeout 5 --preload --max-requests $(MAX_REQUESTS) --max-requests-jitter $(MAX_REQUESTS_JITTER) --bind $(HOST):$(PORT) wsgi:app

## make test: install (system packages too), then lint, type-check, check import contracts and run the suite.
test: system-deps setup lint typecheck contracts pytest

system-deps:
	@scripts/system-deps.sh

lint: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(VENV)/.installed
	$(BIN)/mypy

contracts: $(VENV)/.installed
	$(BIN)/lint-imports

## The suite runs in TEST_WORKERS processes, each with its own PostgreSQL server.
TEST_WORKERS ?= 2

## The suite's temporary files (its SQLite databases and documents, its PostgreSQL clusters) go to memory when the
## machine has a writable tmpfs at /dev/shm with 4 GiB free: SQLite's commits (synchronous=FULL) then wait for no
## disk, whose speed varies on a shared host. TEST_TMPDIR= (empty) keeps the system's temporary directory.
TEST_TMPDIR ?= $(shell [ -d /dev/shm ] && [ -w /dev/shm ] && \
	[ "$$(df -Pk /dev/shm | awk 'NR == 2 {print $$4}')" -ge 4194304 ] 2>/dev/null && echo /dev/shm)

pytest: $(VENV)/.installed translations
	$(if $(TEST_TMPDIR),TMPDIR=$(TEST_TMPDIR)) $(BIN)/pytest -n $(TEST_WORKERS)

## make test-clocks: the whole suite once per named instant (midnights in UTC and Mexico City, a Friday
## night, 31 December, a holiday): a test that depends on the hour or the date fails here (about 1 h).
CLOCKS ?= utc-midnight- utc-midnight+ mx-midnight- mx-midnight+ friday-evening new-year holiday

test-clocks: system-deps setup
	@for instant in $(CLOCKS); do echo "== TEST_CLOCK=$$instant"; $(if $(TEST_TMPDIR),TMPDIR=$(TEST_TMPDIR)) TEST_CLOCK=$$instant $(BIN)/pytest -q -n $(TEST_WORKERS) || exit 1; done

## make bench: every benchmark under bench/ (each prints its ratios, measured in one run).
bench: $(VENV)/.installed
	@for script in bench/*_bench.py; do echo "== $$script"; $(BIN)/python $$script || exit 1; done
	@echo "== the quick engine ratio check (timed, so not part of make test)"
	TIMED_TESTS=1 TEST_DATABASES=sqlite $(BIN)/pytest -q -p no:xdist tests/services/test_fire_speed.py

## make soak: the long reliability runs, each on its own cluster (PostgreSQL, Redis, SMTP, two gunicorn instances,
## two tick workers) under conflicting transitions over HTTP: no faults, a crash loop (at least 50 SIGKILLs) and
## PostgreSQL outages, three minutes of load each (about 15 min in all). Figures: test-output/soak.json and
## docs/reliability.md. SOAK_ARGS passes options (e.g. SOAK_ARGS="--seconds 600 --kills 200"). Then the fuzzers
## of every parser of untrusted input with the long profile (FUZZ_SOAK_FACTOR times the examples of make test).
SOAK_ARGS ?=

soak: system-deps setup
	$(BIN)/python soak/run.py $(SOAK_ARGS)
	FUZZ_PROFILE=soak $(BIN)/pytest -q -p no:xdist --hypothesis-show-statistics tests/fuzz

clean:
	rm -rf $(VENV) *.egg-info .pytest_cache .mypy_cache .ruff_cache test-output
