"""Analyzer registry: modality -> factory. Heavy analyzers are imported lazily so that the
embedded default starts without them; a missing optional dependency gives an install hint."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

from attune.signals.base import Analyzer

# modality -> "module:factory". Adding an analyzer is one line here and one new module.
ANALYZERS: dict[str, str] = {
    "behaviour": "attune.signals.behaviour.analyzer:BehaviourAnalyzer",
    "text": "attune.signals.text.analyzer:TextAnalyzer",
    "voice": "attune.signals.voice.analyzer:VoiceAnalyzer",
    "face": "attune.signals.face.analyzer:FaceAnalyzer",
}


class AnalyzerUnavailable(RuntimeError):
    """An analyzer's module or model cannot be loaded here."""


def load_factory(modality: str) -> Callable[..., Analyzer]:
    try:
        target = ANALYZERS[modality]
    except KeyError as exc:
        raise AnalyzerUnavailable(f"no analyzer registered for modality {modality!r}") from exc
    module_name, _, attr = target.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise AnalyzerUnavailable(
            f"the {modality} analyzer needs an optional dependency ({exc.name}); "
            f"install it with: pip install 'attune[{modality}]'"
        ) from exc
    factory: Callable[..., Analyzer] = getattr(module, attr)
    return factory


def build(modality: str, **options: Any) -> Analyzer:
    return load_factory(modality)(**options)
