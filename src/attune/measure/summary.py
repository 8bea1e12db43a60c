"""The experiment read-out and ROI that ``attune demo`` prints at the end of its simulation.

Hook for the demo: ``demo_readout(Store(url), "demo-checkout")`` returns a dict with the
verdict, the primary metric's lift, the checks and a ROI under stated assumptions; then
``print_readout(console, result)`` prints it.
"""

from __future__ import annotations

from typing import Any

from attune.measure import registry
from attune.measure.reports import ReportError, experiment_report, roi_from_experiment
from attune.storage.store import Store

# Stated assumptions for the demo ROI (a mid-size shop). The unit is what the experiment counts:
# a shopper who opens a product page (the simulated journey starts at /product, not at the
# checkout); the value is the margin of an order that would otherwise have been abandoned.
UNIT_LABEL = "shoppers a month who open a product page"
DEMO_ROI = {
    "units_per_period": 20_000,
    "value_per_unit": 25.0,
    "one_off_cost": 40_000.0,
    "running_cost": 2_000.0,
    "periods": 12,
}


def demo_readout(store: Store, experiment_id: str = "demo-checkout") -> dict[str, Any]:
    try:
        rep = experiment_report(store, experiment_id)
    except ReportError as exc:
        return {"error": str(exc)}
    primary = rep["experiment"]["primary"]["name"]
    out: dict[str, Any] = {
        "experiment": experiment_id,
        "status": rep.get("status"),
        "verdict": rep.get("verdict"),
        "units": rep["units"],
        "hard_stop": None,
    }
    row = registry.get_row(store, experiment_id)
    if row and row["status"] == "stopped":
        out["registry_stop"] = {"reason": row["stop_reason"], "stopped_at": row["stopped_at"]}
        out["hard_stop"] = {"stopped": "the adaptive arm", "reasons": [row["stop_reason"]]}
    m = rep.get("metrics", {}).get(primary, {})
    if "frequentist" in m:
        f = m["frequentist"]
        out["primary"] = {
            "metric": primary,
            "control": f["control"],
            "adaptive": f["treatment"],
            "relative": f["relative"],
            "relative_ci": f["relative_ci"],
            "p_value": f["p_value"],
            "prob_adaptive_better": m["bayesian"]["prob_treatment_better"],
        }
        out["significant"] = f["p_value"] < rep["experiment"]["alpha"]
        out["srm_alert"] = rep["srm"]["alert"]
        out["guardrails"] = rep["hard_stop"]
        cup = m.get("cuped")
        if cup:
            out["cuped"] = {
                "metric": primary,
                "variance_reduction": cup["variance_reduction"],
                "coverage": cup.get("coverage"),
                "pre_period_days": cup.get("pre_period_days"),
                "adjusted_ci": cup["adjusted"]["absolute_ci"],
                "raw_ci": cup["raw"]["absolute_ci"],
                "variance_reduction_by_metric": {
                    name: mm["cuped"]["variance_reduction"]
                    for name, mm in rep["metrics"].items()
                    if mm.get("cuped")
                },
            }
        try:
            roi = roi_from_experiment(store, experiment_id, **DEMO_ROI)  # type: ignore[arg-type]
            out["roi"] = {
                "assumptions": {**DEMO_ROI, "unit": UNIT_LABEL},
                "summary": roi["summary"],
                "expected_roi": roi["expected"]["roi"],
                "conservative_roi": roi["conservative"]["roi"],
                "conservative_payback_months": roi["conservative"]["payback_periods"],
            }
        except (ReportError, ValueError) as exc:
            out["roi"] = {"error": str(exc)}
    return out


def print_readout(console: Any, r: dict[str, Any]) -> None:
    if "error" in r:
        console.print(f"[yellow]No experiment read-out:[/] {r['error']}")
        return
    console.print(f"\n[bold]Experiment {r['experiment']}[/] ({r['units']})")
    console.print(r.get("verdict") or "")
    cup = r.get("cuped")
    if cup:
        console.print(
            f"CUPED on {cup['metric']} with each customer's earlier visits "
            f"({cup['pre_period_days']} days before; {cup['coverage']:.0%} of units have some): "
            f"variance {cup['variance_reduction']:.1%} lower ("
            + ", ".join(f"{k} {v:.1%}" for k, v in cup["variance_reduction_by_metric"].items())
            + ")."
        )
    roi = r.get("roi") or {}
    if "summary" in roi:
        a = roi["assumptions"]
        console.print(
            f"ROI assuming {a['units_per_period']:,} {a['unit']} and "
            f"{a['value_per_unit']:.0f} per saved order, {a['one_off_cost']:,.0f} "
            f"one-off and {a['running_cost']:,.0f} a month: {roi['summary']}"
        )
