"""MODEL_CARD.md for the voice-emotion artifact, written from the training report's own figures."""

from __future__ import annotations

from typing import Any

from attune_training.own_data import card_lines, declared

RETRAIN = "attune train voice --data my.csv --data-licence TEXT [--commercial-use]"
LICENSE_NOTE = (
    "**The training data is licensed for non-commercial use only.** RAVDESS is CC BY-NC-SA 4.0 "
    "(non-commercial, share-alike); EmoDB is distributed free for research (republished as CC0 by "
    "audEERING). A model trained on them inherits that in practice: do not use this shipped model "
    "commercially. Retrain on your own labelled audio with `attune train voice --data my.csv "
    "--data-licence TEXT` (columns `path,emotion[,speaker][,gender]`) and point "
    "`ATTUNE_MODELS_DIR` at the result."
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
            "Calibration (clean, top-class, softmax of the head's scores): "
            f"ECE {cal['ece_raw']:.3f};"
            f" {cal['ece_inner_temperature']:.3f} with each outer fold's scores divided by the "
            "temperature its inner folds fitted (log-loss), "
            + ", ".join(f"{t:g}" for t in cal.get("inner_temperatures", []))
            + ".",
        ]
    sel = rep.get("selection")
    if sel and "members" in sel[0]:
        from attune_training.voice_ensemble import describe

        lines += [
            "",
            "Chosen by the inner speaker folds of each outer fold (inner UAR in brackets): "
            + "; ".join(f"fold {c['fold']}: {describe(c)} ({c['inner_uar']:.3f})" for c in sel)
            + ".",
        ]
    elif sel:
        lines += [
            "",
            "C chosen by the inner speaker folds of each outer fold (inner UAR per C in "
            "brackets): "
            + "; ".join(
                f"fold {c['fold']}: C={c['c']:g} ("
                + ", ".join(f"{float(k):g}: {v:.3f}" for k, v in c["inner_uar_by_c"].items())
                + ")"
                for c in sel
            )
            + ".",
        ]
    return lines


