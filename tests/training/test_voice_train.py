"""``attune train voice`` / ``eval voice`` / ``bench voice`` end to end on tiny synthetic audio.

The clips are numbers-made vowels (no recordings): three "emotions" differ in pitch, tempo and
level, four "speakers" in their base pitch. A few seconds of training, no real data involved.
"""

from __future__ import annotations

import csv
import io
import json
import shutil
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from typer.testing import CliRunner

from attune.cli import app
from attune.models import runtime
from attune.signals.voice.analyzer import VoiceAnalyzer
from attune.signals.voice.audio_io import decode_audio
from attune.signals.voice.emotion import EmotionModel
from attune.signals.voice.features import extract
from attune.signals.voice.synth import vowel_speech
from attune_training.voice_data import read_table
from attune_training.voice_eval import read_as_calls

STYLES = {  # emotion -> (pitch factor, syllables/s, level)
    "anger": (1.6, 7.0, 0.35),
    "neutral": (1.0, 5.0, 0.15),
    "sad": (0.75, 3.5, 0.06),
}


@pytest.fixture(scope="module")
def tiny_set(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("voiceset")
    rows = []
    for s, base in enumerate((120.0, 140.0, 160.0, 180.0)):
        for emotion, (pf, rate, level) in STYLES.items():
            for k in range(3):
                x = vowel_speech(2.0, f0=base * pf, rate=rate, level=level, seed=100 * s + k)
                buf = io.BytesIO()
                sf.write(buf, x, 16000, format="WAV", subtype="PCM_16")
                rel = f"spk{s}/{emotion}_{k}.wav"
                (root / f"spk{s}").mkdir(exist_ok=True)
                (root / rel).write_bytes(buf.getvalue())  # test fixture, made from numbers
                rows.append((rel, emotion, f"spk{s}", "female" if s % 2 else "male"))
    rows.append(("spk0/anger_0.wav", "surprise", "spk0", "male"))  # a class the model lacks
    with (root / "labels.csv").open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["path", "emotion", "speaker", "gender"])
        w.writerows(rows)
    return root


