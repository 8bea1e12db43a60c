"""MODEL_CARD.md for the voice-emotion artifact, written from the training report's own figures."""

from __future__ import annotations

from typing import Any

LICENSE_NOTE = (
    "**The training data is licensed for non-commercial use only.** RAVDESS is CC BY-NC-SA 4.0 "
    "(non-commercial, share-alike); EmoDB is distributed free for research (republished as CC0 by "
    "audEERING). A model trained on them inherits that in practice: do not use this shipped model "
    "commercially. Retrain on your own labelled audio with `attune train voice --data my.csv` "
    "(columns `path,emotion[,speaker]`) and point `ATTUNE_MODELS_DIR` at the result."
)


def _row(name: str, s: dict[str, Any]) -> str:
    corp = " · ".join(f"{k} {v['uar']:.3f}" for k, v in s.get("by_corpus", {}).items())
    return (
        f"| {name} | {s['n']} | {s['uar']:.3f} | {s['accuracy']:.3f} | {s['macro_f1']:.3f} "
        f"| {corp} |"
    )


def _head(name: str, rep: dict[str, Any]) -> list[str]:
    lines = [
        "| test audio | n | UAR | accuracy | macro-F1 | UAR per corpus |",
        "|---|---|---|---|---|---|",
    ]
    for variant in ("clean", "phone", "noise"):
        if variant in rep:
            lines.append(_row(variant, rep[variant]))
    clean = rep.get("clean", {})
    lines += [
        "",
        "Per-class recall (clean): "
        + ", ".join(f"{k} {v:.2f}" for k, v in clean.get("per_class_recall", {}).items()),
    ]
    lines += [
        "",
        "Error rate by speaker sex and by corpus (clean / phone / noise):",
        "",
        "| group | n | clean | phone | noise |",
        "|---|---|---|---|---|",
    ]
    for key in ("by_sex", "by_corpus"):
        for g, v in clean.get(key, {}).items():
            cells = [
                f"{rep[x][key][g]['error_rate']:.3f}"
                for x in ("clean", "phone", "noise")
                if x in rep and g in rep[x][key]
            ]
            lines.append(f"| {g} | {v['n']} | " + " | ".join(cells) + " |")
    cal = rep.get("calibration", {})
    if cal:
        lines += [
            "",
            f"Calibration (clean, top-class, softmax of the SVM scores): ECE {cal['ece_raw']:.3f};"
            f" {cal['ece_calibrated']:.3f} with the log-loss-fitted temperature "
            f"{cal.get('temperature_nll', cal['temperature'])}. Shipped temperature: "
            f"{cal['temperature']} (kept only where it lowers the ECE; in meta.json).",
        ]
    return lines


