"""CLI commands of the trust area: PII evaluation, audit, retention, subject rights, governance."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from attune.cli.groups import app, eval_app, fail
from attune.signals import registry

if TYPE_CHECKING:  # imported lazily at run time: the CLI starts fast
    from attune.config import Settings
    from attune.policy.approval import Governance
    from attune.policy.loader import LoadedPlaybook
    from attune.privacy.services import PrivacyServices

# The labelled set lives in the source checkout (not in the installed package): found from the
# package's location, whatever the working folder.
CHECKOUT_PII_SET = Path(__file__).resolve().parents[3] / "tests" / "data" / "pii" / "pii_set.jsonl"


def _emit(obj: object) -> None:
    sys.stdout.write(json.dumps(obj, ensure_ascii=False, default=str) + "\n")


@eval_app.command("pii")
def eval_pii(
    data: Annotated[
        Path | None,
        typer.Option(
            help="labelled JSONL: text, locale, entities (default: the checkout's "
            "tests/data/pii/pii_set.jsonl)"
        ),
    ] = None,
    names: Annotated[
        str, typer.Option(help="person names: auto (ner when installed) | patterns | ner | off")
    ] = "auto",
    as_json: Annotated[bool, typer.Option("--json", help="one JSON object on stdout")] = False,
) -> None:
    """Precision and recall of PII redaction per entity type."""
    from attune.privacy.pii_eval import evaluate, load
    from attune.privacy.redaction import Redactor

    if names not in ("auto", "patterns", "ner", "off"):
        fail(f"--names must be auto, patterns, ner or off, not {names!r}")
    if data is None:
        if not CHECKOUT_PII_SET.is_file():
            fail("give --data FILE: the labelled PII set ships with a source checkout only")
        data = CHECKOUT_PII_SET
    if not data.exists():
        fail(f"{data} does not exist")
    try:
        rows = load(data)
        redactor = Redactor(names=names)  # type: ignore[arg-type]
    except (ValueError, RuntimeError) as exc:
        fail(str(exc))
    result = evaluate(rows, redactor)
    if as_json:
        _emit(result)
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(
        title=f"PII redaction on {data} ({result['examples']} examples, "
        f"{result['ms_per_message']} ms/message)"
    )
    for col in ("type", "support", "precision", "recall", "masked", "false pos."):
        table.add_column(col)
    for kind, m in result["per_type"].items():
        table.add_row(
            kind,
            str(m["support"]),
            str(m["precision"]),
            str(m["recall"]),
            str(m["masked"]),
            str(m["false_positives"]),
        )
    Console().print(table)


# -- shared plumbing --------------------------------------------------------------------------
audit_app = typer.Typer(help="The hash-chained audit log.", no_args_is_help=True)
governance_app = typer.Typer(help="Playbook approval and the DPIA draft.", no_args_is_help=True)
consent_app = typer.Typer(
    help="Consent ledger (per subject, modality, purpose).", no_args_is_help=True
)
app.add_typer(audit_app, name="audit")
app.add_typer(governance_app, name="governance")
app.add_typer(consent_app, name="consent")
DB = typer.Option(None, "--db", help="database URL (default: ATTUNE_DATABASE_URL / config)")
ACTOR = typer.Option(None, "--actor", help="who runs this (recorded in the audit log)")


def _actor(actor: str | None) -> str:
    import getpass

    return actor or f"cli:{getpass.getuser()}"


def _settings(database_url: str | None) -> Settings:
    from attune.config import load_settings

    return load_settings(**({"database_url": database_url} if database_url else {}))


def _services(database_url: str | None) -> PrivacyServices:
    from attune.assembly import build_privacy_only

    settings = _settings(database_url)
    try:
        return build_privacy_only(settings)
    except Exception as exc:  # a clean line, not a traceback
        fail(f"cannot open {settings.database_url.split('@')[-1]}: {exc}")


def _governance(svc: PrivacyServices) -> Governance:
    from attune.policy.approval import Governance

    return Governance(svc.store, svc.audit, svc.clock)


def _subjects(svc: PrivacyServices, subject: str, is_pseudonym: bool) -> list[str]:
    return [subject] if is_pseudonym else svc.pseudonymize.all(subject)


# -- retention ----------------------------------------------------------------------------------
@app.command("purge")
def purge(
    database_url: str | None = DB,
    now: Annotated[float | None, typer.Option(help="purge as of this epoch time")] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Delete everything past its retention TTL (per data class)."""
    svc = _services(database_url)
    counts = svc.retention.purge(now)
    if as_json:
        _emit({"deleted": counts})
    else:
        for name, n in counts.items():
            typer.echo(f"{name:20s} {n:8d} rows deleted")


