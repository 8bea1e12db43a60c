"""Finding and loading model distributions. No PyTorch here, and nothing is ever downloaded.

Weights live outside the code package, in installed *model distributions* (packages such as
``attune-models-open``) that declare an ``attune.models`` entry point naming a folder with a
``manifest.json`` (name, version, licence, data licences, commercial use, sha256 per file) and
one sub-folder per model (model.onnx, labels.json, meta.json, MODEL_CARD.md). A folder named by
``ATTUNE_MODELS_DIR`` (a company's own retrained models) is looked in first: its models load
without an opt-in (the operator put them there) and carry the licence their training declared in
meta.json (``attune train … --data-licence``), "undeclared" and no commercial use otherwise.

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
OWN_ENV = "ATTUNE_MODELS_DIR"
UNDECLARED = "undeclared (trained without --data-licence)"


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
    forget_loaded()


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


def _own_dir(name: str) -> Path | None:
    override = os.environ.get(OWN_ENV)
    path = Path(override) / name if override else None
    return path if path is not None and path.is_dir() else None


def _own_info(path: Path) -> ModelInfo:
    """An operator's own model, described by its meta.json (what its training declared)."""
    meta_file = path / "meta.json"
    meta = json.loads(meta_file.read_text()) if meta_file.is_file() else {}
    files = {p.name: file_sha256(p) for p in sorted(path.iterdir()) if p.is_file()}
    return ModelInfo(
        name=path.name,
        version=str(meta.get("version", "0")),
        path=path,
        distribution=OWN_ENV,
        licence=str(meta.get("licence", UNDECLARED)),
        data_licences=[str(d) for d in meta.get("data_licences", [])],
        commercial_use=bool(meta.get("commercial_use", False)),
        enabled_by_default=True,  # putting it in ATTUNE_MODELS_DIR is the operator's opt-in
        files=files,
    )


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def own_models() -> dict[str, ModelInfo]:
    """Every model folder (one with an .onnx file) in ``ATTUNE_MODELS_DIR``."""
    override = os.environ.get(OWN_ENV)
    root = Path(override) if override else None
    if root is None or not root.is_dir():
        return {}
    dirs = (p for p in sorted(root.iterdir()) if p.is_dir() and any(p.glob("*.onnx")))
    return {p.name: _own_info(p) for p in dirs}


def available() -> dict[str, ModelInfo]:
    """The models a lookup by name finds: the installed ones, an own model replacing its
    namesake (what ``attune models list`` and the audit report)."""
    return installed() | own_models()


def artifact_dir(name: str) -> Path:
    """Where model ``name`` lives: the override directory first, then the installed
    distributions (a model that needs an opt-in raises :class:`ModelNotEnabled`)."""
    own = _own_dir(name)
    if own is not None:
        return own
    info = installed().get(name)
    if info is None:
        raise ModelNotFound(
            f"model {name!r} is not installed: pip install the model distribution that holds "
            f"it (see models/ in the repository), train it with 'attune train ...', "
            f"or set {OWN_ENV}"
        )
    if not info.enabled:
        raise ModelNotEnabled(
            f"model {name!r} is trained on data that does not allow commercial use "
            f"({'; '.join(info.data_licences)}); enable it by name if your use is covered: "
            f"{ENABLE_ENV}={name}"
        )
    return info.path


def model_info(name: str) -> ModelInfo | None:
    """What model ``name`` is: the own model in ``ATTUNE_MODELS_DIR`` when there is one, else
    the manifest entry of the installed model (None when unknown)."""
    own = _own_dir(name)
    return _own_info(own) if own is not None else installed().get(name)


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


def load_bundle(name: str, file: str = "model.onnx", threads: int = 1) -> ModelBundle:
    """The model ``name`` (its ``file`` session, labels and meta), loaded once per folder it
    resolves to: pointing ATTUNE_MODELS_DIR elsewhere loads the other copy, not a stale one."""
    return _load_bundle(name, artifact_dir(name), file, threads)


@lru_cache(maxsize=16)
def _load_bundle(name: str, path: Path, file: str, threads: int) -> ModelBundle:
    labels_file = path / "labels.json"
    meta_file = path / "meta.json"
    labels = json.loads(labels_file.read_text()) if labels_file.exists() else []
    meta = json.loads(meta_file.read_text()) if meta_file.exists() else {}
    return ModelBundle(name, path, ort_session(path / file, threads), labels, meta)


def forget_loaded() -> None:
    """Drop the loaded sessions (after an opt-in changes, or a card writer swaps folders)."""
    _load_bundle.cache_clear()
