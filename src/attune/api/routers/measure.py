"""Measurement API: experiments (define, start, read out, hard stops), KPIs, heatmap, churn,
model quality, ROI and power. Reports come as JSON, or as self-contained HTML with
``?format=html`` (heatmap also ``csv``)."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, PlainTextResponse, Response
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from attune.api.deps import require_scope
from attune.measure import load, registry
from attune.measure import power as power_calc
from attune.measure.experiments import ExperimentDefinition
from attune.measure.filters import Filters
from attune.measure.heatmap import heatmap, to_csv
from attune.measure.kpis import kpis
from attune.measure.reports import (
    ReportError,
    churn_aggregate,
    churn_report,
    disparity_report,
    experiment_report,
    finite,
    heatmap_report,
    journey_report,
    models_report,
    render_html,
    roi_from_experiment,
)
from attune.measure.roi import RoiInput, roi, value_inputs
from attune.measure.sequential import obf_boundaries
from attune.measure.stopper import enforce_hard_stops

router = APIRouter(prefix="/v1", tags=["measure"], dependencies=[Depends(require_scope("analyst"))])
Format = Literal["json", "html"]


def _store(request: Request) -> Any:
    engine = getattr(request.app.state, "engine", None)
    if engine is not None and hasattr(engine, "flush"):
        engine.flush()  # outcomes buffered in the engine count too
    return request.app.state.store


def _out(kind: str, report: dict[str, Any], fmt: str, title: str) -> Response | dict[str, Any]:
    if fmt == "html":
        return HTMLResponse(render_html(kind, report, title))
    return finite(report)


@router.post("/experiments", summary="Register an experiment definition (before it starts)")
def create_experiment(body: dict[str, Any], request: Request) -> dict[str, Any]:
    try:
        d = ExperimentDefinition.from_dict(body)
        fingerprint = registry.register(request.app.state.store, d)
    except ValueError as exc:
        raise HTTPException(422, str(exc)) from exc
    return {"id": d.id, "fingerprint": fingerprint, "status": "draft"}


@router.post("/experiments/{experiment_id}/start", summary="Freeze the definition and start")
def start_experiment(experiment_id: str, request: Request) -> dict[str, Any]:
    try:
        registry.start(request.app.state.store, experiment_id)
    except registry.ExperimentError as exc:
        raise HTTPException(409, str(exc)) from exc
    return {"id": experiment_id, "status": "running"}


@router.get(
    "/experiments/{experiment_id}/report",
    response_model=None,
    summary="Read-out: lifts, Bayes, CUPED, sequential, SRM, segments, hard stops",
)
def get_experiment_report(
    experiment_id: str, request: Request, format: Format = "json"
) -> Response | dict[str, Any]:
    try:
        rep = experiment_report(_store(request), experiment_id)
    except ReportError as exc:
        raise HTTPException(404, str(exc)) from exc
    return _out("experiment", rep, format, f"Experiment {experiment_id}")


@router.post(
    "/experiments/{experiment_id}/hard-stop-check",
    summary="Check guardrails now; on a breach stop the adaptive arm, audit, announce",
)
async def hard_stop_check(experiment_id: str, request: Request) -> dict[str, Any]:
    state = request.app.state
    result: dict[str, Any] = await run_in_threadpool(
        enforce_hard_stops, state.engine, _store(request), experiment_id, None
    )
    webhooks = getattr(state, "webhooks", None)
    if result.get("applied") and webhooks is not None:
        webhooks.fire("experiment.hard_stop", result["announcement"])  # on the event loop
    return finite(result)


@router.get("/experiments", summary="Registered experiments and their status")
def list_experiments(request: Request) -> dict[str, Any]:
    return {"experiments": registry.list_rows(request.app.state.store)}


@router.get("/measure/kpis", summary="KPIs beside the emotional layer, per group")
def get_kpis(
    request: Request,
    by: str = "moment,arm",
    since: float | None = Query(None, description="epoch seconds, inclusive"),
    until: float | None = Query(None, description="epoch seconds, exclusive"),
    channel: str | None = Query(None, max_length=32),
    segment: str | None = Query(None, max_length=32, description="new or existing"),
    use_case: str | None = Query(None, max_length=64, description="the moment"),
    model_version: str | None = Query(None, max_length=100),
) -> dict[str, Any]:
    keys = [k.strip() for k in by.split(",") if k.strip()]
    if not keys or len(keys) > 4:
        raise HTTPException(422, "give one to four comma-separated fields in 'by'")
    try:
        f = Filters(since, until, channel, segment, use_case, model_version)
    except ValueError as exc:
        raise HTTPException(422, str(exc)) from exc
    out = kpis(f.apply(load.sessions(_store(request))), by=keys)
    out["filters"] = f.to_dict()
    return finite(out)


@router.get("/measure/heatmap", response_model=None, summary="Emotion heatmap and bottlenecks")
def get_heatmap(
    request: Request,
    level: Literal["step", "page", "element"] = "step",
    min_sessions: int = 5,
    format: Literal["json", "html", "csv"] = "json",
) -> Response | dict[str, Any]:
    store = _store(request)
    if format == "csv":
        return PlainTextResponse(
            to_csv(heatmap(load.touches(store), level, min_sessions)), media_type="text/csv"
        )
    return _out(
        "heatmap",
        heatmap_report(store, level, min_sessions),
        format,
        f"Emotion heatmap per {level}",
    )


@router.get("/measure/journey", response_model=None, summary="Journey map: state transitions")
def get_journey(
    request: Request,
    channel: str | None = Query(None, max_length=32),
    max_steps: int = Query(8, ge=2, le=20),
    min_sessions: int = Query(5, ge=1),
    format: Format = "json",
) -> Response | dict[str, Any]:
    rep = journey_report(_store(request), channel, max_steps, min_sessions)
    return _out("journey", rep, format, "Journey map")


@router.get(
    "/measure/churn",
    response_model=None,
    summary="Customers at risk: risk bands for analysts, the list with the read scope",
)
def get_churn(
    request: Request, threshold: float = 0.5, min_sessions: int = 4, format: Format = "json"
) -> Response | dict[str, Any]:
    rep = churn_report(_store(request), None, threshold, min_sessions)
    key = request.state.api_key
    if not key.allows("read"):  # analysts see how many, not who
        return _out("churn", churn_aggregate(rep), format, "Churn early warning")
    rep.pop("all_scores")
    # Per-customer trends are personal data (pseudonymous): the read is audited.
    from attune.api.routers.privacy import services_of

    actor = f"key:{key.name}#{key.id}" if key else "anonymous"
    services_of(request.app).audit.append(
        "personal_data_read",
        actor,
        None,
        {"what": "churn_report", "customers": rep["customers"], "at_risk": len(rep["at_risk"])},
    )
    return _out("churn", rep, format, "Churn early warning")


@router.get("/measure/models", response_model=None, summary="Model quality and fairness")
def get_models(
    request: Request,
    target_precision: float = Query(0.8, gt=0, le=1),
    bound: float = Query(0.1, gt=0, lt=1, description="flag decision gaps above this"),
    min_group: int = Query(30, ge=1, description="groups smaller than this are not compared"),
    format: Format = "json",
) -> Response | dict[str, Any]:
    return _out(
        "models",
        models_report(_store(request), target_precision, bound, min_group),
        format,
        "Model quality from feedback",
    )


@router.get("/measure/disparity", summary="Decisions by group: escalation, offers paused, modes")
def get_disparity(
    request: Request,
    bound: float = Query(0.1, gt=0, lt=1, description="flag gaps above this (absolute)"),
    min_group: int = Query(30, ge=1, description="groups smaller than this are not compared"),
) -> dict[str, Any]:
    return finite(disparity_report(_store(request), bound, min_group))


class RoiBody(BaseModel):
    units_per_period: float = Field(ge=0)
    value_per_unit: float | None = Field(None, ge=0)
    margin_per_period: float | None = Field(None, ge=0, description="for a saved CLV")
    retention: float | None = Field(None, ge=0, lt=1, description="per period, for a CLV")
    uplift: float | None = None
    uplift_ci: tuple[float, float] | None = None
    experiment: str | None = None
    metric: str | None = None
    one_off_cost: float = Field(0.0, ge=0)
    running_cost: float = Field(0.0, ge=0)
    periods: int = Field(12, ge=1, le=600)
    discount_rate: float = Field(0.0, ge=0, le=1)
    effect_decay: float = Field(0.0, ge=0, le=1)
    currency: str = Field("EUR", max_length=8)


@router.post("/measure/roi", response_model=None, summary="ROI and payback from an uplift")
def post_roi(body: RoiBody, request: Request, format: Format = "json") -> Response | dict[str, Any]:
    try:
        value, clv = value_inputs(
            body.value_per_unit, body.margin_per_period, body.retention, body.discount_rate
        )
        if body.experiment:
            rep = roi_from_experiment(
                _store(request),
                body.experiment,
                body.units_per_period,
                value,
                body.one_off_cost,
                body.running_cost,
                body.periods,
                body.metric,
                discount_rate=body.discount_rate,
                effect_decay=body.effect_decay,
                clv=clv,
            )
        elif body.uplift is not None and body.uplift_ci is not None:
            rep = roi(
                RoiInput(
                    body.units_per_period,
                    body.uplift,
                    body.uplift_ci,
                    value,
                    body.one_off_cost,
                    body.running_cost,
                    body.periods,
                    currency=body.currency,
                    discount_rate=body.discount_rate,
                    effect_decay=body.effect_decay,
                    clv=clv,
                )
            ).to_dict()
        else:
            raise HTTPException(422, "give 'experiment', or 'uplift' with 'uplift_ci'")
    except ReportError as exc:
        raise HTTPException(404, str(exc)) from exc
    except ValueError as exc:
        raise HTTPException(422, str(exc)) from exc
    return _out("roi", rep, format, "Return on investment")


@router.get("/measure/power", summary="Sample size per arm for a proportion metric")
def get_power(
    baseline: float,
    mde_relative: float,
    alpha: float = 0.05,
    power: float = 0.8,
    treatment_share: float = 0.5,
    looks: int = Query(0, ge=0, le=10, description="interim looks for O'Brien-Fleming bounds"),
) -> dict[str, Any]:
    if not 0 < treatment_share < 1:
        raise HTTPException(422, "treatment_share must be in (0, 1)")
    try:
        plan = power_calc.sample_size_proportions(
            baseline, mde_relative, alpha, power, treatment_share / (1 - treatment_share)
        )
        out = plan.to_dict()
        if looks:
            fractions = [(k + 1) / looks for k in range(looks)]
            out["obf_boundaries"] = {
                "information_fractions": fractions,
                "z": obf_boundaries(fractions, alpha),
            }
    except ValueError as exc:
        raise HTTPException(422, str(exc)) from exc
    return out