def model_card(report: dict[str, Any]) -> str:
    cfg = report["config"]
    counts = report["counts"]
    own = report.get("declared") or {}
    lines = [
        "# voice-emotion — speech emotion from prosody (two heads, ONNX)",
        "",
        *(card_lines(own, RETRAIN) if declared(own) else [LICENSE_NOTE]),
        "",
        "## What it is",
        f"Classes: {', '.join(cfg['classes'])}. Input: {len(report.get('features', [])) or 168} "
        "window-level prosodic features (pitch, loudness, voice-quality proxies, MFCC/mel and "
        "spectral shape, speaking rate, pauses; numpy/scipy code in `attune.signals.voice`, "
        "Silero VAD for speech/pauses). Speaker head: scaler + RBF SVM (one-vs-rest scores). "
        + (
            "Population head: an ensemble (`attune_training.voice_ensemble`) of an RBF SVM, "
            "a logistic regression and extremely randomised trees on a feature subset, trained "
            "with every (corpus, class) cell weighted the same; its scores are the weighted sum "
            "of the members' temperature-scaled log-probabilities. "
            if cfg.get("population") == "ensemble"
            else "Population head: the same kind of SVM. "
        )
        + "Probabilities = softmax(scores / temperature); one ONNX graph per head "
        "(skl2onnx, members joined with onnx).",
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
        "on. Augmentation (training speakers only; variants: "
        + ", ".join(cfg.get("variants", []))
        + "): telephone band (300–3400 Hz through 8 kHz), pink noise at 5–20 dB SNR, speed "
        "×0.9/×1.1 (pitch and tempo), reverberation (synthetic room, RT60 0.2–0.7 s), pitch "
        "±1–2 semitones at the same tempo, tempo ×0.85/×1.15 at the same pitch (phase vocoder), "
        "telephone band plus noise at 10–25 dB.",
        "",
        "## Training command",
        f"`{report.get('command', '')}` (seeded; {report.get('train_seconds', '?')} s here).",
        "",
        *_cache_note(report.get("command", "")),
        f"## Dev metrics — nested, speaker-independent ({cfg['folds']} outer folds by speaker,"
        f" {cfg.get('inner_folds', 3)} inner)",
        "Every clip is scored by a model that never heard its speaker, and every choice (C of "
        "each head, the population head's features, members and weights, temperatures) was "
        "made by inner speaker folds inside the outer training "
        "speakers, never on the scored clips. `phone` = the held-out clip through the 8 kHz "
        "telephone band; `noise` = pink noise at 5–20 dB SNR.",
        "",
    ]
    fsel = report.get("selection")
    if fsel:
        lines += ["### Shipped hyper-parameters", ""]
        for head, v in fsel.items():
            if "members" in v:
                lines.append(
                    f"- {head} head: {v['choice']}; temperature {v['temperature']:g}; chosen by "
                    f"{cfg.get('inner_folds', 3)} speaker folds over all training speakers "
                    f"(inner UAR {v['inner_uar']:.3f}), the same procedure the nested figures "
                    "measure."
                )
                continue
            lines.append(
                f"- {head} head: C={v['c']:g}, chosen by {cfg['folds']} speaker folds over all "
                "training speakers (UAR per C: "
                + ", ".join(f"{float(k):g}: {u:.3f}" for k, u in v["uar_by_c"].items())
                + f"); temperature {v['temperature']:g} (log-loss fit {v['temperature_nll']:g} on"
                f" those out-of-fold scores, ECE {v['ece_raw']:.3f} -> {v['ece_temperature']:.3f};"
                " shipped only where it lowers the ECE)."
            )
        lines.append("")
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
    loco = cv.get("leave_one_corpus_out")
    if loco:
        lines += [
            "### Leave one corpus out (population head): a corpus never heard",
            "Trained on the other corpus only (every choice made by inner speaker folds there), "
            "scored on every clip of the left-out corpus, six shared classes.",
            "",
            "| left out | trained on | chosen | n | UAR clean | UAR phone | ECE clean "
            "| UAR female / male |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for held, v in loco.items():
            c, ph = v.get("clean", {}), v.get("phone", {})
            sex = " / ".join(f"{g['uar']:.3f}" for g in c.get("by_sex", {}).values())
            lines.append(
                f"| {held} | {', '.join(v['trained_on'])} | {v['choice']} | {c.get('n', 0)} | "
                f"{c.get('uar', 0):.3f} | {ph.get('uar', 0):.3f} | {c.get('ece', 0):.3f} "
                f"| {sex} |"
            )
        lines.append("")
    calls = cv.get("calls")
    if calls:
        lines += [
            "### Simulated calls: the caller's running baseline",
            "Each held-out speaker's clips in random order as one call, scored like live windows "
            "(population head first, then blended with the speaker head on features minus the "
            "running baseline, the analyzer's weights). Clean audio, same outer folds, C and "
            "temperature as each fold's inner folds chose them. `attune eval voice` reads a file "
            "whose rows name their speakers the same way.",
            "",
            "| scoring | n | UAR | accuracy | macro-F1 | UAR per corpus | per-sex gap |",
            "|---|---|---|---|---|---|---|",
            _calls_row("population head only", calls["population_only"]),
            _calls_row("with the caller's baseline", calls["with_baseline"]),
            "",
            *_blend_calibration(calls.get("blend_calibration", {})),
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
        "## Where each choice was made",
        *_ensemble_choices(cfg),
        "- C of the speaker head (and of an SVM population head): grid and rule in "
        "`TrainConfig` (best speaker-folds UAR; ties, and "
        f"anything within c_tolerance={cfg.get('c_tolerance', 0)}, go to the smaller C); the "
        "figures above are nested (inner speaker folds chose C inside each outer fold), the "
        "shipped C by speaker folds over all training speakers. The grid's upper end (10, not "
        "30) was set after a leave-one-corpus-out screen at fixed C showed that a larger C (the "
        "winner inside one corpus) loses up to 0.18 UAR on the other corpus, and c_tolerance 0 "
        "after 0.01 was compared on the outer folds: the figures are not blind to those two "
        "choices.",
        "- Temperature of each head: log-loss fit on the speaker-folds out-of-fold scores of the "
        "chosen C (shipped only where it lowers the ECE there); the ECE reported above applies "
        "each outer fold's inner temperature.",
        "- Augmentation settings (SNRs, RT60, pitch steps, tempo factors): fixed in "
        "`voice_data.AUGMENTS`, not tuned. Features: unchanged from the previous version.",
        "- Analyzer blend (`attune.signals.voice.emotion`): half the speaker head's share after "
        "`SPEAKER_HEAD_HALF` windows, chosen by inner speaker folds in a separate nested "
        "simulated-call experiment (the most frequent inner choice over 6 outer folds); its "
        "maximum `SPEAKER_HEAD_MAX` was lowered from 0.8 to 0.6 on 2026-12-06 by a rule "
        "checked on a held-out 9-speaker split after a screen across corpora (the shipped "
        "model card's section on it). Neither was chosen on this run's outer folds; the "
        "simulated-calls figures above use the values in the code when the card was written.",
        "",
        "## Limits",
        *([] if declared(own) else RESEARCH_LIMITS),
        f"- Weakest classes (clean, population head): {_weakest(cv)}. Calm, surprise and "
        "boredom are not predicted (`attune eval voice` counts them in `n_skipped`).",
        "- `attune eval voice` reads a file whose rows all name their speaker as calls: each "
        "speaker's clips in a seeded random order, each read against that speaker's earlier "
        "clips (the running baseline), as live. That order mixes emotions, which suits the "
        "baseline; a caller upset from the first second gives it less to go on. Without a "
        "speaker column each clip is read alone by the population head (`per_clip` otherwise), "
        "normalised only within the clip: levels relative to its own 90th percentile level, and "
        "the mel spectrum minus its own mean (gain invariance).",
        *_loco_limit(cv),
        "- Jitter/shimmer are frame-level proxies, not Praat's cycle-level measures.",
        "- Emotion is inferred from the voice only; it is a probability, not a fact about a "
        "person. Never use it for eligibility, price or credit decisions.",
        "",
        "## Licenses",
        *(
            [f"- Data: {'; '.join(own['data_licences'])} (declared with `--data-licence`)."]
            if declared(own)
            else RESEARCH_LICENCES
        ),
        "- VAD: Silero VAD (MIT), `voice-vad/` with its license.",
    ]
    return "\n".join(lines) + "\n"


RESEARCH_LIMITS = [  # the shipped model's corpora (a model trained without --data-licence)
    "- Acted, read speech by 25 actors (English and German). "
    "Spontaneous customer speech is subtler; expect lower accuracy on real calls.",
    "- EmoDB clips in this copy are cut at 2 s; RAVDESS uses two sentences only.",
]
RESEARCH_LICENCES = [
    "- Data: RAVDESS, Creative Commons Attribution-NonCommercial-ShareAlike 4.0 (Livingstone "
    "& Russo 2018, PLoS ONE 13(5): e0196391; Zenodo doi:10.5281/zenodo.1188976): "
    "attribution, non-commercial use only, derivatives under the same licence. EmoDB "
    "(Burkhardt et al. 2005, Interspeech): distributed by its authors free for research "
    "with a request to cite, no formal licence (republished by audEERING as CC0 1.0). "
    "Together: research / non-commercial use only (`commercial_use: false`).",
]


def _ensemble_choices(cfg: dict[str, Any]) -> list[str]:
    if cfg.get("population") != "ensemble":
        return []
    from attune_training.voice_ensemble import FEATURE_SETS, GRIDS, WEIGHT_STEP

    return [
        "- Population head (`voice_ensemble.choose`): the feature subset ("
        + ", ".join(FEATURE_SETS)
        + "), SVM C ("
        + ", ".join(f"{c:g}" for c in GRIDS["svm"])
        + "), logistic C ("
        + ", ".join(f"{c:g}" for c in GRIDS["logreg"])
        + f"), the members' weights (simplex grid, step {WEIGHT_STEP:g}), each member's "
        "temperature and the head's temperature (log-loss) are chosen by inner speaker folds "
        "(best inner UAR; ties to the smaller C and the more even mix): inside each outer "
        "fold's training speakers for the nested figures, inside the training corpus for leave "
        f"one corpus out, and by {cfg.get('inner_folds', 3)} speaker folds over all speakers "
        "for the shipped head. Fixed a priori, not tuned: (corpus, class) balancing, the tree "
        "settings, the grids themselves.",
    ]


def _loco_limit(cv: dict[str, Any]) -> list[str]:
    loco = cv.get("leave_one_corpus_out") or {}
    uars = [v["clean"]["uar"] for v in loco.values() if "clean" in v]
    eces = [v["clean"]["ece"] for v in loco.values() if "ece" in v.get("clean", {})]
    if not uars:
        return []
    return [
        "- A corpus never heard is much harder than a speaker never heard (leave one corpus out: "
        f"UAR {min(uars):.2f}-{max(uars):.2f}"
        + (f", ECE {min(eces):.2f}-{max(eces):.2f}" if eces else "")
        + "): retrain on your own recordings before relying on it."
    ]


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
        "so a fresh run (any `--workers`) computes the same numbers; the time above excludes "
        "feature extraction when the cache was read.",
        "",
    ]


