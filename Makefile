# The two commands of the README: `make up` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Gamera's wheel, compiled once by gamera4-rodan/build-wheels and reused.
export RODAN_WHEEL_DIR ?= $(HOME)/.cache/rodan/wheels

.PHONY: up test install install-test clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

install: $(BIN)/python
	$(BIN)/pip install --quiet -e . -e gamera4-rodan/musicstaves

install-test: $(BIN)/python
	gamera4-rodan/build-wheels $(BIN)/python
	$(BIN)/pip install --quiet --find-links $(RODAN_WHEEL_DIR) -e '.[test,gamera]' -e gamera4-rodan/musicstaves
	scripts/install-test-deps

## Install, then start the web app, a worker and the scheduler on embedded defaults.
up: install
	$(BIN)/rodan up $(ARGS)

## Install, then run every test on PostgreSQL + RabbitMQ, and again on the embedded backend.
test: install-test
	RODAN_TEST_BACKEND=services $(BIN)/pytest --junitxml=test-results/services.xml $(PYTEST_ARGS)
	RODAN_TEST_BACKEND=embedded $(BIN)/pytest --junitxml=test-results/embedded.xml $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) test-results *.egg-info