def test_train_then_eval_then_load(
    tiny_set: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "models" / "voice-tiny"
    args = [
        "train",
        "voice",
        "--data",
        str(tiny_set / "labels.csv"),
        "--out",
        str(out),
        "--no-augment",
        "--folds",
        "2",
        "--classes",
        "anger,neutral,sad",
    ]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    for name in ("model.onnx", "model_spk.onnx", "labels.json", "meta.json", "MODEL_CARD.md"):
        assert (out / name).is_file()
    report = json.loads((out / "report.json").read_text())
    assert report["cv"]["population"]["clean"]["uar"] > 0.7  # chance is 0.33
    assert set(report["cv"]["speaker"]["clean"]["by_sex"]) == {"female", "male"}
    card = (out / "MODEL_CARD.md").read_text()
    assert "non-commercial" in card and "attune train voice" in card
    calls = report["cv"]["calls"]["with_baseline"]  # simulated calls, by corpus and by sex
    assert set(calls["uar_by_sex"]) == {"female", "male"} and calls["sex_gap"] is not None
    assert set(calls["uar_by_corpus"]) == {tiny_set.name}
    assert "| with the caller's baseline | 36 |" in card
    cal = report["cv"]["calls"]["blend_calibration"]  # the blend's own temperature
    assert cal["n"] > 0 and len(cal["temperature_by_fold"]) == 2
    assert 0 <= cal["ece_cross_fitted"] <= 1 and "Calibration of the blended readings" in card
    meta = json.loads((out / "meta.json").read_text())  # no --data-licence: nothing claimed
    assert meta["commercial_use"] is False and meta["licence"] == runtime.UNDECLARED
    assert meta["blend"]["temperature"] == cal["temperature"] > 0

    monkeypatch.setenv("ATTUNE_MODELS_DIR", str(out.parent))
    model = EmotionModel("voice-tiny")
    assert model.labels == ["anger", "neutral", "sad"]
    ev = CliRunner().invoke(
        app,
        [
            "eval",
            "voice",
            "--data",
            str(tiny_set / "labels.csv"),
            "--root",
            str(tiny_set),
            "--model",
            "voice-tiny",
            "--json",
        ],
    )
    assert ev.exit_code == 0, ev.output
    res = json.loads(ev.stdout)
    assert res["n"] == 36 and res["n_skipped"] == 1 and res["n_failed"] == 0
    # Every scored clip was a training clip: the eval says so, in the JSON and as a warning.
    assert res["n_overlap"] == 36 and res["overlap_share"] == 1.0
    assert "in this model's training data" in ev.stderr
    assert res["uar"] > 0.8 and set(res["per_class_recall"]) == {"anger", "neutral", "sad"}
    for key in ("accuracy", "macro_f1", "by_sex", "by_corpus", "confusion"):
        assert key in res
    assert res["by_corpus"].keys() == {f"spk{s}" for s in range(4)}  # first folder of the path
    # Every row names its speaker: read as four calls, as live; each clip alone beside it.
    assert res["scoring"] == "calls" and res["n_calls"] == 4 and res["order"] == "shuffled"
    assert res["per_clip"]["n"] == 36 and res["per_clip"]["uar"] > 0.8
    base = ["eval", "voice", "--data", str(tiny_set / "labels.csv"), "--root", str(tiny_set)]
    clips = CliRunner().invoke(
        app, [*base, "--model", "voice-tiny", "--json", "--scoring", "clips"]
    )
    alone = json.loads(clips.stdout)
    assert alone["scoring"] == "clips" and "per_clip" not in alone
    assert (
        alone["uar"] == res["per_clip"]["uar"]
        and alone["confusion"] == res["per_clip"]["confusion"]
    )
    phone = CliRunner().invoke(
        app,
        [
            "eval",
            "voice",
            "--data",
            str(tiny_set / "labels.csv"),
            "--root",
            str(tiny_set),
            "--model",
            "voice-tiny",
            "--json",
            "--channel",
            "phone",
            "--snr",
            "10",
        ],
    )
    assert phone.exit_code == 0 and json.loads(phone.stdout)["channel"] == "phone"
    # Without --root the paths are read beside the CSV, as `attune train voice` reads them.
    monkeypatch.chdir(tmp_path)
    beside = CliRunner().invoke(
        app, ["eval", "voice", "--data", str(tiny_set / "labels.csv"), "--model", "voice-tiny"]
    )
    assert beside.exit_code == 0, beside.output
    assert "n=36 skipped=1 failed=0" in beside.output


def test_own_data_with_a_declared_licence_loads_as_a_commercial_model(
    tiny_set: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(runtime.ENABLE_ENV, raising=False)
    monkeypatch.setattr(runtime, "_ENABLED", set())
    out = tmp_path / "models" / "voice-emotion"  # the analyzer's model name
    licence = "Acme support calls, recorded with the callers' consent to model training"
    args = ["train", "voice", "--data", str(tiny_set / "labels.csv"), "--out", str(out)]
    args += ["--no-augment", "--no-cv", "--folds", "2", "--classes", "anger,neutral,sad"]
    result = CliRunner().invoke(app, [*args, "--data-licence", licence, "--commercial-use"])
    assert result.exit_code == 0, result.output
    meta = json.loads((out / "meta.json").read_text())
    assert meta["data_licences"] == [licence] and meta["commercial_use"] is True
    card = (out / "MODEL_CARD.md").read_text()
    assert licence in card and "RAVDESS" not in card and "non-commercial" not in card
    assert f"- {tiny_set.name}: 37 clips — anger 12" in card  # which data: per CSV folder

    runtime.forget_loaded()
    monkeypatch.setenv(runtime.OWN_ENV, str(out.parent))
    try:
        info = runtime.model_info("voice-emotion")
        assert info is not None and info.distribution == runtime.OWN_ENV
        assert info.enabled and info.commercial_use and info.data_licences == [licence]
        analyzer = VoiceAnalyzer()  # no ATTUNE_ENABLE_MODELS: the own model loads anyway
        assert analyzer.model is not None and "prosody-only" not in analyzer.source
    finally:
        runtime.forget_loaded()


def test_train_with_the_ensemble_population_head(
    tiny_set: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "models" / "voice-ens"
    args = ["train", "voice", "--data", str(tiny_set / "labels.csv"), "--out", str(out)]
    args += ["--no-augment", "--folds", "2", "--classes", "anger,neutral,sad"]
    result = CliRunner().invoke(app, [*args, "--population", "ensemble"])
    assert result.exit_code == 0, result.output
    report = json.loads((out / "report.json").read_text())
    assert report["cv"]["population"]["clean"]["uar"] > 0.7  # nested, chance is 0.33
    chosen = report["selection"]["population"]
    assert chosen["features"] and sum(m["weight"] for m in chosen["members"]) == 1.0
    assert "Population head (`voice_ensemble.choose`)" in (out / "MODEL_CARD.md").read_text()
    monkeypatch.setenv("ATTUNE_MODELS_DIR", str(out.parent))
    model = EmotionModel("voice-ens")
    clips = [vowel_speech(2.0, f0=f0, seed=1) for f0 in (120.0, 260.0)]
    probs = model.population_probs(np.stack([extract(c)[0] for c in clips]))
    assert probs.shape == (2, 3) and np.allclose(probs.sum(axis=1), 1.0)


def test_training_refuses_bad_input(tiny_set: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("file,label\nx.wav,anger\n")
    r = CliRunner().invoke(app, ["train", "voice", "--data", str(bad), "--out", str(tmp_path)])
    assert r.exit_code == 2 and "path,emotion" in r.output
    missing = tmp_path / "missing.csv"
    missing.write_text("path,emotion,speaker\nnope.wav,anger,a\nnope2.wav,sad,b\n")
    r = CliRunner().invoke(
        app,
        ["train", "voice", "--data", str(missing), "--out", str(tmp_path / "m"), "--no-augment"],
    )
    assert r.exit_code == 2 and "not found" in r.output
    r = CliRunner().invoke(
        app, ["train", "voice", "--data", str(bad), "--out", str(tmp_path), "--population", "x"]
    )
    assert r.exit_code == 2 and "ensemble or svm" in r.output
    base = ["train", "voice", "--data", str(tiny_set / "labels.csv"), "--out", str(tmp_path / "v")]
    r = CliRunner().invoke(app, [*base, "--variants", "phone,clean"])
    assert r.exit_code == 2 and "must start with clean" in r.output
    r = CliRunner().invoke(app, [*base, "--variants", "clean,echo"])
    assert r.exit_code == 2 and "(unknown: echo)" in r.output
    r = CliRunner().invoke(app, [*base, "--variants", "clean,phone", "--no-augment"])
    assert r.exit_code == 2 and "leave out --variants" in r.output
    r = CliRunner().invoke(app, ["eval", "voice", "--data", str(tmp_path / "nope.csv"), "--json"])
    assert r.exit_code == 2 and "no such file" in r.output
    anonymous = tmp_path / "anonymous.csv"  # no speaker column: calls cannot be formed
    anonymous.write_text("path,emotion\nspk0/anger_0.wav,anger\n")
    r = CliRunner().invoke(
        app,
        ["eval", "voice", "--data", str(anonymous), "--root", str(tiny_set), "--scoring", "calls"],
    )
    assert r.exit_code == 2 and "speaker (or actor) column" in r.output
    r = CliRunner().invoke(
        app, ["eval", "voice", "--data", str(anonymous), "--root", str(tiny_set), "--order", "x"]
    )
    assert r.exit_code == 2 and "order one of shuffled, file" in r.output
    partly = tmp_path / "partly.csv"  # one row without its speaker: no calls, and it says why
    partly.write_text("path,emotion,speaker\nspk0/anger_0.wav,anger,spk0\nspk0/sad_0.wav,sad,\n")
    r = CliRunner().invoke(app, ["eval", "voice", "--data", str(partly), "--root", str(tiny_set)])
    assert "1 of 2 rows name no speaker" in r.output


def test_a_call_is_read_from_its_earlier_clips_only(
    tiny_set: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The caller's baseline holds only what came before: cutting a call short changes none of
    the readings before the cut, and the first clip of a call is the population head's."""
    out = tmp_path / "models" / "voice-calls"
    args = ["train", "voice", "--data", str(tiny_set / "labels.csv"), "--out", str(out)]
    args += [
        "--variants",
        "clean,phone",
        "--no-cv",
        "--folds",
        "2",
        "--classes",
        "anger,neutral,sad",
    ]
    assert CliRunner().invoke(app, args).exit_code == 0
    report = json.loads((out / "report.json").read_text())
    assert report["config"]["variants"] == ["clean", "phone"]  # as asked, the card says so too
    assert "variants: clean, phone" in (out / "MODEL_CARD.md").read_text()
    monkeypatch.setenv("ATTUNE_MODELS_DIR", str(out.parent))
    model = EmotionModel("voice-calls")
    rows = [r for r in read_table(tiny_set / "labels.csv") if r.emotion in model.labels]
    rows = [r for r in rows if r.speaker in ("spk0", "spk1")]
    read = [extract(decode_audio((tiny_set / r.path).read_bytes())[0].mean(axis=0)) for r in rows]
    x, prosody = np.stack([f for f, _ in read]), [p for _, p in read]
    whole = read_as_calls(model, x, prosody, rows, "file")
    cut = [i for i, r in enumerate(rows) if r.speaker == "spk0"][:4]  # spk0's call, cut short
    part = read_as_calls(model, x[cut], [prosody[i] for i in cut], [rows[i] for i in cut], "file")
    np.testing.assert_allclose(part, whole[cut])
    np.testing.assert_allclose(whole[cut[0]], model.population_probs(x[cut[0]])[0])
    assert not np.allclose(whole[cut[3]], model.population_probs(x[cut[3]])[0])
    # The same speaker id in two corpora is two callers: each call starts from no baseline.
    twice = [replace(rows[i], corpus=c) for c in ("a", "b") for i in cut]
    both = read_as_calls(model, x[cut + cut], [prosody[i] for i in cut + cut], twice, "file")
    np.testing.assert_allclose(both[:4], both[4:])

    # A blend temperature below 1 sharpens the blended reading (never the first window's, which
    # is the population head alone) and never changes which emotion is read.
    sharp = tmp_path / "models" / "voice-sharp"
    shutil.copytree(out, sharp)
    meta = json.loads((sharp / "meta.json").read_text())
    (sharp / "meta.json").write_text(json.dumps({**meta, "blend": {"temperature": 0.5}}))
    sharpened = EmotionModel("voice-sharp")
    assert model.blend_temperature == 1.0 and sharpened.blend_temperature == 0.5
    again = read_as_calls(sharpened, x, prosody, rows, "file")
    np.testing.assert_allclose(again[cut[0]], whole[cut[0]])
    assert (again.argmax(axis=1) == whole.argmax(axis=1)).all()
    later = [i for i in range(len(rows)) if not np.allclose(again[i], whole[i])]
    assert later and all(again[i].max() > whole[i].max() for i in later)
    (sharp / "meta.json").write_text(json.dumps({**meta, "blend": {"temperature": 0}}))
    runtime.forget_loaded()
    with pytest.raises(ValueError, match="blend temperature must be"):
        EmotionModel("voice-sharp")


def test_bench_reports_rtf_latency_memory() -> None:
    r = CliRunner().invoke(app, ["bench", "voice", "--json", "--seconds", "8"])
    assert r.exit_code == 0, r.output
    res = json.loads(r.stdout)
    assert res["audio_s"] == pytest.approx(8.0, abs=0.1)
    assert 0 < res["rtf_features_model"] < 0.2 and 0 < res["rtf_stream"] < 0.2
    assert res["windows"] == 5 and res["window_latency_ms_p95"] < 200
    assert res["rss_mb"] > 0 and np.isfinite(res["model_load_s"])


def test_parallel_feature_extraction_gives_the_same_features(tiny_set: Path) -> None:
    from attune_training.voice_run import features, load_rows, sources_from
    from attune_training.voice_train import TrainConfig

    rows, roots = load_rows(sources_from([tiny_set / "labels.csv"], tiny_set))
    progress = lambda name, total: lambda: None  # noqa: E731
    one = features(rows, roots, TrainConfig(variants=("clean", "noise"), workers=1), None, progress)
    two = features(rows, roots, TrainConfig(variants=("clean", "noise"), workers=2), None, progress)
    assert one.shape == (2, 37, one.shape[-1])
    assert np.array_equal(one, two)  # seeds follow the row, not the worker
    assert not np.array_equal(one[0], one[1])  # the noise variant is really augmented


def test_select_c_takes_the_smallest_c_within_the_tolerance(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from attune_training import voice_train as vt

    labels = np.asarray(["anger", "sad"] * 10, dtype=object)
    right = np.stack([(labels == "anger") * 1.0, (labels == "sad") * 1.0], axis=1)[None]
    hits = {0.3: 16, 1.0: 19, 3.0: 20}  # rows right out of 20 per C: UAR 0.8, 0.95, 1.0

    def fake_cv(x, labels_, speakers, cfg, c, progress=None, folds=None, classes=None):  # type: ignore[no-untyped-def]
        z = right.copy()
        z[0, hits[c] :] = z[0, hits[c] :, ::-1]  # the rest scored wrong
        return z, ["anger", "sad"]

    monkeypatch.setattr(vt, "cross_validate", fake_cv)
    x = np.zeros((1, 20, 4), np.float32)
    grid, classes = (3.0, 1.0, 0.3), ["anger", "sad"]
    cfg = vt.TrainConfig(classes=("anger", "sad"), c_tolerance=0.06)
    sel = vt.select_c(x, labels, ["s"] * 20, cfg, grid, 3, classes)
    assert sel.uar_by_c == {0.3: 0.8, 1.0: 0.95, 3.0: 1.0}
    assert sel.c == 1.0  # within 0.06 of the best; 0.3 is not
    cfg.c_tolerance = 0.0
    assert vt.select_c(x, labels, ["s"] * 20, cfg, grid, 3, classes).c == 3.0
