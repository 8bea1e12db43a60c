"""Runtime loading of shipped ONNX models. No PyTorch here, and nothing is ever downloaded:
artifacts live in ``attune/models/artifacts/<name>/`` (model.onnx, labels.json, meta.json,
MODEL_CARD.md) or in a directory named by ATTUNE_MODELS_DIR for a company's own retrained models.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

ARTIFACTS = Path(__file__).parent / "artifacts"


class ModelNotFound(FileNotFoundError):
    pass


def artifact_dir(name: str) -> Path:
    """Where model ``name`` lives: a user override directory first, then the shipped artifacts."""
    override = os.environ.get("ATTUNE_MODELS_DIR")
    if override and (Path(override) / name).is_dir():
        return Path(override) / name
    path = ARTIFACTS / name
    if not path.is_dir():
        raise ModelNotFound(
            f"model {name!r} is not installed (looked in {path}); "
            f"train it with 'attune train ...' or set ATTUNE_MODELS_DIR"
        )
    return path


@dataclass(frozen=True)
class ModelBundle:
    name: str
    path: Path
    session: Any  # onnxruntime.InferenceSession
    labels: list[str]
    meta: dict[str, Any]

    @property
    def version(self) -> str:
        return str(self.meta.get("version", "0"))


def ort_session(path: Path, threads: int = 1) -> Any:
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


@lru_cache(maxsize=16)
def load_bundle(name: str, file: str = "model.onnx", threads: int = 1) -> ModelBundle:
    path = artifact_dir(name)
    labels_file = path / "labels.json"
    meta_file = path / "meta.json"
    labels = json.loads(labels_file.read_text()) if labels_file.exists() else []
    meta = json.loads(meta_file.read_text()) if meta_file.exists() else {}
    return ModelBundle(name, path, ort_session(path / file, threads), labels, meta)
