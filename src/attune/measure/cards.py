"""The abandonment model's MODEL_CARD.md, written from the figures of the training run."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def _row(name: str, m: dict[str, Any]) -> str:
    return (
        f"| {name} | {m['n']} | {m['auroc']:.4f} | {m['f1']:.4f} | {m['accuracy']:.4f} | "
        f"{m['brier']:.4f} | {m['ece']:.4f} | {m['threshold']:.2f} |"
    )


def write_abandonment_card(
    out: Path, meta: dict[str, Any], data: Path, seed: int, folds: int, small: bool
) -> None:
    cmd = f"attune train abandonment --data {data} --seed {seed} --folds {folds}" + (
        " --small" if small else ""
    )
    groups = "\n".join(
        f"| {g} | {v['n']} | {v['purchase_rate']:.3f} | {v['error_rate']:.3f} |"
        for g, v in meta["dev_groups"].items()
    )
    cal = meta.get("calibration") or {}
    dev, cv = meta["dev_split"], meta["cv"]
    size = "20 + 60" if small else "300 + 500"
    text = f"""# Abandonment risk model (`abandonment` v{meta["version"]})

Predicts whether an e-commerce session ends in a purchase from session-level behaviour
(page counts and durations per page type, bounce and exit rates, page values, month, visitor
type, weekend, traffic source). At run time `attune.signals.behaviour.abandonment.abandonment_risk`
returns 1 - P(purchase) with a plain-words reason; the behaviour analyzer can emit it as the
`abandonment_risk` signal where these features exist. Inference is one ONNX Runtime call on
one thread plus a two-number Platt scaling; no network access.

## Data
UCI "Online Shoppers Purchasing Intention" (Sakar et al. 2019), the developers' 80 % split
(`train.csv`, {meta["rows"]} sessions, purchase rate {meta["purchase_rate"]:.3f}). The hidden 20 %
was not used. Licence of the data: CC BY 4.0 (UCI); cite the paper.

## Model
Soft vote (equal weights) of extremely randomised trees (class-balanced, min 10 rows per leaf,
30 % of features per split) and gradient boosting (depth 3, learning rate 0.02, subsample 0.8)
with {size} trees, on {len(meta["features"])} engineered features: log1p of counts,
durations and page value (the raw heavy-tailed columns are left out), page-value indicator
and ratios, duration per page, product share, exit minus bounce, month, visitor-type and
traffic-type indicators, weekend. Exported with skl2onnx (max |ONNX - sklearn| on 500 rows:
{meta["onnx_max_abs_diff"]:.1e}).

**Calibration.** The vote's score is Platt-scaled, P = sigmoid(a * logit(score) + b) with
a = {cal.get("a", float("nan")):.3f}, b = {cal.get("b", float("nan")):.3f}, fitted on
{folds}-fold out-of-fold scores of the training rows (stored in `meta.json`, applied by
`purchase_probability`). ECE of the predicted class's probability (10 bins), out of fold:
{cv.get("ece_uncalibrated", float("nan")):.4f} before scaling, {cv["ece"]:.4f} after; dev split
{dev.get("ece_uncalibrated", float("nan")):.4f} before, {dev["ece"]:.4f} after.
**Threshold.** Purchase threshold {meta["threshold"]:.2f}: the cut-off on calibrated
probabilities that maximises purchase-class F1 on the out-of-fold predictions (chosen on
training rows only, never on the dev split).

## Training command
```
{cmd}
```
The dev figures can be reproduced with the eval contract on a model that never saw the dev rows:
```
attune train abandonment --data {data} --seed {seed} --split-out split/
attune train abandonment --data split/train_part.csv --out devmodels/abandonment --seed {seed}
ATTUNE_MODELS_DIR=devmodels attune eval abandonment --data split/dev.csv --json
```

## Metrics (from this run)
| evaluation | n | AUROC | purchase F1 | accuracy | Brier | ECE | threshold |
|---|---|---|---|---|---|---|---|
{_row(f"dev split (seeded stratified 20 %, seed {seed})", dev)}
{_row(f"{folds}-fold CV, all rows (out of fold)", cv)}

The dev-split model, calibration and threshold were fitted on the other 80 % only.

Targets were AUROC >= 0.945 and purchase F1 >= 0.72; this model is below both on our splits.
Previous version (v1: gradient boosting + random forest + logistic regression, no calibration):
dev AUROC 0.9331, F1 0.6765; CV AUROC 0.9316, F1 0.6875.
What was tried for v2 (2 x 5-fold CV on train.csv, seeds 0 and 1; AUROC / best-threshold F1):
histogram gradient boosting 0.9328 / 0.687 (slower, 8 leaves, 600 rounds: 0.9332 / 0.688);
this gradient boosting alone 0.9312 / 0.685; random forest 0.9284 / 0.682; logistic
regression 0.9224 / 0.676; spline logistic regression 0.9194 / 0.676; MLP 0.9249 / 0.672;
extremely randomised trees on all features 0.9338 / 0.685, on the log features 0.9357 / 0.693,
class-balanced 0.9361 / 0.693, with page value monotone 0.9348 / 0.693. Blends: with gradient
boosting 0.9359 / 0.692, with histogram boosting 0.9363 / 0.696, all seven models 0.9345 / 0.690.
Twelve more features (page value x product pages, page value / exit rate, duration per page of
each type, bounce and exit rate x pages, OS, browser, region, traffic type, month index) each
moved histogram boosting by at most 0.0005 AUROC (all twelve: 0.9330 vs 0.9328). Every variant
stays within 0.919-0.937 AUROC and 0.67-0.70 F1: the gap is not one of tuning or model family.
Purchases in sessions whose page value is 0 (about a fifth of all purchases) carry almost no
signal in these columns, which caps both AUROC and F1.

## Error rates per group (dev split)
| group | n | purchase rate | error rate |
|---|---|---|---|
{groups}

## Limits
- One online shop over one year: page values, months and traffic sources are specific to it.
  Retrain on your own sessions before trusting the scores.
- Page value (Google Analytics' value of pages before a transaction) dominates; where it is not
  available the model loses most of its power and the risk is near the base rate.
- Calibration was fitted on this shop's base rate (15.5 % purchases); with another base rate
  the probabilities shift and the F1 threshold is no longer optimal.
- The score predicts purchase, not emotion: a low purchase probability is one behaviour signal
  among others, never a reason to treat a person differently in price or eligibility.
"""
    (out / "MODEL_CARD.md").write_text(text)