def _blend_calibration(cal: dict[str, Any]) -> list[str]:
    if "temperature" not in cal:
        return []
    folds = ", ".join(f"{t:g}" for t in cal["temperature_by_fold"])
    return [
        f"Calibration of the blended readings (the {cal['n']} windows read with a baseline): "
        f"mean top probability {cal['mean_top_p']:.3f} against an accuracy of "
        f"{cal['accuracy']:.3f}, ECE {cal['ece']:.3f}. Averaging two heads that disagree lowers "
        "the top probability, so the blend has its own temperature: shipped "
        f"{cal['temperature']:g} (`blend.temperature` in meta.json, fitted on all these calls). "
        f"Cross-fitted (each fold's readings by a temperature fitted on the other folds' calls: "
        f"{folds}), the ECE is {cal['ece_cross_fitted']:.3f} and the mean top probability "
        f"{cal['mean_top_p_cross_fitted']:.3f}. A temperature never changes which emotion is "
        "read.",
        "",
    ]


def _calls_row(name: str, fig: dict[str, Any]) -> str:
    corpora = " · ".join(f"{k} {v:.3f}" for k, v in fig.get("uar_by_corpus", {}).items())
    gap = fig.get("sex_gap")
    return (
        f"| {name} | {fig['n']} | {fig['uar']:.3f} | {fig['accuracy']:.3f} | "
        f"{fig['macro_f1']:.3f} | {corpora or 'n/a'} | {'n/a' if gap is None else f'{gap:.3f}'} |"
    )
