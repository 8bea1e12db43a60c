"""The modality registry: every modality's ``ModalitySpec``, in one place.

Adding a modality is one folder (``signals/<name>/`` with its analyzer and a ``SPEC``) and one
line in ``_BUILT_IN`` (or ``register(spec)`` from a plugin or a test). Everything else — consent,
gate, fusion, retention, revocation, export and erasure, API and CLI — iterates this registry.
Analyzers are imported lazily, so the embedded default starts without the heavy ones; a missing
optional dependency gives an install hint.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

from attune.signals.base import Analyzer, Signal
from attune.signals.spec import ModalitySpec

_BUILT_IN = (
    "attune.signals.behaviour",
    "attune.signals.text",
    "attune.signals.voice",
    "attune.signals.face",
)
_SPECS: dict[str, ModalitySpec] = {}


class AnalyzerUnavailable(RuntimeError):
    """An analyzer's module or model cannot be loaded here."""


def register(spec: ModalitySpec) -> ModalitySpec:
    """Add (or replace) a modality; the registry's views below see it at once."""
    taken = {k: m for m in _SPECS.values() if m.name != spec.name for k in m.event_kinds}
    clash = [k for k in spec.event_kinds if k in taken]
    if clash:
        raise ValueError(f"event kind {clash[0]!r} is read by {taken[clash[0]].name} already")
    _SPECS[spec.name] = spec
    return spec


def unregister(name: str) -> None:
    _SPECS.pop(name, None)


for _module in _BUILT_IN:
    register(importlib.import_module(_module).SPEC)


def specs() -> tuple[ModalitySpec, ...]:
    return tuple(_SPECS.values())


def names() -> tuple[str, ...]:
    return tuple(_SPECS)


def enabled(configured: list[str] | None) -> list[str]:
    """The modalities a deployment runs: those configured, else every registered one."""
    return list(configured) if configured is not None else list(_SPECS)


def spec(name: str) -> ModalitySpec:
    try:
        return _SPECS[name]
    except KeyError as exc:
        raise ValueError(f"unknown modality {name!r}; use one of {', '.join(_SPECS)}") from exc


def modality_of_kind(kind: str) -> str | None:
    """The modality whose analyzer reads gated events of ``kind`` (None: outcomes, feedback…)."""
    for m in _SPECS.values():
        if kind in m.event_kinds:
            return m.name
    return None


def biometric() -> frozenset[str]:
    return frozenset(m.name for m in _SPECS.values() if m.biometric)


def load_factory(modality: str) -> Callable[..., Analyzer]:
    if modality not in _SPECS:
        raise AnalyzerUnavailable(f"no analyzer registered for modality {modality!r}")
    target = _SPECS[modality]
    try:
        factory: Callable[..., Analyzer] = _resolve(target.analyzer)
    except ImportError as exc:
        hint = f"pip install 'attune[{target.extra}]'" if target.extra else "reinstall attune"
        raise AnalyzerUnavailable(
            f"the {modality} analyzer needs an optional dependency ({exc.name}); "
            f"install it with: {hint}"
        ) from exc
    return factory


def _resolve(target: str) -> Any:
    """The object a ``"module:name"`` string in a spec names (imported on first use)."""
    module_name, _, attr = target.partition(":")
    return getattr(importlib.import_module(module_name), attr)


def unconsented_signals(modality: str, event: Any) -> list[Signal]:
    """What an event of ``modality`` without consent may still yield (see
    ``ModalitySpec.unconsented``): service signals with no CX evidence, or nothing."""
    target = _SPECS.get(modality)
    if target is None or target.unconsented is None:
        return []
    read: Callable[[Any], list[Signal]] = _resolve(target.unconsented)
    return [s for s in read(event) if not s.cx]  # never emotional evidence, whatever it says


def build(modality: str, **options: Any) -> Analyzer:
    return load_factory(modality)(**options)
