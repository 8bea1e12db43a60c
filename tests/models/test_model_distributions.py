"""Weights live in model distributions with manifests; a model whose data forbids commercial use
loads only when an operator names it, and the runtime still works without it."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from attune.cli import app
from attune.models import runtime
from attune.signals import registry
from attune.signals.base import SessionScratch
from attune.signals.voice.analyzer import VoiceAnalyzer
from attune.signals.voice.synth import vowel_speech


@pytest.fixture
def no_opt_in(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(runtime.ENABLE_ENV, raising=False)
    monkeypatch.setattr(runtime, "_ENABLED", set())
    runtime.forget_loaded()
    yield
    runtime.forget_loaded()


def test_manifests_match_the_files_they_list() -> None:
    models = runtime.installed()
    assert {"text-encoder", "voice-vad", "voice-emotion", "face-expression"} <= set(models)
    for info in models.values():
        assert info.files, info.name
        for name, digest in info.files.items():
            assert hashlib.sha256((info.path / name).read_bytes()).hexdigest() == digest, name


def test_models_list_json_names_licences_and_what_loads(no_opt_in: None) -> None:
    result = CliRunner().invoke(app, ["models", "list", "--json"])
    assert result.exit_code == 0, result.output
    rows = {m["name"]: m for m in json.loads(result.stdout)["models"]}
    keys = {"name", "version", "licence", "data_licences", "commercial_use", "sha256"}
    assert all(keys | {"enabled_by_default"} <= set(m) for m in rows.values())
    assert rows["text-encoder"]["commercial_use"] and rows["text-encoder"]["enabled"]
    for research in ("voice-emotion", "face-expression"):
        assert rows[research]["commercial_use"] is False
        assert rows[research]["enabled_by_default"] is False and not rows[research]["enabled"]


def test_research_models_stay_off_until_named(no_opt_in: None) -> None:
    with pytest.raises(runtime.ModelNotEnabled, match="ATTUNE_ENABLE_MODELS=face-expression"):
        runtime.artifact_dir("face-expression")
    with pytest.raises(registry.AnalyzerUnavailable, match="commercial use"):
        registry.build("face")
    runtime.enable(["face-expression"])
    assert runtime.artifact_dir("face-expression").is_dir()


def test_voice_without_the_emotion_model_gives_prosody_indicators(no_opt_in: None) -> None:
    analyzer = VoiceAnalyzer()
    assert analyzer.model is None and "prosody-only" in analyzer.source
    scratch = SessionScratch()
    calm = vowel_speech(20.0, f0=120, level=0.05, rate=4.0, seed=1).astype(np.float32)
    tense = vowel_speech(8.0, f0=190, level=0.3, rate=6.5, seed=2).astype(np.float32)
    calm_signals = analyzer.feed(scratch, "customer", calm, 20.0)
    tense_signals = analyzer.feed(scratch, "customer", tense, 28.0)
    assert calm_signals and tense_signals
    assert all(s.name == "arousal" and s.details["emotion_model"] == "off" for s in tense_signals)
    last = tense_signals[-1]
    assert last.value > 0.6 and "above this caller's baseline" in last.evidence
    assert last.cx["frustrated"] > 0 and 0 <= last.confidence <= 1


def test_own_models_load_without_opt_in_and_claim_only_what_they_declare(
    no_opt_in: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from attune.assembly import models_in_use

    own = tmp_path / "face-expression"  # replaces the research model of that name
    own.mkdir()
    (own / "model.onnx").write_bytes(b"not read here")
    (own / "meta.json").write_text(json.dumps({"version": "7"}))  # trained without a licence
    (tmp_path / "notes").mkdir()  # no .onnx file: not a model
    monkeypatch.setenv(runtime.OWN_ENV, str(tmp_path))
    assert set(runtime.own_models()) == {"face-expression"}
    assert runtime.artifact_dir("face-expression") == own  # no ATTUNE_ENABLE_MODELS needed
    info = runtime.available()["face-expression"]
    assert info == runtime.model_info("face-expression")
    assert info.enabled and info.distribution == runtime.OWN_ENV and info.version == "7"
    assert not info.commercial_use and info.licence == runtime.UNDECLARED
    assert models_in_use()["face-expression"] == f"7 sha256:{info.sha256[:16]}"  # audited
    assert "voice-emotion" not in models_in_use()  # research models stay off
