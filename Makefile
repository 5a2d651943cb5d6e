# The two commands of the README: `make up` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Gamera's wheel, compiled once by gamera4-rodan/build-wheels and reused.
export RODAN_WHEEL_DIR ?= $(HOME)/.cache/rodan/wheels

# The browser front ends (frontend/, README "Front ends"): npm ci when the lock file
# changes, a Vite build into rodan/static/frontend/ when any source does.
FRONTEND_SOURCES := $(shell find frontend -path frontend/node_modules -prune -o -type f -print)
FRONTEND_MODULES := frontend/node_modules/.package-lock.json
FRONTEND_BUILD := rodan/static/frontend/manifest.json

# Pixel's page (jobs/pixel/frontend, README "Pixel"): its own locked packages and the
# viewer of frontend/src/viewer; Vite writes dist/, copied to jobs/pixel/static/build/,
# which the job's working URL serves.
PIXEL_DIR := jobs/pixel/frontend
PIXEL_SOURCES := $(shell find $(PIXEL_DIR) \( -path $(PIXEL_DIR)/node_modules -o -path $(PIXEL_DIR)/dist \) -prune -o -type f -print) $(wildcard frontend/src/viewer/* frontend/src/interactive/*)
PIXEL_MODULES := $(PIXEL_DIR)/node_modules/.package-lock.json
PIXEL_BUILD := jobs/pixel/static/build/pixel.js

# Neon's page (jobs/neon/frontend, README "Neon"): the same pattern, verovio in a Web Worker.
NEON_DIR := jobs/neon/frontend
NEON_SOURCES := $(shell find $(NEON_DIR) \( -path $(NEON_DIR)/node_modules -o -path $(NEON_DIR)/dist \) -prune -o -type f -print) $(wildcard frontend/src/viewer/* frontend/src/interactive/*)
NEON_MODULES := $(NEON_DIR)/node_modules/.package-lock.json
NEON_BUILD := jobs/neon/static/build/neon.js

.PHONY: up test install install-test frontend clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

install: $(BIN)/python
	$(BIN)/pip install --quiet -e . -e gamera4-rodan/musicstaves

install-test: $(BIN)/python
	gamera4-rodan/build-wheels $(BIN)/python
	$(BIN)/pip install --quiet --find-links $(RODAN_WHEEL_DIR) -e '.[test,gamera]' -e gamera4-rodan/musicstaves
	scripts/install-test-deps

$(FRONTEND_MODULES): frontend/package.json frontend/package-lock.json
	cd frontend && npm ci --no-audit --no-fund

$(FRONTEND_BUILD): $(FRONTEND_MODULES) $(FRONTEND_SOURCES)
	cd frontend && npm run build

$(PIXEL_MODULES): $(PIXEL_DIR)/package.json $(PIXEL_DIR)/package-lock.json
	cd $(PIXEL_DIR) && npm ci --no-audit --no-fund

$(PIXEL_BUILD): $(PIXEL_MODULES) $(PIXEL_SOURCES)
	cd $(PIXEL_DIR) && npm run build
	rm -rf jobs/pixel/static/build
	mkdir -p jobs/pixel/static
	cp -r $(PIXEL_DIR)/dist jobs/pixel/static/build

$(NEON_MODULES): $(NEON_DIR)/package.json $(NEON_DIR)/package-lock.json
	cd $(NEON_DIR) && npm ci --no-audit --no-fund

$(NEON_BUILD): $(NEON_MODULES) $(NEON_SOURCES)
	cd $(NEON_DIR) && npm run build
	rm -rf jobs/neon/static/build
	mkdir -p jobs/neon/static
	cp -r $(NEON_DIR)/dist jobs/neon/static/build

frontend: $(FRONTEND_BUILD) $(PIXEL_BUILD) $(NEON_BUILD)

## Install, then start the web app, a worker and the scheduler on embedded defaults.
up: install frontend
	$(BIN)/rodan up $(ARGS)

## Install, then run every test on PostgreSQL + RabbitMQ, and again on the embedded backend.
test: install-test frontend
	RODAN_TEST_BACKEND=services $(BIN)/pytest --junitxml=test-results/services.xml --durations=25 $(PYTEST_ARGS)
	RODAN_TEST_BACKEND=embedded $(BIN)/pytest --junitxml=test-results/embedded.xml --durations=25 $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) test-results *.egg-info frontend/node_modules rodan/static/frontend \
		$(PIXEL_DIR)/node_modules $(PIXEL_DIR)/dist jobs/pixel/static/build \
		$(NEON_DIR)/node_modules $(NEON_DIR)/dist jobs/neon/static/build