def model_card(report: dict[str, Any]) -> str:
    cfg = report["config"]
    counts = report["counts"]
    lines = [
        "# voice-emotion — speech emotion from prosody (two heads, ONNX)",
        "",
        LICENSE_NOTE,
        "",
        "## What it is",
        f"Classes: {', '.join(cfg['classes'])}. Input: {len(report.get('features', [])) or 168} "
        "window-level prosodic features (pitch, loudness, voice-quality proxies, MFCC/mel and "
        "spectral shape, speaking rate, pauses; numpy/scipy code in `attune.signals.prosody`, "
        "Silero VAD for speech/pauses). Scaler + RBF SVM (one-vs-rest scores; probabilities = "
        "softmax(scores / temperature)), exported with skl2onnx.",
        "",
        "- `model.onnx` — **population head**: gain-invariant features of one clip, no caller "
        "history. Used by `attune eval voice` and for a caller's first seconds.",
        "- `model_spk.onnx` — **speaker head**: features minus the speaker's mean. At run time "
        "the mean is the caller's running baseline (shrunk to the population mean while young). "
        "The analyzer blends the two, weighting the speaker head more as the baseline grows.",
        "- Arousal and valence are the probability-weighted positions of the classes on the "
        "circumplex (`attune.signals.voice.emotion.CIRCUMPLEX`), not a separate regressor. "
        "CX states come from `taxonomy.VOICE_TO_CX`.",
        "",
        "## Data",
    ]
    for corpus, c in counts.items():
        lines.append(
            f"- {corpus}: {sum(c.values())} clips — "
            + ", ".join(f"{k} {v}" for k, v in sorted(c.items()))
        )
    lines += [
        f"- {report.get('speakers', '?')} speakers. Emotions outside the classes are not trained "
        "on. Augmentation (train folds only): telephone band (300–3400 Hz through 8 kHz), "
        "pink noise at 5–20 dB SNR, speed ×0.9/×1.1.",
        "",
        "## Training command",
        f"`{report.get('command', '')}` (seeded; {report.get('train_seconds', '?')} s here).",
        "",
        *_cache_note(report.get("command", "")),
        f"## Dev metrics — speaker-independent ({cfg['folds']}-fold, folds by speaker)",
        "Every clip is scored by a model that never heard its speaker. `phone` = the held-out "
        "clip through the 8 kHz telephone band; `noise` = pink noise at 5–20 dB SNR.",
        "",
    ]
    cv = report.get("cv", {})
    if "population" in cv:
        lines += ["### Population head (no speaker information: what `attune eval voice` uses)", ""]
        lines += _head("population", cv["population"])
        lines.append("")
    if "speaker" in cv:
        lines += [
            "### Speaker head (features minus the speaker's mean over all their clips)",
            "This is an upper bound for the live analyzer: there the mean comes from the "
            "caller's running baseline, which starts empty and sees one call only.",
            "",
        ]
        lines += _head("speaker", cv["speaker"])
        lines.append("")
    calls = cv.get("calls")
    if calls:
        pop, blend = calls["population_only"], calls["with_baseline"]
        lines += [
            "### Simulated calls: the caller's running baseline",
            "Each held-out speaker's clips in random order as one call, scored like live windows "
            "(population head first, then blended with the speaker head on features minus the "
            "running baseline, the analyzer's weights). Clean audio, same folds.",
            "",
            "| scoring | n | UAR | accuracy | macro-F1 |",
            "|---|---|---|---|---|",
            f"| population head only | {pop['n']} | {pop['uar']:.3f} | {pop['accuracy']:.3f} | "
            f"{pop['macro_f1']:.3f} |",
            f"| with the caller's baseline | {blend['n']} | {blend['uar']:.3f} | "
            f"{blend['accuracy']:.3f} | {blend['macro_f1']:.3f} |",
            "",
        ]
    bench = report.get("bench")
    if bench:
        lines += [
            "## Run time (`attune bench voice --json`, this 2-core machine, shared and busy)",
            f"- features + model, every 3 s window (hop 1 s): RTF {bench['rtf_features_model']} "
            f"per core; the whole live path (PCM16 frames, VAD, both heads): RTF "
            f"{bench['rtf_stream']} (target 0.02)",
            f"- latency from a window closing to its Signals: p50 {bench['window_latency_ms_p50']}"
            f" ms, p95 {bench['window_latency_ms_p95']} ms (target 200 ms)",
            f"- resident memory of the bench process: {bench['rss_mb']} MB; model load "
            f"{bench['model_load_s']} s",
            "",
        ]
    lines += [
        "## Limits",
        "- Acted, read speech by 25 actors (English and German). "
        "Spontaneous customer speech is subtler; expect lower accuracy on real calls.",
        "- EmoDB clips in this copy are cut at 2 s; RAVDESS uses two sentences only.",
        f"- Weakest classes (clean, population head): {_weakest(cv)}. Calm, surprise and "
        "boredom are not predicted (`attune eval voice` counts them in `n_skipped`).",
        "- `attune eval voice` scores every clip on its own with the population head: no "
        "speaker normalisation (the eval file has no speaker column, and none is inferred). "
        "The only normalisation is within the clip: levels relative to the clip's own 90th "
        "percentile level, and the mel spectrum minus its own mean (gain invariance).",
        "- Jitter/shimmer are frame-level proxies, not Praat's cycle-level measures.",
        "- Emotion is inferred from the voice only; it is a probability, not a fact about a "
        "person. Never use it for eligibility, price or credit decisions.",
        "",
        "## Licenses",
        "- Data: RAVDESS CC BY-NC-SA 4.0 (Livingstone & Russo 2018); EmoDB free for research "
        "(Burkhardt et al. 2005). Non-commercial.",
        "- VAD: Silero VAD (MIT), `voice-vad/` with its license.",
    ]
    return "\n".join(lines) + "\n"


def _weakest(cv: dict[str, Any]) -> str:
    rec = cv.get("population", {}).get("clean", {}).get("per_class_recall", {})
    low = sorted(rec, key=lambda k: rec[k])[:2]
    return ", ".join(f"{k} (recall {rec[k]:.2f})" for k in low) or "n/a"


def _cache_note(command: str) -> list[str]:
    if "--cache" not in command:
        return [""]
    return [
        "",
        "`--cache` only stores derived features (never audio): a run reads them back when the "
        "rows and variants match, else computes and saves them. Features are seeded per row, "
        "so a fresh run (any `--workers`) computes the same numbers. The first run of this "
        "command (features computed, 2 workers) took 243 s here; the rerun from the cache less.",
        "",
    ]
