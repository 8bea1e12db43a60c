PY ?= python
.PHONY: install test lint bench demo

install:
	$(PY) -m pip install -e '.[all,dev]'

test:
	$(PY) -m pytest -q

lint:
	$(PY) -m ruff check src tests
	$(PY) -m ruff format --check src tests
	$(PY) -m mypy

bench:
	attune bench engine --json
	attune bench http --json
