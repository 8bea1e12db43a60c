"""What a model trained on an operator's own data declares about that data.

``attune train voice|face --data-licence TEXT [--commercial-use]`` writes the declaration into
the artifact's meta.json, where the runtime reads it for a model found in ``ATTUNE_MODELS_DIR``
(``attune models list`` shows it), and into MODEL_CARD.md. Nothing is checked: the licence is
what the person who trained the model says about data they hold.
"""

from __future__ import annotations

from typing import Any

from attune.models.runtime import UNDECLARED

OWN_LICENCE = "Apache-2.0 (code); weights yours, bound by the data licences declared in training"


def declaration(data_licences: list[str], commercial_use: bool) -> dict[str, Any]:
    """The meta.json fields; without a declared licence, no commercial use is claimed."""
    declared = [d.strip() for d in data_licences if d.strip()]
    if commercial_use and not declared:
        raise ValueError("--commercial-use needs --data-licence: say what the data allows")
    return {
        "licence": OWN_LICENCE if declared else UNDECLARED,
        "data_licences": declared,
        "commercial_use": commercial_use,
    }


def declared(meta: dict[str, Any]) -> bool:
    return bool(meta.get("data_licences"))


def card_lines(meta: dict[str, Any], retrain: str) -> list[str]:
    """The card's licence paragraph for a model trained on declared data."""
    use = "yes" if meta.get("commercial_use") else "no"
    return [
        "**Trained on the operator's own data**, with the licence its trainer declared "
        "(`--data-licence`; not checked by Attune):",
        "",
        *(f"- Data: {d}" for d in meta.get("data_licences", [])),
        f"- Commercial use (declared, `--commercial-use`): {use}",
        f"- Weights: {meta.get('licence', UNDECLARED)}",
        "",
        f"Retrain: `{retrain}`; load it with `ATTUNE_MODELS_DIR=<parent folder>` (no opt-in "
        "needed: the runtime reads this declaration from meta.json).",
    ]