# -- audit ----------------------------------------------------------------------------------
@audit_app.command("verify")
def audit_verify(
    database_url: str | None = DB,
    anchor: Annotated[str | None, typer.Option(help="SEQ:HASH noted earlier (audit head)")] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Check the hash chain; names the first edited, deleted or reordered entry (exit 1)."""
    parsed = None
    if anchor:
        seq, _, digest = anchor.partition(":")
        if not seq.isdigit() or len(digest) != 64:
            fail("--anchor must look like SEQ:HASH (from 'attune audit head')")
        parsed = (int(seq), digest)
    verdict = _services(database_url).audit.verify(parsed)
    if as_json:
        _emit(verdict.to_dict())
    elif verdict.ok:
        typer.echo(f"audit log intact: {verdict.checked} entries verified")
    else:
        typer.echo(
            f"audit log BROKEN at entry {verdict.bad_seq}: {verdict.problem} "
            f"({verdict.checked} entries before it verified)",
            err=True,
        )
    if not verdict.ok:
        raise typer.Exit(1)


@audit_app.command("head")
def audit_head(database_url: str | None = DB) -> None:
    """Print SEQ:HASH of the last entry: keep it elsewhere as an anchor against truncation."""
    seq, digest = _services(database_url).audit.head()
    typer.echo(f"{seq}:{digest}")


# -- subject rights ---------------------------------------------------------------------------
@app.command("export")
def export(
    subject: Annotated[str, typer.Argument(help="the customer's user/anonymous id")],
    pseudonym: Annotated[bool, typer.Option(help="SUBJECT is already a pseudonym")] = False,
    out: Annotated[Path | None, typer.Option(help="write the JSON here")] = None,
    database_url: str | None = DB,
    actor: str | None = ACTOR,
) -> None:
    """Everything held about a subject, as JSON (audited)."""
    from attune.privacy import rights

    svc = _services(database_url)
    data = rights.export(svc, _subjects(svc, subject, pseudonym), _actor(actor))
    text = json.dumps(data, ensure_ascii=False, default=str, indent=2)
    if out:
        out.write_text(text + "\n", encoding="utf-8")
        typer.echo(f"wrote {out}", err=True)
    else:
        sys.stdout.write(text + "\n")


@app.command("erase")
def erase(
    subject: Annotated[str, typer.Argument(help="the customer's user/anonymous id")],
    pseudonym: Annotated[bool, typer.Option(help="SUBJECT is already a pseudonym")] = False,
    yes: Annotated[bool, typer.Option("--yes", help="do not ask")] = False,
    database_url: str | None = DB,
    actor: str | None = ACTOR,
) -> None:
    """Erase a subject everywhere; later events for it are dropped (audited)."""
    from attune.privacy import rights

    if not yes:
        typer.confirm("Erase this subject everywhere? This cannot be undone", abort=True)
    svc = _services(database_url)
    counts = rights.erase(svc, _subjects(svc, subject, pseudonym), _actor(actor))
    _emit({"ok": True, "deleted": counts})


@app.command("explain")
def explain(
    decision_id: Annotated[str, typer.Argument()],
    database_url: str | None = DB,
    actor: str | None = ACTOR,
) -> None:
    """Explain one decision: state, signals with evidence, playbook version (audited)."""
    from attune.privacy import rights

    out = rights.explain(_services(database_url), decision_id, _actor(actor))
    if out is None:
        fail(f"no decision {decision_id!r}")
    _emit(out)


# -- consent -------------------------------------------------------------------------------
def _consent(
    subject: str,
    modalities: list[str],
    granted: bool,
    source: str,
    text_version: str | None,
    database_url: str | None,
    actor: str | None,
) -> None:
    svc = _services(database_url)
    try:
        consent = svc.change_consent(
            svc.subject(subject),
            modalities,
            granted,
            _actor(actor),
            source=source,
            text_version=text_version,
        )
    except ValueError as exc:
        fail(str(exc))
    _emit(consent)


@consent_app.command("grant")
def consent_grant(
    subject: str,
    modalities: list[str],
    source: str = "cli",
    text_version: str | None = None,
    database_url: str | None = DB,
    actor: str | None = ACTOR,
) -> None:
    """Record a consent (e.g. one given on paper or by phone)."""
    _consent(subject, modalities, True, source, text_version, database_url, actor)


@consent_app.command("revoke")
def consent_revoke(
    subject: str,
    modalities: list[str],
    source: str = "cli",
    text_version: str | None = None,
    database_url: str | None = DB,
    actor: str | None = ACTOR,
) -> None:
    """Record a withdrawal: effective on the next event, raw data of the modality purged."""
    _consent(subject, modalities, False, source, text_version, database_url, actor)


@consent_app.command("show")
def consent_show(subject: str, database_url: str | None = DB) -> None:
    """Current consent and full history of a subject."""
    svc = _services(database_url)
    pn = svc.subject(subject)
    _emit(
        {
            "now": {m: svc.ledger.reason(pn, m) for m in registry.names()},
            "history": [r.to_dict() | {"subject": None} for r in svc.ledger.history(pn)],
        }
    )


# -- governance -------------------------------------------------------------------------------
def _playbook(path: Path) -> LoadedPlaybook:
    from attune.policy.loader import PlaybookError, load_playbook

    try:
        return load_playbook(path)
    except (PlaybookError, OSError) as exc:
        fail(str(exc))


@governance_app.command("submit")
def governance_submit(
    playbook: Path, database_url: str | None = DB, actor: str | None = ACTOR
) -> None:
    """Submit a playbook version for review as --actor (it stays inactive until approved).
    The submitter is who runs this, never the playbook's 'author' field."""
    from attune.policy.approval import GovernanceError

    svc = _services(database_url)
    try:
        row = _governance(svc).submit(_playbook(playbook), _actor(actor), via="cli")
    except GovernanceError as exc:
        fail(str(exc))
    _emit(row)


@governance_app.command("approve")
def governance_approve(
    playbook: Path,
    actor: Annotated[
        str | None,
        typer.Option(
            "--actor",
            "--approver",
            help="who approves: a person holding the approver role "
            "('attune keys create NAME --scope approver'), not the submitter",
        ),
    ] = None,
    database_url: str | None = DB,
) -> None:
    """Approve a submitted playbook version; the submitter may not approve their own."""
    from attune.api.keys import KeyRing
    from attune.policy.approval import GovernanceError

    svc = _services(database_url)
    approver = _actor(actor)
    has_role = KeyRing(svc.store).holds(approver, "approver")
    try:
        row = _governance(svc).approve(_playbook(playbook), approver, has_role=has_role, via="cli")
    except GovernanceError as exc:
        fail(str(exc))
    _emit(row)


@governance_app.command("report")
def governance_report(
    database_url: str | None = DB,
    fmt: Annotated[str, typer.Option("--format", help="md | json")] = "md",
    out: Annotated[Path | None, typer.Option(help="write here instead of stdout")] = None,
) -> None:
    """Draft the record of processing and a DPIA skeleton from the live configuration."""
    from attune.policy.loader import PlaybookError, load_dir
    from attune.policy.processing_record import draft, to_markdown

    if fmt not in ("md", "json"):
        fail("--format must be md or json")
    svc = _services(database_url)
    settings = _settings(database_url)
    try:
        playbooks = load_dir(settings.playbook_dir)
    except PlaybookError as exc:
        fail(str(exc))
    report = draft(
        settings,
        playbooks,
        _governance(svc),
        {m: registry.spec(m).analyzer for m in registry.enabled(settings.modalities)},
    )
    text = (
        json.dumps(report, ensure_ascii=False, indent=2, default=str)
        if fmt == "json"
        else to_markdown(report)
    )
    if out:
        out.write_text(text + "\n", encoding="utf-8")
        typer.echo(f"wrote {out}", err=True)
    else:
        sys.stdout.write(text + "\n")
