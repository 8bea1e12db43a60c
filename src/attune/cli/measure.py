"""CLI commands of the measure area: the abandonment model, reports and ROI."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import typer

from attune.cli.groups import app, console, fail, report_app


def _emit(obj: Any) -> None:
    from attune.measure.reports import finite

    sys.stdout.write(json.dumps(finite(obj), default=str) + "\n")


def _store(database_url: str | None) -> Any:
    from attune.config import load_settings
    from attune.storage.store import Store

    url = database_url or load_settings().database_url
    if "://" not in url:  # a bare SQLite file name
        path = Path(url)
        if not path.is_file():
            fail(f"no database file {path}")
        url = f"sqlite:///{path.resolve()}"
    elif url.startswith("sqlite:///") and not Path(url.removeprefix("sqlite:///")).is_file():
        fail(f"no database file {url.removeprefix('sqlite:///')}")
    return Store(url)


def _write(kind: str, report: dict[str, Any], fmt: str, out: Path | None, title: str) -> None:
    from attune.measure.reports import finite, render_html

    if fmt not in ("json", "html", "csv"):
        fail(f"unknown format {fmt!r}: use json or html")
    if fmt == "html":
        text = render_html(kind, report, title)
    elif fmt == "csv":
        text = report["_csv"]
    else:
        text = json.dumps(finite({k: v for k, v in report.items() if k != "_csv"}), default=str)
    if out:
        out.write_text(text if text.endswith("\n") else text + "\n")
        console.print(f"{kind} report written to {out}")
    else:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")


DB = typer.Option(None, "--db", help="Database URL or SQLite file (default: settings)")
FMT = typer.Option("json", "--format", "-f", help="json or html")
OUT = typer.Option(None, "--out", "-o", help="write to this file instead of stdout")


@report_app.command("experiment")
def report_experiment(
    experiment_id: str = typer.Argument(..., help="experiment id, e.g. demo-checkout"),
    definition: Path | None = typer.Option(None, help="definition JSON (else the registry)"),
    database_url: str | None = DB,
    fmt: str = FMT,
    out: Path | None = OUT,
) -> None:
    """Experiment read-out: lifts with CIs, Bayes, CUPED, sequential, SRM, segments, stops."""
    from attune.measure.experiments import ExperimentDefinition
    from attune.measure.reports import ReportError, experiment_report

    d = None
    if definition is not None:
        try:
            d = ExperimentDefinition.from_dict(json.loads(definition.read_text()))
        except (OSError, ValueError) as exc:
            fail(f"cannot read the definition {definition}: {exc}")
    try:
        rep = experiment_report(_store(database_url), experiment_id, d)
    except ReportError as exc:
        fail(str(exc))
    _write("experiment", rep, fmt, out, f"Experiment {experiment_id}")


@report_app.command("heatmap")
def report_heatmap(
    level: str = typer.Option("step", help="step, page or element"),
    min_sessions: int = typer.Option(5, min=1, help="hide touchpoints with fewer sessions"),
    database_url: str | None = DB,
    fmt: str = typer.Option("json", "--format", "-f", help="json, html or csv"),
    out: Path | None = OUT,
) -> None:
    """Emotion heatmap per touchpoint and the ranked emotional bottlenecks."""
    from attune.measure.heatmap import heatmap, to_csv
    from attune.measure.load import touches
    from attune.measure.reports import heatmap_report

    if level not in ("step", "page", "element"):
        fail(f"level must be step, page or element, not {level!r}")
    store = _store(database_url)
    rep = heatmap_report(store, level, min_sessions)  # type: ignore[arg-type]
    if fmt == "csv":
        rep["_csv"] = to_csv(heatmap(touches(store), level, min_sessions))  # type: ignore[arg-type]
    _write("heatmap", rep, fmt, out, f"Emotion heatmap per {level}")


@report_app.command("journey")
def report_journey(
    channel: str | None = typer.Option(None, help="only this channel"),
    max_steps: int = typer.Option(8, min=2, max=20),
    min_sessions: int = typer.Option(5, min=1, help="steps with fewer sessions are left out"),
    database_url: str | None = DB,
    fmt: str = FMT,
    out: Path | None = OUT,
) -> None:
    """Journey map: per step, how states change on the way there, per channel (SVG + table)."""
    from attune.measure.reports import journey_report

    rep = journey_report(_store(database_url), channel, max_steps, min_sessions)
    _write("journey", rep, fmt, out, "Journey map")


@report_app.command("churn")
def report_churn(
    threshold: float = typer.Option(0.5, min=0.0, max=1.0, help="risk that counts as at risk"),
    now: float | None = typer.Option(None, help="reference time, epoch seconds (default: now)"),
    min_sessions: int = typer.Option(4, min=1),
    database_url: str | None = DB,
    fmt: str = FMT,
    out: Path | None = OUT,
) -> None:
    """Customers whose emotional trend over the weeks says they may leave, with evidence."""
    from attune.measure.reports import churn_report

    rep = churn_report(_store(database_url), now, threshold, min_sessions)
    _write("churn", rep, fmt, out, "Churn early warning")


@report_app.command("models")
def report_models(
    target_precision: float = typer.Option(0.8, min=0.01, max=1.0),
    bound: float = typer.Option(
        0.1, min=0.001, max=0.999, help="flag a decision gap between groups above this"
    ),
    min_group: int = typer.Option(30, min=1, help="groups smaller than this are not compared"),
    database_url: str | None = DB,
    fmt: str = FMT,
    out: Path | None = OUT,
) -> None:
    """Model quality from people's feedback: precision/recall, calibration, groups, drift per
    model version, and decision disparity between groups."""
    from attune.measure.reports import models_report

    rep = models_report(_store(database_url), target_precision, bound, min_group)
    _write("models", rep, fmt, out, "Model quality from feedback")


@app.command("roi")
def roi_command(
    units_per_period: float = typer.Option(..., help="sessions or customers per period"),
    value_per_unit: float | None = typer.Option(None, help="money per unit of the metric"),
    margin_per_period: float | None = typer.Option(
        None, help="margin per customer and period: the unit's value becomes a saved CLV"
    ),
    retention: float | None = typer.Option(
        None, min=0.0, max=0.9999, help="share of customers kept per period (1 - churn), for CLV"
    ),
    uplift: float | None = typer.Option(None, help="absolute uplift per unit (if no experiment)"),
    ci_low: float | None = typer.Option(None, help="lower bound of the uplift's interval"),
    ci_high: float | None = typer.Option(None, help="upper bound of the uplift's interval"),
    experiment: str | None = typer.Option(None, help="take the uplift from this experiment"),
    metric: str | None = typer.Option(None, help="experiment metric (default: primary)"),
    one_off_cost: float = typer.Option(0.0, min=0.0),
    running_cost: float = typer.Option(0.0, min=0.0, help="per period"),
    periods: int = typer.Option(12, min=1),
    discount_rate: float = typer.Option(0.0, min=0.0, max=1.0, help="per period"),
    effect_decay: float = typer.Option(
        0.0, min=0.0, max=1.0, help="share of the uplift lost per period"
    ),
    currency: str = typer.Option("EUR"),
    database_url: str | None = DB,
    fmt: str = FMT,
    out: Path | None = OUT,
) -> None:
    """ROI and payback from a measured uplift (optionally as saved CLV, discounted, with a
    fading effect); conservative case from the CI lower bound; all inputs echoed."""
    from attune.measure.reports import ReportError, roi_from_experiment
    from attune.measure.roi import RoiInput, roi, value_inputs

    try:
        value, clv = value_inputs(value_per_unit, margin_per_period, retention, discount_rate)
        if experiment:
            rep = roi_from_experiment(
                _store(database_url),
                experiment,
                units_per_period,
                value,
                one_off_cost,
                running_cost,
                periods,
                metric,
                discount_rate=discount_rate,
                effect_decay=effect_decay,
                clv=clv,
            )
        else:
            if uplift is None or ci_low is None or ci_high is None:
                fail("give --experiment, or --uplift with --ci-low and --ci-high")
            rep = roi(
                RoiInput(
                    units_per_period,
                    uplift,
                    (ci_low, ci_high),
                    value,
                    one_off_cost,
                    running_cost,
                    periods,
                    currency=currency,
                    discount_rate=discount_rate,
                    effect_decay=effect_decay,
                    clv=clv,
                )
            ).to_dict()
    except (ReportError, ValueError) as exc:
        fail(str(exc))
    _write("roi", rep, fmt, out, "Return on investment")


@report_app.command("kpis")
def report_kpis(
    by: str = typer.Option(
        "moment,arm",
        help="comma-separated: moment, arm, channel, device, "
        "customer_type, intensity, model_version",
    ),
    database_url: str | None = DB,
    fmt: str = typer.Option("json", "--format", "-f", help="json (HTML: the experiment report)"),
    out: Path | None = OUT,
) -> None:
    """KPIs per moment (dropout per step, conversion, CSAT/NPS/CES ...) beside the emotions."""
    from attune.measure.kpis import kpis
    from attune.measure.load import sessions

    keys = [k.strip() for k in by.split(",") if k.strip()]
    if not keys:
        fail("give at least one field in --by")
    unknown = [k for k in keys if k not in KPI_FIELDS]
    if unknown:
        fail(f"unknown --by field(s) {', '.join(unknown)}: use {', '.join(KPI_FIELDS)}")
    if fmt != "json":
        fail(f"the KPI report is JSON only, not {fmt!r}; the experiment report has HTML")
    _write("kpis", kpis(sessions(_store(database_url)), by=keys), fmt, out, "KPIs")


KPI_FIELDS = ("moment", "arm", "channel", "device", "customer_type", "intensity", "model_version")


experiment_app = typer.Typer(
    help="Experiments: define before start, start, check hard stops.", no_args_is_help=True
)
app.add_typer(experiment_app, name="experiment")


@experiment_app.command("define")
def experiment_define(
    file: Path = typer.Argument(..., help="definition JSON (id, hypothesis, arms, metrics ...)"),
    database_url: str | None = DB,
) -> None:
    """Register (or, before start, replace) a definition; prints its fingerprint."""
    from attune.measure import registry
    from attune.measure.experiments import ExperimentDefinition

    try:
        d = ExperimentDefinition.from_dict(json.loads(file.read_text()))
        fingerprint = registry.register(_store(database_url), d)
    except (OSError, ValueError) as exc:
        fail(str(exc))
    _emit({"id": d.id, "fingerprint": fingerprint, "status": "draft"})


@experiment_app.command("start")
def experiment_start(experiment_id: str, database_url: str | None = DB) -> None:
    """Freeze the definition: from now on it cannot change."""
    from attune.measure import registry

    try:
        registry.start(_store(database_url), experiment_id)
    except registry.ExperimentError as exc:
        fail(str(exc))
    _emit({"id": experiment_id, "status": "running"})


@experiment_app.command("check-stops")
def experiment_check_stops(experiment_id: str, database_url: str | None = DB) -> None:
    """Check the guardrails on the stored data; on a breach mark the experiment stopped."""
    from attune.measure import registry
    from attune.measure.stopper import enforce_hard_stops

    store = _store(database_url)
    result = enforce_hard_stops(None, store, experiment_id)
    if result.get("stop"):
        console.print("[bold red]hard stop:[/] " + "; ".join(result.get("reasons", [])))
    row = registry.get_row(store, experiment_id)
    _emit(
        {
            **{k: v for k, v in result.items() if k != "announcement"},
            "status": row["status"] if row else "unregistered",
        }
    )


tune_app = typer.Typer(
    help="Feedback-suggested thresholds as a proposed playbook version (approval required).",
    no_args_is_help=True,
)
app.add_typer(tune_app, name="tune")


def _governance(store: Any) -> Any:
    from attune.policy.approval import Governance
    from attune.privacy.audit import AuditLog

    return Governance(store, AuditLog(store))


@tune_app.command("propose")
def tune_propose(
    playbook: Path = typer.Argument(..., help="the playbook YAML now in use"),
    out_dir: Path = typer.Option(Path("playbook-proposals"), "--out", help="proposals folder"),
    target_precision: float = typer.Option(0.8, min=0.01, max=1.0),
    min_support: int = typer.Option(20, min=1, help="judgements needed per state"),
    dry_run: bool = typer.Option(False, help="only show the suggestions"),
    actor: str | None = typer.Option(None, help="who submits the proposal (default: cli:USER)"),
    database_url: str | None = DB,
) -> None:
    """Suggest per-state thresholds from feedback; write and submit them as a new version."""
    from attune.measure import load, tuning
    from attune.policy.approval import GovernanceError
    from attune.policy.loader import PlaybookError, load_playbook

    try:
        lp = load_playbook(playbook)
    except (OSError, PlaybookError) as exc:
        fail(f"cannot load the playbook {playbook}: {exc}")
    store = _store(database_url)
    rows = tuning.suggest(load.judgements(store), lp, target_precision, min_support)
    if dry_run:
        _emit({"suggestions": rows})
        return
    try:
        import getpass

        who = actor or f"cli:{getpass.getuser()}"
        result = tuning.propose(lp, rows, out_dir, _governance(store), who)
    except (GovernanceError, PlaybookError, OSError) as exc:
        fail(str(exc))
    _emit({**result, "suggestions": rows})


@tune_app.command("install")
def tune_install(
    proposal: Path = typer.Argument(..., help="an approved proposal written by 'tune propose'"),
    playbook_dir: Path = typer.Option(..., "--to", help="the playbook folder the service reads"),
    database_url: str | None = DB,
) -> None:
    """Install an approved proposal in place of the version it replaces (refused otherwise)."""
    from attune.measure import tuning
    from attune.policy.approval import GovernanceError
    from attune.policy.loader import PlaybookError

    if not playbook_dir.is_dir():
        fail(f"no playbook folder {playbook_dir}")
    try:
        _emit(tuning.install(proposal, playbook_dir, _governance(_store(database_url))))
    except (GovernanceError, PlaybookError, OSError) as exc:
        fail(str(exc))
