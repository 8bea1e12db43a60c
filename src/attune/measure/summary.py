"""The experiment read-out and ROI that ``attune demo`` prints at the end of its simulation.

Hook for the demo: ``demo_readout(Store(url), "demo-checkout")`` returns a dict with the
verdict, the primary metric's lift, the checks and a ROI under stated assumptions; then
``print_readout(console, result)`` prints it.
"""

from __future__ import annotations

from typing import Any

from attune.measure.reports import ReportError, experiment_report, roi_from_experiment
from attune.storage.store import Store

# Stated assumptions for the demo ROI (a mid-size shop): sessions per month reaching checkout,
# margin per saved checkout, one-off integration cost and running cost per month.
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
        "verdict": rep.get("verdict"),
        "units": rep["units"],
    }
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
        out["srm_alert"] = rep["srm"]["alert"]
        out["hard_stop"] = rep["hard_stop"]["stop"]
        try:
            roi = roi_from_experiment(store, experiment_id, **DEMO_ROI)  # type: ignore[arg-type]
            out["roi"] = {
                "assumptions": DEMO_ROI,
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
    roi = r.get("roi") or {}
    if "summary" in roi:
        a = roi["assumptions"]
        console.print(
            f"ROI assuming {a['units_per_period']:,} checkouts a month and "
            f"{a['value_per_unit']:.0f} per saved checkout, {a['one_off_cost']:,.0f} "
            f"one-off and {a['running_cost']:,.0f} a month: {roi['summary']}"
        )
