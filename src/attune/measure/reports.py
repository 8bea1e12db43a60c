"""Reports: experiment read-out, heatmap, churn, model quality and ROI as JSON-ready dicts,
and each as one self-contained HTML page (inline SVG charts, no scripts, no CDN)."""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape

from attune.measure import load, svg
from attune.measure.churn import churn_warning
from attune.measure.defaults import checkout_definition
from attune.measure.disparity import disparity
from attune.measure.experiments import TREATMENT, ExperimentDefinition
from attune.measure.heatmap import Level, bottlenecks, heatmap
from attune.measure.journey import journey_by_channel
from attune.measure.kpis import kpis
from attune.measure.quality import drift_by_family, quality_report
from attune.measure.readout import readout
from attune.measure.roi import RoiInput, roi, uplift_from_lift
from attune.measure.sankey import sankey
from attune.measure.srm import srm_check
from attune.signals.taxonomy import CX_STATES
from attune.storage.store import Store

TEMPLATES = Path(__file__).parent / "templates"


class ReportError(ValueError):
    pass


def finite(obj: Any) -> Any:
    """JSON has no Infinity/NaN: undefined figures (a ratio over zero) become null."""
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: finite(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [finite(v) for v in obj]
    return obj


def experiment_report(
    store: Store, experiment_id: str, definition: ExperimentDefinition | None = None
) -> dict[str, Any]:
    from attune.measure import registry

    known = registry.known_ids(store)  # empty for data written without exposures
    if definition is None and known and experiment_id not in known:
        raise ReportError(
            f"no experiment {experiment_id!r} in this database (it has: {', '.join(sorted(known))})"
        )
    d = definition or registry.definition(store, experiment_id)
    note = None
    if d is None:
        d = checkout_definition(experiment_id)
        note = (
            "no definition was registered for this experiment; read with the standard "
            "checkout definition (primary: dropout; guardrails: dropout +20 %, "
            "frustrated share +30 %)"
        )
    records, earlier = load.experiment_sessions(store, experiment_id)
    row = registry.get_row(store, experiment_id)
    if row and row["status"] == "stopped" and records:
        # After a hard stop every new subject goes to control; those sessions are not part of
        # the randomised comparison. The last adaptive session marks the stop in event time.
        last = max((r.started_at for r in records if r.arm == TREATMENT), default=None)
        if last is not None:
            records = [r for r in records if r.started_at <= last]
    if not records:
        raise ReportError(f"no sessions with an experiment arm in the store for {experiment_id!r}")
    out = readout(d, load.units(records, earlier))
    exposures = registry.exposure_counts(store, experiment_id)
    if not exposures:  # older data: sessions carry arms, exposures were never logged
        registry.backfill_exposures(store, experiment_id)
        exposures = registry.exposure_counts(store, experiment_id)
    if sum(exposures.values()):
        out["srm_exposures"] = srm_check(
            {a: exposures.get(a, 0) for a in d.split}, d.split
        ).to_dict()
    out["kpis"] = kpis(records, by=("arm",))
    out["status"] = row["status"] if row else "unregistered"
    if note:
        out["note"] = note
    return out


def roi_from_experiment(
    store: Store,
    experiment_id: str,
    units_per_period: float,
    value_per_unit: float,
    one_off_cost: float = 0.0,
    running_cost: float = 0.0,
    periods: int = 12,
    metric: str | None = None,
    discount_rate: float = 0.0,
    effect_decay: float = 0.0,
    clv: dict[str, float] | None = None,
) -> dict[str, Any]:
    rep = experiment_report(store, experiment_id)
    name = metric or rep["experiment"]["primary"]["name"]
    m = rep.get("metrics", {}).get(name)
    if not m or "frequentist" not in m:
        raise ReportError(f"metric {name!r} has no read-out in experiment {experiment_id!r}")
    up, ci = uplift_from_lift(m["frequentist"], m["higher_is_better"])
    result = roi(
        RoiInput(
            units_per_period,
            up,
            ci,
            value_per_unit,
            one_off_cost,
            running_cost,
            periods,
            baseline=m["frequentist"]["control"],
            discount_rate=discount_rate,
            effect_decay=effect_decay,
            clv=clv,
        )
    ).to_dict()
    result["source"] = {"experiment": experiment_id, "metric": name}
    return result


def heatmap_report(store: Store, level: Level = "step", min_sessions: int = 5) -> dict[str, Any]:
    cells = heatmap(load.touches(store), level, min_sessions)
    return {
        "level": level,
        "cells": [c.to_dict() for c in cells],
        "bottlenecks": bottlenecks(cells),
    }


def journey_report(
    store: Store, channel: str | None = None, max_steps: int = 8, min_sessions: int = 5
) -> dict[str, Any]:
    return journey_by_channel(load.journey_sessions(store), max_steps, min_sessions, channel)


def churn_report(
    store: Store, now: float | None = None, threshold: float = 0.5, min_sessions: int = 4
) -> dict[str, Any]:
    out = churn_warning(load.customer_sessions(store), now or time.time(), threshold, min_sessions)
    out["all_scores"] = [c["risk"] for c in out["all"]]
    out["all"] = out["all"][:200]  # the list at risk is complete; the rest is a preview
    return out


def churn_aggregate(report: dict[str, Any]) -> dict[str, Any]:
    """The churn report without anyone in it: counts per risk band, for keys that may read
    aggregates only (analyst). The per-customer list needs the ``read`` scope."""
    bands = {f"{lo}-{lo + 20}%": 0 for lo in range(0, 100, 20)}
    for c in report["all_scores"]:
        lo = min(int(c * 5), 4) * 20
        bands[f"{lo}-{lo + 20}%"] += 1
    return {
        "customers": report["customers"],
        "threshold": report["threshold"],
        "skipped_few_sessions": report["skipped_few_sessions"],
        "skipped_few_weeks": report["skipped_few_weeks"],
        "rule": report["rule"],
        "horizon_months": report["horizon_months"],
        "calibration": report["calibration"],
        "at_risk_count": len(report["at_risk"]),
        "risk_bands": bands,
        "per_customer": "needs an API key with the 'read' scope",
    }


def disparity_report(store: Store, bound: float = 0.1, min_group: int = 30) -> dict[str, Any]:
    return disparity(load.decision_records(store), bound, min_group)


def models_report(
    store: Store, target_precision: float = 0.8, bound: float = 0.1, min_group: int = 30
) -> dict[str, Any]:
    out = quality_report(load.judgements(store), target_precision)
    out["decision_disparity"] = disparity_report(store, bound, min_group)
    drift = {name: drift_by_family(by) for name, by in load.signal_scores(store).items()}
    out["signal_drift"] = {name: d for name, d in drift.items() if d}
    return out


# -- HTML -------------------------------------------------------------------------------------


def _pct(v: Any) -> str:
    return "–" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{v:.1%}"


def _num(v: Any) -> str:
    if v is None:
        return "–"
    if isinstance(v, float):
        return f"{v:,.4g}" if abs(v) < 1e6 else f"{v:,.0f}"
    return str(v)


def _charts(kind: str, r: dict[str, Any]) -> list[str]:
    charts: list[str] = []
    if kind == "experiment" and "metrics" in r:
        items, ivs = [], []
        for name, m in r["metrics"].items():
            if "frequentist" in m:
                f = m["frequentist"]
                items.append((name, f["relative"]))
                ivs.append(tuple(f["relative_ci"]))
        charts.append(svg.bars(items, "Relative lift, adaptive vs control (95% CI)", True, ivs))
        seq = [(s["estimate"], s["ci"][0], s["ci"][1]) for s in r.get("sequential", [])]
        charts.append(svg.band(seq, "Primary metric: always-valid confidence sequence"))
    elif kind == "heatmap":
        cells = r["cells"][:15]
        charts.append(
            svg.bars(
                [(c["touchpoint"], c["negative_share"]) for c in cells],
                "Share of sessions in a negative state",
                True,
                color="#d0504a",
            )
        )
    elif kind == "journey":
        charts.append(sankey(r))
        for channel, sub in r.get("by_channel", {}).items():
            charts.append(sankey(sub, f"Channel {channel}: how states change from step to step"))
    elif kind == "churn" and "at_risk" in r:
        top = r["at_risk"][:15]
        charts.append(
            svg.bars(
                [(c["customer"][:12], c["risk"]) for c in top],
                "Customers at risk",
                True,
                color="#d0504a",
            )
        )
    elif kind == "models":
        bins = r["calibration"]["bins"]
        charts.append(
            svg.bars(
                [(f"conf {b['confidence']:.2f}", b["accuracy"]) for b in bins],
                "Reliability: accuracy per confidence bin",
                True,
            )
        )
        ps = r["per_state"]
        charts.append(
            svg.bars(
                [(s, ps[s]["precision"]) for s in CX_STATES if ps[s]["precision"] is not None],
                "Precision per state",
                True,
            )
        )
    elif kind == "roi":
        cases = [(k, r[k]["net"]) for k in ("conservative", "expected", "optimistic")]
        charts.append(
            svg.bars(
                cases, f"Net over {r['inputs']['periods']} periods ({r['inputs']['currency']})"
            )
        )
    return [c for c in charts if c]


def render_html(kind: str, report: dict[str, Any], title: str | None = None) -> str:
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]))
    env.filters["pct"] = _pct
    env.filters["num"] = _num
    env.globals["heat"] = svg.heat_color
    return env.get_template("report.html").render(
        kind=kind,
        r=report,
        charts=_charts(kind, report),
        states=CX_STATES,
        title=title or f"Attune {kind} report",
        generated=time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
    )
