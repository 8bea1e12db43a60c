PY ?= python
.PHONY: install test lint bench demo

install:
	$(PY) -m pip install -r requirements.txt

test:
	$(PY) -m pytest -q

lint:
	lint-imports
	$(PY) -m ruff check src tests training
	$(PY) -m ruff format --check src tests training
	$(PY) -m mypy

bench:
	attune bench engine --json
	attune bench http --json
