"""Finding and loading model distributions. No PyTorch here, and nothing is ever downloaded.

Weights live outside the code package, in installed *model distributions* (packages such as
``attune-models-open``) that declare an ``attune.models`` entry point naming a folder with a
``manifest.json`` (name, version, licence, data licences, commercial use, sha256 per file) and
one sub-folder per model (model.onnx, labels.json, meta.json, MODEL_CARD.md). A folder named by
``ATTUNE_MODELS_DIR`` (a company's own retrained models) is looked in first.

A model whose data forbids commercial use is found only once an operator enables it by name
(``ATTUNE_ENABLE_MODELS=voice-emotion,face-expression``, or ``all``).
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from functools import lru_cache
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

MANIFEST = "manifest.json"
ENABLE_ENV = "ATTUNE_ENABLE_MODELS"


class ModelNotFound(FileNotFoundError):
    pass


class ModelNotEnabled(ModelNotFound):
    """Installed, but its licence needs an operator's explicit opt-in."""


@dataclass(frozen=True)
class ModelInfo:
    """One installed model as its distribution's manifest describes it."""

    name: str
    version: str
    path: Path
    distribution: str
    licence: str
    data_licences: list[str]
    commercial_use: bool
    enabled_by_default: bool
    files: dict[str, str] = field(default_factory=dict)  # file -> sha256

    @property
    def sha256(self) -> str:
        """One digest over the model's files (name and sha256 of each), for audit entries."""
        text = "\n".join(f"{k} {v}" for k, v in sorted(self.files.items()))
        return hashlib.sha256(text.encode()).hexdigest()

    @property
    def enabled(self) -> bool:
        return self.enabled_by_default or self.name in enabled_by_operator()

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "version": self.version,
            "distribution": self.distribution,
            "licence": self.licence,
            "data_licences": self.data_licences,
            "commercial_use": self.commercial_use,
            "enabled_by_default": self.enabled_by_default,
            "enabled": self.enabled,
            "sha256": self.sha256,
            "path": str(self.path),
        }


_ENABLED: set[str] = set()  # from the settings (``Settings.enable_models``), see ``enable``


def enable(names: list[str]) -> None:
    """Opt in to models by name for this process (the assembly passes the settings' list)."""
    _ENABLED.update(names)
    load_bundle.cache_clear()


def enabled_by_operator() -> set[str]:
    names = {n.strip() for n in os.environ.get(ENABLE_ENV, "").split(",") if n.strip()}
    names |= _ENABLED
    if "all" in names:
        return {m.name for m in installed().values()}
    return names


def _distribution_dirs() -> list[tuple[str, Path]]:
    found = []
    for ep in entry_points(group="attune.models"):
        module = ep.load()
        found.append((ep.dist.name if ep.dist else ep.name, Path(module.__file__).parent))
    return sorted(found)


@lru_cache(maxsize=1)
def installed() -> dict[str, ModelInfo]:
    """Every model of every installed distribution (first one wins on a name clash)."""
    models: dict[str, ModelInfo] = {}
    for dist, folder in _distribution_dirs():
        manifest = json.loads((folder / MANIFEST).read_text())
        for name, entry in manifest["models"].items():
            models.setdefault(
                name,
                ModelInfo(
                    name=name,
                    version=str(entry.get("version", "0")),
                    path=folder / name,
                    distribution=dist,
                    licence=str(entry["licence"]),
                    data_licences=list(entry.get("data_licences", [])),
                    commercial_use=bool(entry["commercial_use"]),
                    enabled_by_default=bool(entry.get("enabled_by_default", True)),
                    files=dict(entry.get("files", {})),
                ),
            )
    return models


def artifact_dir(name: str) -> Path:
    """Where model ``name`` lives: the override directory first, then the installed
    distributions (a model that needs an opt-in raises :class:`ModelNotEnabled`)."""
    override = os.environ.get("ATTUNE_MODELS_DIR")
    if override and (Path(override) / name).is_dir():
        return Path(override) / name
    info = installed().get(name)
    if info is None:
        raise ModelNotFound(
            f"model {name!r} is not installed: pip install the model distribution that holds "
            f"it (see models/ in the repository), train it with 'attune train ...', "
            f"or set ATTUNE_MODELS_DIR"
        )
    if not info.enabled:
        raise ModelNotEnabled(
            f"model {name!r} is trained on data that does not allow commercial use "
            f"({'; '.join(info.data_licences)}); enable it by name if your use is covered: "
            f"{ENABLE_ENV}={name}"
        )
    return info.path


def model_info(name: str) -> ModelInfo | None:
    """The manifest entry of an installed model (None for an override or unknown model)."""
    override = os.environ.get("ATTUNE_MODELS_DIR")
    if override and (Path(override) / name).is_dir():
        return None
    return installed().get(name)


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
